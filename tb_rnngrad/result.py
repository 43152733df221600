"""What one capture returns, for Keras (`tb_rnngrad.capture`) and PyTorch
(`tb_rnngrad.pytorch`) alike; `tb_rnngrad.records` logs it.

Imports neither TensorFlow nor torch.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tb_rnngrad.format.layer_info import LayerInfo

#: The kinds a capture returns. Each is logged as the format kind of the same
#: name (`tb_rnngrad.format.metadata.KINDS`); an LSTM's `<key>/cell` state
#: entry as "cell_state_gradients" (`tb_rnngrad.records`). The same for both
#: frameworks.
KINDS = (
    "gradients",
    "activations",
    "input_gradients",
    "state_gradients",
    "weight_contributions",
    "weights",
    "weight_gradients",
    "gate_activations",
)


@dataclasses.dataclass(frozen=True)
class CaptureResult:
    """Gradients, activations and masks from one forward and backward pass.

    Entries are keyed by layer key: for Keras the layer name (or
    `outer/inner` when names collide across nested models), a Bidirectional
    layer with `merge_mode=None` having two entries, `<key>/forward` and
    `<key>/backward`; for PyTorch the module path (see `tb_rnngrad.pytorch`
    for its keys, weight names and gate order).

    Attributes:
        loss: The model's compiled loss on the batch (inference mode).
        gradients: d(loss)/d(layer output), shaped as the layer's output:
            (batch, timesteps, channels) with return_sequences=True, else
            (batch, channels). Empty unless "gradients" was requested.
        activations: The layer outputs themselves, same keys and shapes.
            Empty unless "activations" was requested.
        masks: The mask of each layer's input timesteps, a bool array
            (batch, timesteps) with True for real steps, or None when the
            layer gets no mask. Present for every layer entry, also with
            return_sequences=False (the mask then describes the input).
        input_gradients: d(loss)/d(input), keyed by input name, for each
            floating-point model input; for an integer input (token ids) the
            gradient w.r.t. each Embedding layer's output instead, keyed by
            the Embedding layer name (`<name>/call_<i>` for an Embedding
            called more than once). Empty unless "input_gradients" was
            requested.
        input_masks: A bool (batch, timesteps) mask per input-gradient entry
            (from `Embedding(mask_zero=True)`, or from a Masking layer when the
            model has one floating-point input), or None.
        input_sources: Per input-gradient entry, "input" or "embedding".
        layers: `describe_layer(layer, part)` of each layer entry, the
            `LayerInfo` the summary ops accept as `layer=`.
        notes: Plain-text remarks, e.g. an integer input without gradient.
        state_gradients: The total d(loss)/d(h_t) of each recurrent layer's
            state at every step, through every path (its own recurrence,
            its outputs and returned states, the later layers), each
            (batch, timesteps, units). In input time: entry t is the state
            made from input step t, also with go_backwards and for the
            backward half of a Bidirectional layer. At a masked step, where
            Keras carries the previous state, the entry is the gradient of
            the carried state. Keys (see `state_gradients.py`): the layer key
            for h_t, `<key>/cell` for an LSTM's c_t; `<key>/forward` and
            `<key>/backward` for the halves of any Bidirectional layer;
            `<key>/stacked_<i>` for the cells of a StackedRNNCells;
            `<key>/state_<j>` for further states of a custom cell. Empty
            unless "state_gradients" was requested.
        weight_contributions: Per recurrent cell (keys as the cell's h_t
            entry in `state_gradients`), `{"kernel", "recurrent_kernel",
            "bias"[, "recurrent_bias"]: (timesteps, gates)}`: the Frobenius
            norm of timestep t's term of the weight's gradient over the
            batch (the terms sum to the gradient), per gate block of columns
            (`gates[key]`), in input time. Masked steps contribute zero.
            "recurrent_bias" is the second bias row of a GRU with
            reset_after=True. A cell without these weights has no entry (see
            `notes`). Empty unless "weight_contributions" was requested.
        weights: Per recurrent cell (keys as in `weight_contributions`),
            `{"kernel", "recurrent_kernel", "bias"[, "recurrent_bias"]:
            array}`: the parameter values when the pass ran, each in the
            weight's shape ((input, gates*units), (units, gates*units),
            (gates*units,)); a GRU with reset_after=True has its two bias
            rows apart as "bias" and "recurrent_bias". Columns are the gate
            blocks of `gates[key]`. Empty unless "weights" was requested.
        weight_gradients: d(loss)/d(weight) of the same loss on the same
            batch, from the same backward pass, same keys and shapes as
            `weights`. Empty unless "weight_gradients" was requested.
        gates: The gate names of each `weight_contributions`, `weights` and
            `weight_gradients` entry, in the order of the weight's blocks:
            for Keras ("i", "f", "c", "o") for an LSTM, ("z", "r", "h") for a
            GRU, ("h",) for a SimpleRNN, ("all",) for a custom cell; for
            PyTorch ("i", "f", "c", "o"), ("r", "z", "n"), ("h",) (see
            `tb_rnngrad.pytorch`).
        gate_activations: Per LSTM or GRU cell (keys as in
            `weight_contributions`), `{"near_0", "near_1": (timesteps,
            gates)}`: at each timestep, the fraction of units and real
            samples whose sigmoid gate value is below 0.05 (above 0.95; see
            `tb_rnngrad.format.gate_saturation`), in input time, gates as in
            `activation_gates`. A cell without sigmoid gates (SimpleRNN, a
            custom cell) has no entry (see `notes`). Empty unless
            "gate_activations" was requested.
        activation_gates: The gate names of each `gate_activations` entry:
            ("i", "f", "o") for an LSTM, ("z", "r") for a Keras GRU, ("r",
            "z") for a PyTorch GRU (the tanh candidates are not gates).
        unused_outputs: Layer entries whose output no path from the loss
            reaches (their `gradients` are zero), e.g. an encoder whose
            returned states alone feed a decoder; see `notes`.
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
    weights: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)
    weight_gradients: dict[str, dict[str, np.ndarray]] = dataclasses.field(
        default_factory=dict
    )
    unused_outputs: tuple[str, ...] = ()
    gate_activations: dict[str, dict[str, np.ndarray]] = dataclasses.field(
        default_factory=dict
    )
    activation_gates: dict[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict
    )

    def kind(self, kind: str) -> dict[str, Any]:
        """The entries of one kind, e.g. "gradients" or "state_gradients"."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
        return getattr(self, kind)


class GradientDict(dict):
    """`{layer_key: gradient}` as returned by `rnn_gradients`, plus the masks.

    A plain dict of NumPy arrays with two extra attributes:

    Attributes:
        masks: `{layer_key: bool (batch, timesteps) array or None}`.
        loss: The loss value the gradients are of.
    """

    masks: dict[str, np.ndarray | None]
    loss: float
