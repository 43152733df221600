"""The state kinds of one capture: "state_gradients", "weight_contributions"
and "gate_activations".

`Recurrence` decides, once per `GradientCapture`, which RNN layers (and
Bidirectional halves) and free cells are instrumented and under which keys
their entries go (per chain of calls, `unrolled`); inside the traced pass
it attaches the state probes (`state_probes`, `cell_probes`), names the
tensors to differentiate, and turns their gradients into state
gradients (`state_gradients`), per-timestep weight terms (`weight_terms`)
and gate saturation (`gate_activations`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import keras
from keras import ops

from tb_rnngrad.capture import (
    cell_probes,
    gate_activations,
    state_gradients,
    state_plan,
    state_probes,
    unrolled,
)
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.gates import gate_names, weights_of
from tb_rnngrad.capture.layers import LayerRef, class_label, is_cell
from tb_rnngrad.capture.probes import NewProbe
from tb_rnngrad.capture.unrolled import Entry

Layout = dict[str, list[Entry]]
"""`{layer key: its entries}` (`unrolled.entries`), as the pass found them."""


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
        self.gate_stats = "gate_activations" in kinds
        self.parts: list[tuple[LayerRef, str | None, keras.layers.Layer]] = []
        if not (self.states or self.weights or self.gate_stats):
            return
        for ref in refs:
            for part, layer in state_plan.rnn_parts(ref.layer):
                _check_recurrent(ref, layer)
                self.parts.append((ref, part, layer))

    def _bases(self, layout: Layout) -> Iterator[tuple[tuple, str]]:
        """`(ref, part, layer, entry), base key` of every entry of every part."""
        for ref, part, layer in self.parts:
            for entry in layout.get(ref.key) or unrolled.entries(ref.key, [[0]], False):
                base = entry.key if part is None else f"{entry.key}/{part}"
                yield (ref, part, layer, entry), base

    def _leaves(self, layout: Layout) -> Iterator[tuple[str, Any]]:
        for (_, _, layer, _), base in self._bases(layout):
            leaves = state_plan.leaf_cells(state_plan.root_cell(layer))
            keys = state_gradients.leaf_keys(base, layer, len(leaves))
            yield from zip(keys, leaves, strict=True)

    def gates(self, layout: Layout) -> dict[str, tuple[str, ...]]:
        """`{key: gate names}` of each cell with weight contributions."""
        if not self.weights:
            return {}
        return {key: gate_names(c) for key, c in self._leaves(layout) if weights_of(c)}

    def activation_gates(self, layout: Layout) -> dict[str, tuple[str, ...]]:
        """`{key: gate names}` of each cell with gate activations."""
        if not self.gate_stats:
            return {}
        found = {key: gate_activations.gate_names(c) for key, c in self._leaves(layout)}
        return {key: names for key, names in found.items() if names}

    def notes(self) -> list[str]:
        """Remarks on cells whose weight contributions or gate activations
        cannot be given."""
        notes = []
        for key, cell in self._leaves({}):
            if self.weights and not weights_of(cell):
                notes.append(
                    f"Cell '{cell.name}' of '{key}' ({type(cell).__name__}) has "
                    "no kernel, recurrent_kernel or bias attribute: no weight "
                    "contributions for it."
                )
            if self.gate_stats and not gate_activations.gate_names(cell):
                notes.append(gate_activations.no_gates_note(key, cell))
        return notes

    @property
    def records_steps(self) -> bool:
        """Whether the pass records each step's inputs and incoming states."""
        return self.weights or self.gate_stats

    @contextlib.contextmanager
    def attach(self, new_probe: NewProbe) -> Iterator[dict]:
        """Instruments the layers while the model runs inside the block."""
        rnns = [layer for _, _, layer in self.parts if not is_cell(layer)]
        cells = [layer for _, _, layer in self.parts if is_cell(layer)]
        with (
            state_probes.attach(new_probe, rnns, record=self.records_steps) as loops,
            cell_probes.attach(new_probe, cells, record=self.records_steps) as steps,
        ):
            yield {**loops, **steps}

    def records(self, records: dict, calls: dict[str, int]) -> dict[str, list]:
        """`{layer key[/part]: [record per call]}`, checking each call of each
        layer could be probed.

        Args:
            records: As filled by `attach`.
            calls: `{layer key: how many times the model called it}`.
        """
        out = {}
        for ref, part, layer in self.parts:
            found = records[id(layer)]
            for call in found:
                if isinstance(call, CaptureError):
                    raise call
            if len(found) != calls[ref.key]:
                raise CaptureError(
                    f"Layer '{ref.key}' was called {calls[ref.key]} times, but "
                    f"its recurrence ran {len(found)} times, so its states "
                    "cannot be matched to its calls. Request only "
                    "'gradients' or 'activations' for it."
                )
            out[_part_key(ref.key, part)] = found
        return out

    def probes(self, records: dict[str, list], layout: Layout) -> dict[str, Any]:
        """`{base key: the probes (a list per call of a stacked entry)}`."""
        out = {}
        for (ref, part, _, entry), base in self._bases(layout):
            calls = records[_part_key(ref.key, part)]
            out[base] = unrolled.pick(entry, [r.probes for r in calls])
        return out

    def entries(
        self, records: dict[str, list], grads: dict, raw: bool, layout: Layout
    ) -> dict[str, dict]:
        """The state gradients, weight contributions and gate activations, as
        tensors.

        Args:
            records: From `records`.
            grads: `{base key: gradient of its probes}`, as `probes` gives.
            raw: Return each weight's per-timestep terms (timesteps,
                *weight.shape) instead of their norms per gate.
            layout: `{layer key: its entries}`.

        Returns:
            `{"state_gradients": {key: tensor}, "weight_contributions":
            {key: {weight: tensor}}, "gate_activations": {key: {band:
            tensor}}}`; a stacked entry's tensors are lists with one per call.
        """
        states, weights, gates = {}, {}, {}
        for (ref, part, _, entry), base in self._bases(layout):
            calls = [records[_part_key(ref.key, part)][i] for i in entry.calls]
            gradients = grads[base] if entry.stacked else [grads[base]]
            joined = _joined(calls, gradients)
            stacked = entry.stacked and joined is None
            if joined is not None:
                calls, gradients = joined
            per_call = [
                self._call_entries(base, record, gradient, raw)
                for record, gradient in zip(calls, gradients, strict=True)
            ]
            for kind, out in (
                ("states", states),
                ("weights", weights),
                ("gates", gates),
            ):
                for key in per_call[0][kind]:
                    values = [found[kind][key] for found in per_call]
                    out[key] = values if stacked else values[0]
        return {
            "state_gradients": states,
            "weight_contributions": {k: _by_weight(v) for k, v in weights.items()},
            "gate_activations": {k: _by_weight(v) for k, v in gates.items()},
        }

    def _call_entries(
        self, base: str, record: state_plan.StateRecord, gradient: Any, raw: bool
    ) -> dict[str, dict]:
        states, weights, gates = {}, {}, {}
        if self.states:
            states = state_gradients.entries(base, record, gradient)
        if self.weights:
            weights = self._weight_entries(base, record, gradient, raw)
        if self.gate_stats:
            gates = _gate_entries(base, record)
        return {"states": states, "weights": weights, "gates": gates}

    def _weight_entries(
        self, base: str, record: state_plan.StateRecord, gradient: Any, raw: bool
    ) -> dict[str, dict[str, Any]]:
        from tb_rnngrad.capture import weight_terms

        per_leaf = record.leaf_gradients(gradient)
        keys = state_gradients.leaf_keys(base, record.layer, len(record.leaves))
        compute = weight_terms.timestep_terms if raw else weight_terms.contributions
        out = {}
        for i, (key, leaf) in enumerate(zip(keys, record.leaves, strict=True)):
            if weights_of(leaf.cell):
                args = (record.inputs[i], record.states[i], per_leaf[i], record.mask)
                out[key] = compute(leaf, *args)
        return out


