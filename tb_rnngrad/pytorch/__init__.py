"""tb-rnngrad for PyTorch: per-timestep gradients of nn.RNN, nn.LSTM, nn.GRU
and their cells.

Importing this module imports torch (and nothing of TensorFlow);
`import tb_rnngrad` alone never does.

Public API:

    rnn_gradients(module, loss_fn, inputs, targets, layers=None)
    capture(module, loss_fn, inputs, targets, layers=None, kinds=("gradients",))
    weight_terms(module, loss_fn, inputs, targets, layers=None)
    GradientLogger(log_dir, module, loss_fn, data, every_n_steps=100, *, ...)
    recurrent_modules(module)

Keys are module paths ("encoder.lstm"; the module itself, if recurrent, by its
class name in lower case, "lstm"); a stacked module's layers are
`<path>/layer_<i>`, a bidirectional module's directions `<...>/forward` and
`<...>/backward` (both in input time). Every sequence is (batch, timesteps,
channels), whatever `batch_first` is.

A recurrence unrolled by hand (a module called once per step or in chunks,
an nn.LSTMCell / nn.GRUCell / nn.RNNCell in a loop) is stacked along time:
the calls that continue one another's state make one entry, a call per
column group (`LayerInfo.call_timesteps`); independent calls of a shared
module are entries `<key>/call_<i>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.pytorch import capture_pass as _capture
from tb_rnngrad.pytorch.bptt import GATES
from tb_rnngrad.pytorch.capture_pass import KINDS, LossFn
from tb_rnngrad.pytorch.logger import GradientLogger
from tb_rnngrad.pytorch.modules import Selector, recurrent_modules
from tb_rnngrad.result import CaptureResult, GradientDict


def capture(
    module: Any,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any,
    layers: Selector | Sequence[Selector] | None = None,
    kinds: Sequence[str] = ("gradients",),
    *,
    batch_first: bool | None = None,
) -> CaptureResult:
    """Gradients, activations and states of recurrent modules on one batch.

    Runs `loss_fn(module(inputs), targets)` once forward and once backward in
    eval mode (dropout off), with zero probes added to the watched modules'
    outputs. The module's train/eval flags, the RNG state and the parameters'
    `.grad` are as before afterwards. With a state kind, each watched
    recurrent layer still runs torch's fused kernel forward, and its backward
    pass through time is computed by hand (`bptt`), which gives the
    per-timestep gradients the fused backward does not expose.

    Args:
        module: The model (any `nn.Module`).
        loss_fn: Called as `loss_fn(module(inputs), targets)`; returns a scalar
            tensor (the loss the gradients are of).
        inputs: A tensor or PackedSequence (`module(inputs)`), a tuple or list
            (`module(*inputs)`), or a dict (`module(**inputs)`).
        targets: Passed to `loss_fn` as given.
        layers: None for every nn.RNN / nn.LSTM / nn.GRU and every
            nn.RNNCell / nn.LSTMCell / nn.GRUCell in `module`; or a module
            path ("encoder.lstm"), a module object, or a list of these.
            A non-recurrent module whose output is (batch, timesteps,
            channels), e.g. nn.TransformerEncoderLayer, can be named for
            "gradients" and "activations".
        kinds: Any of `KINDS`: "gradients", "activations", "input_gradients",
            "state_gradients", "weight_contributions", "weights",
            "weight_gradients", "gate_activations" (see `CaptureResult`;
            gate activations: LSTM ("i", "f", "o"), GRU ("r", "z")). The
            weight kinds hold
            each layer's parameters and their gradients transposed to
            (columns, gates * hidden), biases as they are, `weight_hr` under
            `<key>/projection`; gates in PyTorch's order (`GATES`).
        batch_first: The layout of the inputs (and of non-recurrent modules
            without a `batch_first` of their own); None infers it: time-major
            only if every recurrent and attention module has
            batch_first=False.

    Returns:
        A `CaptureResult`.

    Raises:
        CaptureError: A layer is unknown, not called, or not a sequence; a
            non-recurrent module is called twice; the calls of one recurrence
            differ in batch size; an unrolled recurrence's outputs are not
            used by the loss; a state kind is asked of a non-recurrent module; the
            module or loss fails on the batch; or the loss is not a scalar
            that depends on the module.
    """
    done = _capture.run(module, loss_fn, inputs, targets, layers, kinds, batch_first)
    return _capture.result(done)


def rnn_gradients(
    module: Any,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any,
    layers: Selector | Sequence[Selector] | None = None,
    *,
    batch_first: bool | None = None,
) -> GradientDict:
    """d(loss)/d(output) of each recurrent module's layers, on exactly this
    batch, in eval mode.

    Args: as for `capture`.

    Returns:
        A `GradientDict`: `{key: (batch, timesteps, channels) array}` with
        `.masks` (from a PackedSequence input) and `.loss`.

    Raises:
        CaptureError: As for `capture`.
    """
    found = capture(
        module, loss_fn, inputs, targets, layers, ("gradients",),
        batch_first=batch_first,
    )  # fmt: skip
    grads = GradientDict(found.gradients)
    grads.masks = {key: found.masks[key] for key in found.gradients}
    grads.loss = found.loss
    return grads


def weight_terms(
    module: Any,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any,
    layers: Selector | Sequence[Selector] | None = None,
    *,
    batch_first: bool | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Each timestep's term of each recurrent weight's gradient.

    Summed over timesteps, `terms[key][name]` is the gradient of that weight
    (what `.grad` would hold after `loss.backward()` in eval mode). The
    `weight_contributions` kind holds their norms per gate.

    Args: as for `capture`; `layers` must be recurrent.

    Returns:
        `{entry key: {"weight_ih", "weight_hh"[, "bias_ih", "bias_hh"][,
        "weight_hr"]: (timesteps, *weight shape)}}`, PyTorch's names without
        the `_l<i>[_reverse]` suffix, which the entry key stands for.

    Raises:
        CaptureError: As for `capture`.
    """
    done = _capture.run(
        module, loss_fn, inputs, targets, layers, ("weight_contributions",),
        batch_first,
    )  # fmt: skip
    return _capture.raw_weight_terms(done)


__all__ = [
    "GATES",
    "KINDS",
    "CaptureError",
    "CaptureResult",
    "GradientDict",
    "GradientLogger",
    "capture",
    "recurrent_modules",
    "rnn_gradients",
    "weight_terms",
]
