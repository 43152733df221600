"""One forward and backward pass of a PyTorch module on a fixed batch, with
zero probes on the watched modules' outputs (and, for the state kinds, each
recurrent layer's backward pass through time written by hand:
`rnn_pass.ThroughTime`); see `tb_rnngrad.pytorch` for the public functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils import rnn as rnn_utils

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.pytorch import gate_activations, sequences, unrolled
from tb_rnngrad.pytorch.bptt import GATES, Weights
from tb_rnngrad.pytorch.capture_mode import capture_mode
from tb_rnngrad.pytorch.cell_pass import CellPass
from tb_rnngrad.pytorch.inputs import (
    Inputs,
    check_call_inputs,
    describe,
    prepare,
    to_numpy,
)
from tb_rnngrad.pytorch.modules import (
    STATE_KINDS,
    Entry,
    Selector,
    Target,
    is_cell,
    mode,
    resolve,
)
from tb_rnngrad.pytorch.probes import EmbeddingProbes, OutputProbe, installed
from tb_rnngrad.pytorch.rnn_pass import RnnPass
from tb_rnngrad.pytorch.stacking import Stacked
from tb_rnngrad.pytorch.timestep_terms import (
    PROJECTION_GATE,
    contributions,
    weight_gradients,
    weight_terms,
)
from tb_rnngrad.pytorch.unrolled import recurrences
from tb_rnngrad.pytorch.wrappers import unwrap
from tb_rnngrad.result import KINDS as ALL_KINDS
from tb_rnngrad.result import CaptureResult

LossFn = Callable[[Any, Any], Tensor]


#: The kinds a PyTorch capture returns: all of them, as for Keras.
KINDS = ALL_KINDS
#: The kinds of each recurrent layer's parameters and their gradients.
MATRIX_KINDS = ("weights", "weight_gradients")


def check_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    """`kinds` as a tuple, or CaptureError naming the unknown ones."""
    chosen = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [kind for kind in chosen if kind not in KINDS]
    if unknown or not chosen:
        raise CaptureError(
            f"kinds must be a non-empty selection of {KINDS}; got "
            f"{kinds!r}. Pass e.g. kinds=('gradients', 'state_gradients')."
        )
    return tuple(dict.fromkeys(chosen))


@dataclasses.dataclass
class Pass:
    """One capture pass: what was watched, and every probe's gradient."""

    kinds: tuple[str, ...]
    loss: float
    rnns: list[tuple[Target, RnnPass | CellPass]]
    outputs: list[OutputProbe]
    embeddings: EmbeddingProbes | None
    inputs: Inputs
    batch_first: bool
    grads: dict[int, Tensor]
    unused: set[int]
    notes: list[str]

    def grad(self, probe: Tensor) -> Tensor:
        return self.grads[id(probe)]


def run(
    module: nn.Module,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any,
    layers: Selector | Sequence[Selector] | None,
    kinds: Sequence[str],
    batch_first: bool | None = None,
) -> Pass:
    """Runs one capture pass; see `tb_rnngrad.pytorch.capture`."""
    module, layers = unwrap(module, layers)
    kinds = check_kinds(kinds)
    _check_callables(module, loss_fn)
    check_call_inputs(inputs)
    chosen = resolve(module, layers, kinds)
    prepared = prepare(inputs, "input_gradients" in kinds)
    states = any(kind in STATE_KINDS for kind in kinds)
    # Weight gradients come from autograd when the layers run torch's kernels
    # (no state kind); autograd has none for a frozen parameter, which the
    # hand-written backward through time gives all the same.
    frozen = any(
        not p.requires_grad
        for t in chosen
        if t.recurrent
        for p in t.module.parameters()
    )
    states = states or ("weight_gradients" in kinds and frozen)
    terms = any(kind in ("weight_contributions", "weight_gradients") for kind in kinds)
    rnns = [
        (t, CellPass(t.key, t.module, terms) if is_cell(t.module)
         else RnnPass(t.key, t.module, states))
        for t in chosen
        if t.recurrent
    ]  # fmt: skip
    outputs = [OutputProbe(t.key, t.module) for t in chosen if not t.recurrent]
    embeddings = None
    if "input_gradients" in kinds and prepared.integer:
        embeddings = EmbeddingProbes(module)
    parameters = []
    if "weight_gradients" in kinds and not states:
        parameters = [
            p
            for _, rp in rnns
            if isinstance(rp, RnnPass)
            for p in rp.module.parameters()
        ]
    forwards = {rnn_pass.module: rnn_pass.forward for _, rnn_pass in rnns}
    with capture_mode(module), installed(forwards, outputs, embeddings):
        loss = _loss(module, loss_fn, prepared, inputs, targets)
        _check_called(module, rnns, outputs)
        probes = [probe for _, rnn_pass in rnns for probe in rnn_pass.probes()]
        probes += [probe.probe for probe in outputs]
        probes += [call[1] for call in embeddings.calls] if embeddings else []
        probes += [leaf for leaf, _ in prepared.leaves.values()]
        probes += parameters
        found = torch.autograd.grad(loss, probes, allow_unused=True)
    grads = {
        id(probe): torch.zeros_like(probe) if grad is None else grad
        for probe, grad in zip(probes, found, strict=True)
    }
    unused = {
        id(probe) for probe, grad in zip(probes, found, strict=True) if grad is None
    }
    unrolled.check_reached(rnns, unused)
    layout = inputs_batch_first(module, batch_first)
    return Pass(
        kinds=kinds,
        loss=float(loss.detach()),
        rnns=rnns,
        outputs=outputs,
        embeddings=embeddings,
        inputs=prepared,
        batch_first=layout,
        grads=grads,
        unused=unused,
        notes=_notes(prepared, embeddings, kinds)
        + _matrix_notes(outputs, kinds)
        + _gate_notes(rnns, kinds)
        + unrolled.notes(rnns),
    )


