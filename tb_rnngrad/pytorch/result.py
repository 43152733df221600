"""What one PyTorch capture returns: the fields of the Keras `CaptureResult`,
so `tb_rnngrad.records` logs both the same way."""

from __future__ import annotations

import dataclasses

import numpy as np

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.format.layer_info import LayerInfo

#: The kinds a PyTorch capture returns.
KINDS = (
    "gradients",
    "activations",
    "input_gradients",
    "state_gradients",
    "weight_contributions",
)


@dataclasses.dataclass(frozen=True)
class CaptureResult:
    """Gradients, activations, states and masks from one capture pass.

    Every sequence is (batch, timesteps, channels), batch in the order given,
    whatever the module's `batch_first`. Keys: see `tb_rnngrad.pytorch`
    (module paths; `/layer_<i>` for stacked layers; `/forward`, `/backward`).

    Attributes:
        loss: `loss_fn(module(inputs), targets)` in eval mode.
        gradients: d(loss)/d(output) of each entry: the paths through what
            comes after it only.
        activations: The outputs themselves (zero at padded steps).
        masks: Per entry, a bool (batch, timesteps) array, True for real
            steps (from a PackedSequence input), or None.
        input_gradients: d(loss)/d(input) per floating-point input (keys
            "input", "input_<i>" or the keyword), or d(loss)/d(embedding
            output) per nn.Embedding (keyed by its path) for integer inputs.
        input_masks: Per input-gradient entry, a bool (batch, timesteps)
            mask (PackedSequence input, or tokens not equal to the
            Embedding's padding_idx), or None.
        input_sources: Per input-gradient entry, "input" or "embedding".
        layers: Per entry, the `LayerInfo` the summary writers record.
        notes: Plain-text remarks (e.g. an input without gradient).
        state_gradients: Total d(loss)/d(h_t) per recurrent entry, and
            d(loss)/d(c_t) under `<key>/cell` for an LSTM, in input time.
        weight_contributions: Per recurrent entry, `{"weight_ih",
            "weight_hh"[, "bias_ih", "bias_hh"]: (timesteps, gates)}`: the
            Frobenius norm of timestep t's term of that weight's gradient,
            per gate block of rows; for an LSTM with proj_size also
            `<key>/projection`: `{"weight_hr": (timesteps, 1)}`.
        gates: Per weight-contribution entry, the gate names in PyTorch's
            row order: LSTM ("i", "f", "c", "o") (PyTorch's "g" is the cell
            candidate "c"), GRU ("r", "z", "n"), RNN ("h",), projection
            ("proj",).
    """

    loss: float
    gradients: dict[str, np.ndarray]
    activations: dict[str, np.ndarray]
    masks: dict[str, np.ndarray | None]
    input_gradients: dict[str, np.ndarray]
    input_masks: dict[str, np.ndarray | None]
    input_sources: dict[str, str]
    layers: dict[str, LayerInfo]
    notes: tuple[str, ...] = ()
    state_gradients: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    weight_contributions: dict[str, dict[str, np.ndarray]] = dataclasses.field(
        default_factory=dict
    )
    gates: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def kind(self, kind: str) -> dict:
        """The entries of one kind, e.g. "gradients" or "state_gradients"."""
        if kind not in KINDS:
            raise CaptureError(f"kind must be one of {KINDS}; got {kind!r}.")
        return getattr(self, kind)


class GradientDict(dict):
    """`{key: d(loss)/d(output)}` as `rnn_gradients` returns it.

    Attributes:
        masks: `{key: bool (batch, timesteps) array or None}`.
        loss: The loss value the gradients are of.
    """

    masks: dict[str, np.ndarray | None]
    loss: float
