"""The state kinds of one capture: "state_gradients" and "weight_contributions".

`Recurrence` decides, once per `GradientCapture`, which RNN layers (and
Bidirectional halves) are instrumented and under which keys their entries
go; inside the traced pass it attaches the state probes (`state_probes`),
names the tensors to differentiate, and turns their gradients into state
gradients (`state_gradients`) and per-timestep weight terms (`weight_terms`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import keras

from tb_rnngrad.capture import state_gradients, state_plan, state_probes
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.gates import gate_names, weights_of
from tb_rnngrad.capture.layers import LayerRef, class_label
from tb_rnngrad.capture.probes import NewProbe


class Recurrence:
    """The recurrent layers a capture probes inside, and their entry keys.

    Args:
        refs: The captured layers.
        kinds: The capture's kinds.

    Raises:
        CaptureError: If a state kind is requested and a layer is not
            recurrent, or its cell is not a keras.layers.Layer.
    """

    def __init__(self, refs: Sequence[LayerRef], kinds: Sequence[str]) -> None:
        self.states = "state_gradients" in kinds
        self.weights = "weight_contributions" in kinds
        self.parts: list[tuple[str, keras.layers.RNN]] = []
        if not (self.states or self.weights):
            return
        for ref in refs:
            for part, layer in state_plan.rnn_parts(ref.layer):
                _check_recurrent(ref, layer)
                base = ref.key if part is None else f"{ref.key}/{part}"
                self.parts.append((base, layer))

    def _leaves(self) -> Iterator[tuple[str, Any]]:
        for base, layer in self.parts:
            leaves = state_plan.leaf_cells(layer.cell)
            keys = state_gradients.leaf_keys(base, layer, len(leaves))
            yield from zip(keys, leaves, strict=True)

    def gates(self) -> dict[str, tuple[str, ...]]:
        """`{key: gate names}` of each cell with weight contributions."""
        if not self.weights:
            return {}
        return {key: gate_names(c) for key, c in self._leaves() if weights_of(c)}

    def notes(self) -> list[str]:
        """Remarks on cells whose weight contributions cannot be given."""
        if not self.weights:
            return []
        return [
            f"Cell '{cell.name}' of '{key}' ({type(cell).__name__}) has no "
            "kernel, recurrent_kernel or bias attribute: no weight "
            "contributions for it."
            for key, cell in self._leaves()
            if not weights_of(cell)
        ]

    @contextlib.contextmanager
    def attach(self, new_probe: NewProbe) -> Iterator[dict]:
        """Instruments the layers while the model runs inside the block."""
        layers = [layer for _, layer in self.parts]
        with state_probes.attach(new_probe, layers, record=self.weights) as records:
            yield records

    def records(self, records: dict) -> dict[str, state_plan.StateRecord]:
        """`{base key: record}`, checking each layer ran exactly once and
        could be probed."""
        out = {}
        for base, layer in self.parts:
            calls = records[id(layer)]
            for call in calls:
                if isinstance(call, CaptureError):
                    raise call
            if len(calls) != 1:
                raise CaptureError(
                    f"Layer '{base}' ran {len(calls)} times in one forward pass; "
                    "its states can be probed only in a layer called exactly "
                    "once. Choose a layer the model calls once."
                )
            out[base] = calls[0]
        return out

    def entries(
        self, records: dict[str, state_plan.StateRecord], grads: dict, raw: bool
    ) -> dict[str, dict]:
        """The state gradients and weight contributions, as tensors.

        Args:
            records: From `records`.
            grads: `{base key: gradient of record.probes}`.
            raw: Return each weight's per-timestep terms (timesteps,
                *weight.shape) instead of their norms per gate.

        Returns:
            `{"state_gradients": {key: tensor}, "weight_contributions":
            {key: {weight: tensor}}}`.
        """
        states, weights = {}, {}
        for base, record in records.items():
            if self.states:
                states.update(state_gradients.entries(base, record, grads[base]))
            if self.weights:
                weights.update(self._weight_entries(base, record, grads[base], raw))
        return {"state_gradients": states, "weight_contributions": weights}

    def _weight_entries(
        self, base: str, record: state_plan.StateRecord, gradient: Any, raw: bool
    ) -> dict[str, dict[str, Any]]:
        from tb_rnngrad.capture import weight_terms  # TensorFlow

        per_leaf = record.leaf_gradients(gradient)
        keys = state_gradients.leaf_keys(base, record.layer, len(record.leaves))
        compute = weight_terms.timestep_terms if raw else weight_terms.contributions
        out = {}
        for i, (key, leaf) in enumerate(zip(keys, record.leaves, strict=True)):
            if weights_of(leaf.cell):
                args = (record.inputs[i], record.states[i], per_leaf[i], record.mask)
                out[key] = compute(leaf, *args)
        return out


def _check_recurrent(ref: LayerRef, layer: keras.layers.Layer) -> None:
    """Raises CaptureError unless `layer` (`ref`'s layer or one of its
    Bidirectional halves) is an RNN whose cell is a Layer."""
    if not isinstance(layer, keras.layers.RNN):
        raise CaptureError(
            f"Layer '{ref.key}' ({class_label(ref.layer)}) is not recurrent: "
            "'state_gradients' and 'weight_contributions' exist only for "
            "LSTM, GRU, SimpleRNN, keras.layers.RNN and Bidirectional layers. "
            "Capture it with kinds 'gradients' or 'activations' only, or leave "
            "it out of `layers=`."
        )
    if not isinstance(layer.cell, keras.layers.Layer):
        raise CaptureError(
            f"Layer '{ref.key}': the cell of '{layer.name}' is a "
            f"{type(layer.cell).__name__}, not a keras.layers.Layer, so it "
            "cannot be wrapped to probe its states. Make the cell a "
            "keras.layers.Layer subclass, or leave the layer out of `layers=`."
        )