def inputs_batch_first(module: nn.Module, batch_first: bool | None) -> bool:
    """The layout of the model's inputs: as given, else time-major only if
    every nn.RNN/LSTM/GRU and nn.MultiheadAttention in `module` has
    batch_first=False (batch-first when it has none)."""
    if batch_first is not None:
        return bool(batch_first)
    flags = [
        bool(sub.batch_first)
        for sub in module.modules()
        if isinstance(sub, (nn.RNNBase, nn.MultiheadAttention))
    ]
    return any(flags) or not flags


def module_batch_first(module: nn.Module, default: bool) -> bool:
    """The layout of a non-recurrent module's output: its own `batch_first`,
    or that of the first nn.MultiheadAttention inside it, else `default`."""
    own = getattr(module, "batch_first", None)
    if isinstance(own, bool):
        return own
    for sub in module.modules():
        if isinstance(sub, nn.MultiheadAttention):
            return bool(sub.batch_first)
    return default


def result(done: Pass) -> CaptureResult:
    """The `CaptureResult` of a pass."""
    fields: dict[str, Any] = {
        name: {}
        for name in (
            "gradients",
            "activations",
            "masks",
            "layers",
            "state_gradients",
            "weight_contributions",
            "gates",
            "gate_activations",
            "activation_gates",
            *MATRIX_KINDS,
        )
    }
    for target, rnn_pass in done.rnns:
        _rnn_entries(done, target, rnn_pass, fields)
    for probe in done.outputs:
        _output_entry(done, probe, fields)
    inputs = _input_entries(done)
    return CaptureResult(
        loss=done.loss,
        gradients=fields["gradients"],
        activations=fields["activations"],
        masks=fields["masks"],
        input_gradients=inputs[0],
        input_masks=inputs[1],
        input_sources=inputs[2],
        layers=fields["layers"],
        notes=tuple(done.notes),
        state_gradients=fields["state_gradients"],
        weight_contributions=fields["weight_contributions"],
        gates=fields["gates"],
        weights=fields["weights"],
        weight_gradients=fields["weight_gradients"],
        gate_activations=fields["gate_activations"],
        activation_gates=fields["activation_gates"],
    )


def raw_weight_terms(done: Pass) -> dict[str, dict[str, np.ndarray]]:
    """`{entry key: {short weight name: (timesteps, *shape)}}` of a pass
    with a state kind: each timestep's term of each weight's gradient."""
    terms = {}
    for target, rnn_pass in done.rnns:
        for entry, stacked in recurrences(target, rnn_pass, done.grads):
            trace, grads = stacked.through_time
            weights = rnn_pass.weights(entry.layer, entry.direction)
            found = weight_terms(trace, grads, weights)
            terms[entry.key] = {name: to_numpy(t) for name, t in found.items()}
    return terms


def _rnn_entries(
    done: Pass, target: Target, rnn_pass: RnnPass | CellPass, fields: dict[str, Any]
) -> None:
    for entry, stacked in recurrences(target, rnn_pass, done.grads):
        mask = stacked.mask
        fields["layers"][entry.key] = entry.info
        fields["masks"][entry.key] = None if mask is None else to_numpy(mask)
        if "gradients" in done.kinds:
            fields["gradients"][entry.key] = to_numpy(stacked.output_gradient)
        if "activations" in done.kinds:
            fields["activations"][entry.key] = to_numpy(stacked.output)
        if rnn_pass.states:
            _state_entries(done, target, rnn_pass, entry, stacked, fields)
        if any(kind in MATRIX_KINDS for kind in done.kinds):
            _matrix_entries(done, target, rnn_pass, entry, stacked, fields)


