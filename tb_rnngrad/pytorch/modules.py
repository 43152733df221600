"""Which submodules a capture watches, and the entries each one gives.

A target is a recurrent module (`nn.RNN`, `nn.LSTM`, `nn.GRU`), a recurrent
cell (`nn.RNNCell`, `nn.LSTMCell`, `nn.GRUCell`, called once per step) or,
named explicitly, any module whose output is (batch, timesteps, channels).
Keys are module paths as `module.named_modules()` spells them
("encoder.lstm"), those of the model inside a data-parallel wrapper
(`wrappers`); the module itself, if it is the target, is keyed by its class
name in lower case ("lstm"). A recurrent module gives one entry per
stacked layer and direction: `<key>`, `<key>/layer_<i>` with num_layers > 1,
and `/forward`, `/backward` for a bidirectional module. A module or cell whose
calls form several independent recurrences (`chains`) gives each its own
`<key>/call_<i>` in place of `<key>`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from torch import nn

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.pytorch.bptt import GATES
from tb_rnngrad.pytorch.wrappers import unwrap

#: What `layers=` accepts for one module: its path or the module itself.
Selector = str | nn.Module

#: The kinds that exist for recurrent modules only.
STATE_KINDS = ("state_gradients", "weight_contributions", "gate_activations")

_CLASS_LABELS = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}
DIRECTIONS = ("forward", "backward")


@dataclasses.dataclass(frozen=True)
class Target:
    """One module the capture watches."""

    key: str
    module: nn.Module
    recurrent: bool


@dataclasses.dataclass(frozen=True)
class Entry:
    """One layer and direction of a recurrent target: one result entry."""

    key: str
    layer: int
    direction: int
    info: LayerInfo


def is_recurrent(module: nn.Module) -> bool:
    """Whether `module` is an nn.RNN, nn.LSTM or nn.GRU, or one of their
    cells (or a subclass)."""
    if is_cell(module):
        return True
    return isinstance(module, nn.RNNBase) and module.mode in GATES


def is_cell(module: nn.Module) -> bool:
    """Whether `module` is an nn.RNNCell, nn.LSTMCell or nn.GRUCell."""
    return isinstance(module, (nn.RNNCell, nn.LSTMCell, nn.GRUCell))


def mode(module: nn.Module) -> str:
    """The `nn.RNNBase.mode` of a recurrent module or of the layer a cell
    steps: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU"."""
    if isinstance(module, nn.LSTMCell):
        return "LSTM"
    if isinstance(module, nn.GRUCell):
        return "GRU"
    if isinstance(module, nn.RNNCell):
        return "RNN_TANH" if module.nonlinearity == "tanh" else "RNN_RELU"
    return module.mode


def recurrent_modules(module: nn.Module) -> list[str]:
    """The keys of the recurrent modules in `module`, in definition order."""
    module, _ = unwrap(module, None)
    return [
        _key(path, sub) for path, sub in module.named_modules() if is_recurrent(sub)
    ]


def resolve(
    module: nn.Module,
    layers: Selector | Sequence[Selector] | None,
    kinds: Sequence[str],
) -> list[Target]:
    """The targets `layers` names in `module`.

    Args:
        module: The model, or a data-parallel wrapper of it (`wrappers`).
        layers: None for every recurrent module; or a module path, a module
            object, or a list of these.
        kinds: The requested kinds (state kinds need recurrent targets).

    Raises:
        CaptureError: A path or module is not in `module`, `module` has no
            recurrent module and `layers` is None, or a state kind is asked
            of a module that is not recurrent.
    """
    module, layers = unwrap(module, layers)
    paths = {id(sub): path for path, sub in module.named_modules()}
    if layers is None:
        found = [
            Target(_key(path, sub), sub, True)
            for path, sub in module.named_modules()
            if is_recurrent(sub)
        ]
        if not found:
            raise CaptureError(
                f"{type(module).__name__} has no nn.RNN, nn.LSTM or nn.GRU "
                "submodule (nor one of their cells), so there is nothing to "
                "capture by default. Name the sequence modules to watch in "
                "layers=, e.g. layers=['encoder']."
            )
        return found
    many = isinstance(layers, (list, tuple))
    selectors = list(layers) if many else [layers]
    targets: list[Target] = []
    for selector in selectors:
        target = _target(module, paths, selector)
        if target.key not in {t.key for t in targets}:
            targets.append(target)
    state_kinds = [kind for kind in kinds if kind in STATE_KINDS]
    for target in targets:
        if state_kinds and not target.recurrent:
            raise CaptureError(
                f"Module '{target.key}' ({type(target.module).__name__}) is not "
                f"recurrent, so it has no state for {state_kinds}: those kinds "
                "exist for nn.RNN, nn.LSTM and nn.GRU. Capture it with "
                "kinds=('gradients', 'activations'), or name only recurrent "
                f"modules ({_listing(module)})."
            )
    return targets