def _gate_entries(base: str, record: state_plan.StateRecord) -> dict[str, dict]:
    """`{leaf key: {band: (timesteps, gates)}}` of the leaves with gates."""
    keys = state_gradients.leaf_keys(base, record.layer, len(record.leaves))
    out = {}
    for i, (key, leaf) in enumerate(zip(keys, record.leaves, strict=True)):
        if gate_activations.gate_names(leaf.cell):
            hidden = record.states[i][0]
            out[key] = gate_activations.fractions(
                leaf.cell, record.inputs[i], hidden, record.mask
            )
    return out


def _joined(calls: list, gradients: list) -> tuple[list, list] | None:
    """A chain's calls as one record over all their timesteps (and the
    gradient of its probes), so that its entries are computed at once; None
    when the calls cannot be joined in the graph (one call, batch sizes
    unknown or different, different plans or masking): then call by call,
    and `unrolled` checks the shapes afterwards."""
    first = calls[0]
    batches = {g.shape[0] for g in gradients}
    if (
        len(calls) < 2
        or len(batches) != 1
        or None in batches
        or any(c.leaves != first.leaves for c in calls)
        or any(c.mask is not None for c in calls)
    ):
        return None

    def join(tensors: list) -> Any:
        return None if tensors[0] is None else ops.concatenate(tensors, axis=1)

    inputs = states = None
    if first.inputs is not None:
        inputs = [join([c.inputs[i] for c in calls]) for i in range(len(first.inputs))]
        states = [
            [join([c.states[i][j] for c in calls]) for j in range(len(leaf))]
            for i, leaf in enumerate(first.states)
        ]
    record = dataclasses.replace(first, probes=None, inputs=inputs, states=states)
    return [record], [ops.concatenate(gradients, axis=1)]


def _part_key(key: str, part: str | None) -> str:
    return key if part is None else f"{key}/{part}"


def _by_weight(value: Any) -> Any:
    """A stacked entry's `[{weight: tensor} per call]` as `{weight: [tensor
    per call]}`; one call's `{weight: tensor}` as it is."""
    if not isinstance(value, list):
        return value
    return {name: [terms[name] for terms in value] for name in value[0]}


def _check_recurrent(ref: LayerRef, layer: keras.layers.Layer) -> None:
    """Raises CaptureError unless `layer` (`ref`'s layer or one of its
    Bidirectional halves) is an RNN whose cell is a Layer, or a free cell."""
    if is_cell(layer):
        return
    if not isinstance(layer, keras.layers.RNN):
        raise CaptureError(
            f"Layer '{ref.key}' ({class_label(ref.layer)}) is not recurrent: "
            "'state_gradients', 'weight_contributions' and 'gate_activations' "
            "exist only for "
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