def _state_entries(
    done: Pass,
    target: Target,
    rnn_pass: RnnPass | CellPass,
    entry: Entry,
    stacked: Stacked,
    fields: dict[str, Any],
) -> None:
    trace, grads = stacked.through_time
    if "state_gradients" in done.kinds:
        fields["state_gradients"][entry.key] = to_numpy(grads.state)
        if grads.cell is not None:
            fields["state_gradients"][entry.key + "/cell"] = to_numpy(grads.cell)
    if "weight_contributions" in done.kinds:
        gates = GATES[mode(target.module)]
        weights = rnn_pass.weights(entry.layer, entry.direction)
        norms, projection = contributions(trace, grads, weights, len(gates))
        fields["weight_contributions"][entry.key] = _float32(norms)
        fields["gates"][entry.key] = gates
        if projection:
            key = entry.key + "/projection"
            fields["weight_contributions"][key] = _float32(projection)
            fields["gates"][key] = (PROJECTION_GATE,)
    names = gate_activations.gate_names(target.module)
    if "gate_activations" in done.kinds and names:
        weights = rnn_pass.weights(entry.layer, entry.direction)
        found = gate_activations.fractions(mode(target.module), trace, weights)
        fields["gate_activations"][entry.key] = _float32(found)
        fields["activation_gates"][entry.key] = names


def _matrix_entries(
    done: Pass,
    target: Target,
    rnn_pass: RnnPass | CellPass,
    entry: Entry,
    stacked: Stacked,
    fields: dict[str, Any],
) -> None:
    """The weights and their gradients of one layer and direction, as Keras
    lays out its kernels: a weight (gates * hidden, columns) transposed, so
    that its columns are the gate blocks; a bias as it is. An LSTM's
    `weight_hr` is the entry `<key>/projection`, as in weight_contributions.
    The weight gradients of one of several independent recurrences
    (`<key>/call_<i>`) are that recurrence's share."""
    weights = rnn_pass.weights(entry.layer, entry.direction)
    found = {"weights": _present(weights)}
    if "weight_gradients" in done.kinds:
        if rnn_pass.states:
            trace, grads = stacked.through_time
            found["weight_gradients"] = weight_gradients(trace, grads, weights)
        else:
            found["weight_gradients"] = {
                name: done.grad(parameter)
                for name, parameter in found["weights"].items()
            }
    for kind in MATRIX_KINDS:
        if kind not in done.kinds:
            continue
        by_name = {name: _gate_columns(t) for name, t in found[kind].items()}
        projection = by_name.pop("weight_hr", None)
        fields[kind][entry.key] = by_name
        fields["gates"][entry.key] = GATES[mode(target.module)]
        if projection is not None:
            fields[kind][entry.key + "/projection"] = {"weight_hr": projection}
            fields["gates"][entry.key + "/projection"] = (PROJECTION_GATE,)


def _present(weights: Weights) -> dict[str, Tensor]:
    """`{name: parameter}` of the parameters the layer has."""
    found = {f.name: getattr(weights, f.name) for f in dataclasses.fields(weights)}
    return {name: value for name, value in found.items() if value is not None}


def _gate_columns(tensor: Tensor) -> np.ndarray:
    """A copy of a weight transposed (gate blocks in columns), or of a bias."""
    tensor = tensor.detach()
    if tensor.dim() == 2:
        tensor = tensor.t()
    return to_numpy(tensor.clone(memory_format=torch.contiguous_format))


def _float32(norms: dict[str, Tensor]) -> dict[str, np.ndarray]:
    return {name: to_numpy(value).astype(np.float32) for name, value in norms.items()}


def _output_entry(done: Pass, probe: OutputProbe, fields: dict[str, Any]) -> None:
    batch_first = module_batch_first(probe.module, done.batch_first)
    output = sequences.to_batch_major(probe.output, batch_first)
    fields["layers"][probe.key] = _generic_info(probe, output.shape[-1])
    fields["masks"][probe.key] = None
    if "gradients" in done.kinds:
        grad = sequences.to_batch_major(done.grad(probe.probe), batch_first)
        fields["gradients"][probe.key] = to_numpy(grad)
    if "activations" in done.kinds:
        fields["activations"][probe.key] = to_numpy(output)


def _generic_info(probe: OutputProbe, channels: int) -> LayerInfo:
    return LayerInfo(
        name=probe.key, layer_class=type(probe.module).__name__, units=channels
    )