def entries(
    target: Target, key: str | None = None, call_timesteps: Sequence[int] = ()
) -> list[Entry]:
    """The result entries of a recurrent target, layer-major.

    Args:
        target: The target.
        key: The key of the recurrence the entries are of (`<key>/call_<i>`
            for one of several chains); default the target's key.
        call_timesteps: For a recurrence unrolled by hand, the timesteps
            each call contributed (`LayerInfo.call_timesteps`).
    """
    rnn = target.module
    key = target.key if key is None else key
    if is_cell(rnn):
        label = type(rnn).__name__
        info = LayerInfo(
            name=key,
            layer_class=label,
            units=rnn.hidden_size,
            call_timesteps=tuple(call_timesteps),
        )
        return [Entry(key, 0, 0, info)]
    directions = 2 if rnn.bidirectional else 1
    found = []
    for layer in range(rnn.num_layers):
        base = key if rnn.num_layers == 1 else f"{key}/layer_{layer}"
        for direction in range(directions):
            entry_key = base if directions == 1 else f"{base}/{DIRECTIONS[direction]}"
            info = LayerInfo(
                name=base,
                layer_class=_CLASS_LABELS[rnn.mode],
                units=h_channels(rnn),
                bidirectional=directions == 2,
                merge_mode="none" if directions == 2 else "",
                direction=DIRECTIONS[direction] if directions == 2 else "",
                call_timesteps=tuple(call_timesteps),
            )
            found.append(Entry(entry_key, layer, direction, info))
    return found


def h_channels(rnn: nn.Module) -> int:
    """Channels of h_t: proj_size for a projected LSTM, else hidden_size."""
    return getattr(rnn, "proj_size", 0) or rnn.hidden_size


def layer_input_size(rnn: nn.RNNBase, layer: int) -> int:
    """Input channels of stacked layer `layer`."""
    if layer == 0:
        return rnn.input_size
    return h_channels(rnn) * (2 if rnn.bidirectional else 1)


def parameter_names(rnn: nn.Module, layer: int, direction: int) -> dict[str, str]:
    """`{short name: parameter name}` of one layer and direction, e.g.
    `{"weight_ih": "weight_ih_l1_reverse", ...}` (a cell's own names)."""
    if is_cell(rnn):
        short = ["weight_ih", "weight_hh"] + (
            ["bias_ih", "bias_hh"] if rnn.bias else []
        )
        return {name: name for name in short}
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    short = ["weight_ih", "weight_hh"]
    if rnn.bias:
        short += ["bias_ih", "bias_hh"]
    if rnn.proj_size:
        short.append("weight_hr")
    return {name: name + suffix for name in short}


def _key(path: str, module: nn.Module) -> str:
    return path if path else type(module).__name__.lower()


def _target(module: nn.Module, paths: dict[int, str], selector: Selector) -> Target:
    if isinstance(selector, nn.Module):
        path = paths.get(id(selector))
        if path is None:
            raise CaptureError(
                f"layers= names a {type(selector).__name__} that is not a "
                f"submodule of the {type(module).__name__} given. Pass a module "
                f"of this model or its path; recurrent modules: {_listing(module)}."
            )
        sub = selector
    elif isinstance(selector, str):
        found = dict(module.named_modules())
        if selector not in found:
            raise CaptureError(
                f"layers= names '{selector}', which is not a module path in "
                f"{type(module).__name__}. Paths are those of "
                f"model.named_modules(), e.g. 'encoder.lstm'; recurrent modules: "
                f"{_listing(module)}."
            )
        path, sub = selector, found[selector]
    else:
        raise CaptureError(
            f"layers= takes module paths (str) or modules; got "
            f"{type(selector).__name__} {selector!r}. Pass e.g. layers='lstm' or "
            "layers=[model.lstm]."
        )
    return Target(_key(path, sub), sub, is_recurrent(sub))


def _listing(module: nn.Module) -> str:
    keys = recurrent_modules(module)
    return ", ".join(f"'{key}'" for key in keys) if keys else "none"