def _input_entries(done: Pass) -> tuple[dict, dict, dict]:
    grads, masks, sources = {}, {}, {}
    if "input_gradients" not in done.kinds:
        return grads, masks, sources
    for name, (leaf, packed) in done.inputs.leaves.items():
        grad = done.grad(leaf)
        mask = None
        if packed is not None:
            padded = sequences.pad(
                rnn_utils.PackedSequence(
                    grad, packed.batch_sizes, packed.sorted_indices,
                    packed.unsorted_indices,
                ),
                True,
            )  # fmt: skip
            grad, mask = padded.data, to_numpy(padded.mask)
        else:
            grad = sequences.to_batch_major(grad, done.batch_first)
        grads[name], masks[name], sources[name] = to_numpy(grad), mask, "input"
    for key, probe, _, mask in done.embeddings.entries() if done.embeddings else ():
        grad = sequences.to_batch_major(done.grad(probe), done.batch_first)
        if mask is not None and mask.dim() == 2 and not done.batch_first:
            mask = mask.transpose(0, 1)
        grads[key], sources[key] = to_numpy(grad), "embedding"
        masks[key] = None if mask is None else to_numpy(mask)
    return grads, masks, sources


def _notes(
    prepared: Inputs, embeddings: EmbeddingProbes | None, kinds: Sequence[str]
) -> list[str]:
    if "input_gradients" not in kinds or not prepared.integer:
        return []
    names = ", ".join(prepared.integer)
    if embeddings and embeddings.calls:
        return [
            f"Integer inputs ({names}) have no gradient: input_gradients holds "
            "d(loss)/d(output) of each nn.Embedding instead."
        ]
    return [
        f"Integer inputs ({names}) have no gradient, and the module has no "
        "nn.Embedding whose output could stand in for them."
    ]


def _gate_notes(rnns: list, kinds: Sequence[str]) -> list[str]:
    """Notes on the recurrent modules that get no gate activations."""
    if "gate_activations" not in kinds:
        return []
    notes = (gate_activations.no_gates_note(t.key, t.module) for t, _ in rnns)
    return [note for note in notes if note]


def _matrix_notes(outputs: list[OutputProbe], kinds: Sequence[str]) -> list[str]:
    if not any(kind in MATRIX_KINDS for kind in kinds):
        return []
    return [
        f"Module '{probe.key}' ({type(probe.module).__name__}) is not recurrent: "
        "no weights or weight gradients for it."
        for probe in outputs
    ]


def _check_callables(module: Any, loss_fn: Any) -> None:
    if not isinstance(module, nn.Module):
        raise CaptureError(
            f"module must be a torch.nn.Module; got {type(module).__name__}. "
            "Pass the model whose recurrent layers you want to inspect."
        )
    if not callable(loss_fn):
        raise CaptureError(
            f"loss_fn must be callable as loss_fn(outputs, targets) -> scalar "
            f"tensor; got {type(loss_fn).__name__}. Pass e.g. nn.MSELoss()."
        )


def _loss(
    module: nn.Module, loss_fn: LossFn, prepared: Inputs, inputs: Any, targets: Any
) -> Tensor:
    try:
        outputs = prepared.call(module)
    except CaptureError:
        raise
    except Exception as error:
        raise CaptureError(
            f"{type(module).__name__} failed on inputs {describe(inputs)}: "
            f"{type(error).__name__}: {error}. Pass the batch as the module "
            "takes it: a tensor or PackedSequence for module(x), a tuple for "
            "module(*inputs), a dict for module(**inputs)."
        ) from error
    try:
        loss = loss_fn(outputs, targets)
    except Exception as error:
        raise CaptureError(
            f"loss_fn failed on the module's outputs {describe(outputs)} and "
            f"targets {describe(targets)}: {type(error).__name__}: {error}. "
            "loss_fn is called as loss_fn(module(inputs), targets)."
        ) from error
    if not (
        isinstance(loss, Tensor) and loss.numel() == 1 and loss.is_floating_point()
    ):
        raise CaptureError(
            f"loss_fn must return a scalar floating-point tensor; got "
            f"{describe(loss)}. Reduce the loss (e.g. reduction='mean')."
        )
    if not loss.requires_grad:
        raise CaptureError(
            "The loss does not depend on any captured module's output (it has "
            "no gradient): check that loss_fn uses the module's outputs "
            "without .detach() or torch.no_grad()."
        )
    return loss.reshape(())


def _check_called(
    module: nn.Module,
    rnns: list[tuple[Target, RnnPass | CellPass]],
    outputs: list[OutputProbe],
) -> None:
    missed = [t.key for t, rnn_pass in rnns if not rnn_pass.calls]
    missed += [probe.key for probe in outputs if probe.calls == 0]
    if missed:
        raise CaptureError(
            f"{type(module).__name__}'s forward pass did not call {missed}, so "
            "they have no gradient on this batch. Name modules the forward "
            "pass runs (layers=...)."
        )
