"""What a capture result is logged as: one record per summary call.

Both loggers write these records with `tb_rnngrad.summary.write_pb` (the
Keras callback through TensorFlow's summary writer on the TensorFlow backend,
whose TF ops `tb_rnngrad.summary.write` write the same bytes); the tags, kinds and
descriptions are defined here once, for the `CaptureResult` of either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from tb_rnngrad.format import weight_layout
from tb_rnngrad.format.gate_saturation import BANDS, NEAR_0, NEAR_1
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.format.reduction import Reduction
from tb_rnngrad.result import CaptureResult

#: Suffix of an LSTM's cell-state entry in `CaptureResult.state_gradients`.
CELL_SUFFIX = "/cell"
#: Added to the description of the gradient of an output no path uses.
UNUSED_OUTPUT_NOTE = (
    "**Output unused downstream**: no path from the loss reaches it, so this "
    "gradient is zero; see the layer's state gradient (kind state_gradients)."
)

_DESCRIPTIONS = {
    "gradients": (
        "d(loss)/d(output of layer `{key}`) on {batch}. It holds only the paths "
        "through the layers after this one: read right to left, it shows how "
        "far back they carry gradient."
    ),
    "activations": "Output of layer `{key}` on {batch}.",
    "input_gradients": (
        "d(loss)/d({what}) on {batch}: how far back in time the whole network reaches."
    ),
    "state_gradients": (
        "Total d(loss)/d(h_t) of the hidden state of layer `{key}` on {batch}, "
        "through every path, the layer's own recurrence included: read right "
        "to left, where it fades is the layer's gradient horizon."
    ),
    "cell_state_gradients": (
        "Total d(loss)/d(c_t) of the cell state of LSTM `{key}` on {batch}, "
        "through every path: read right to left, it shows how far "
        "back the cell state carries gradient."
    ),
    "weight_contributions": (
        "Norm of each timestep's term of the weight gradient of layer `{key}` on "
        "{batch}, per weight and gate: whether early timesteps still shape the "
        "weights."
    ),
    "gate_activations": (
        "Saturation of the sigmoid gates of layer `{key}` on {batch}: at each "
        "timestep, the fraction of units whose gate is near 0 (below {near_0}, "
        "closed) and near 1 (above {near_1}, open), per gate. A forget gate "
        "near 0 at most timesteps erases the cell state every step."
    ),
    "weights": (
        "Values of `{what}` of layer `{key}`, a (rows, columns) matrix (a bias "
        "is one row) whose columns are the gate blocks {gates}, in that order."
    ),
    "weight_gradients": (
        "d(loss)/d(`{what}`) of layer `{key}` on {batch}, a (rows, columns) "
        "matrix (a bias is one row) whose columns are the gate blocks {gates}, "
        "in that order."
    ),
}


#: Descriptions of (batch, channels) data: a layer that returns its last output
#: only has no time axis to read.
_NO_TIME_DESCRIPTIONS = {
    "gradients": (
        "d(loss)/d(output of layer `{key}`) on {batch}. This layer's output has "
        "no time axis (it returns its last output only): one value per sample "
        "and channel, no timesteps to read."
    ),
    "activations": (
        "Last output of layer `{key}` on {batch}: no time axis, one value per "
        "sample and channel."
    ),
}
#: Added to a no-time description: where backpropagation through time is.
_STATE_NOTE = (
    "See the state gradients (`state_gradients/{key}`) for backpropagation "
    "through time inside the layer."
)
_NO_STATE_NOTE = (
    'Log its state gradients (kinds=(..., "state_gradients")) to see '
    "backpropagation through time inside the layer."
)


@dataclasses.dataclass(frozen=True)
class Record:
    """One summary call: `summary.write_pb(kind, tag, data, layer=..., ...)`;
    `reduction` is what the logger's byte budget chose (`step_budget`)."""

    kind: str
    tag: str
    data: np.ndarray
    layer: LayerInfo | None
    mask: np.ndarray | None
    description: str
    weights: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    reduction: Reduction | None = None


def records(result: CaptureResult, kinds: Sequence[str]) -> Iterator[Record]:
    """The records of the capture `kinds` in `result`, in `kinds` order.

    Tags are `<kind>/<key>`; an LSTM's cell-state entry `<key>/cell` of
    "state_gradients" is logged as kind "cell_state_gradients" under
    `state_gradients/<key>/cell`. Weight contributions are stacked into one
    (weights, timesteps, gates) tensor per cell, gate activations into one
    (bands, timesteps, gates) tensor. "weights" and
    "weight_gradients" give one record per cell and weight, tagged
    `<kind>/<key>/<weight>`, a bias as one row (its summary adds a histogram
    and scalars per gate under that tag).
    """
    for kind in kinds:
        if kind == "input_gradients":
            yield from _input_records(result)
        elif kind == "state_gradients":
            yield from _state_records(result)
        elif kind == "weight_contributions":
            yield from _weight_records(result)
        elif kind == "gate_activations":
            yield from _gate_records(result)
        elif kind in ("weights", "weight_gradients"):
            yield from _matrix_records(result, kind)
        else:
            for key, data in result.kind(kind).items():
                mask = _mask_for(data, result.masks.get(key))
                record = _record(kind, key, data, result.layers[key], mask)
                if data.ndim == 2 and kind in _NO_TIME_DESCRIPTIONS:
                    record = _without_time(record, key, result)
                if kind == "gradients" and key in result.unused_outputs:
                    text = f"{record.description} {UNUSED_OUTPUT_NOTE}"
                    record = dataclasses.replace(record, description=text)
                yield record


def _record(
    kind: str,
    key: str,
    data: np.ndarray,
    layer: LayerInfo | None,
    mask: np.ndarray | None,
    what: str = "",
    tag_kind: str = "",
    batch_size: int | None = None,
) -> Record:
    size = len(data) if batch_size is None else batch_size
    batch = f"a fixed batch of {size} samples" if size else "a fixed batch"
    text = _DESCRIPTIONS[kind].format(
        key=key, what=what, batch=batch, near_0=NEAR_0, near_1=NEAR_1
    )
    tag = f"{tag_kind or kind}/{key}"
    return Record(kind, tag, data, layer, mask, text)


def _without_time(record: Record, key: str, result: CaptureResult) -> Record:
    """`record` of (batch, channels) data, described as having no time axis
    and pointing at the layer's state gradients."""
    size = len(record.data)
    batch = f"a fixed batch of {size} samples" if size else "a fixed batch"
    text = _NO_TIME_DESCRIPTIONS[record.kind].format(key=key, batch=batch)
    if key in result.unused_outputs:  # UNUSED_OUTPUT_NOTE points there itself
        return dataclasses.replace(record, description=text)
    note = _STATE_NOTE if key in result.state_gradients else _NO_STATE_NOTE
    return dataclasses.replace(record, description=f"{text} {note.format(key=key)}")


def _input_records(result: CaptureResult) -> Iterator[Record]:
    for key, data in result.input_gradients.items():
        embedding = result.input_sources.get(key) == "embedding"
        what = f"output of Embedding `{key}`" if embedding else f"input `{key}`"
        mask = _mask_for(data, result.input_masks.get(key))
        yield _record("input_gradients", key, data, None, mask, what)


def _state_records(result: CaptureResult) -> Iterator[Record]:
    for key, data in result.state_gradients.items():
        is_cell = key.endswith(CELL_SUFFIX)
        kind = "cell_state_gradients" if is_cell else "state_gradients"
        owner = _owner(result, key)
        mask = _mask_for(data, result.masks.get(owner))
        layer = _layer_of(result, key, owner)
        yield _record(kind, key, data, layer, mask, tag_kind="state_gradients")


def _weight_records(result: CaptureResult) -> Iterator[Record]:
    for key, by_weight in result.weight_contributions.items():
        if not by_weight:
            continue
        data = np.stack(list(by_weight.values()))
        owner = _owner(result, key)
        record = _record(
            "weight_contributions", key, data, None, None, batch_size=_batch(result)
        )
        yield dataclasses.replace(
            record,
            layer=_layer_of(result, key, owner),
            weights=tuple(by_weight),
            gates=tuple(result.gates[key]),
        )


def _gate_records(result: CaptureResult) -> Iterator[Record]:
    for key, by_band in result.gate_activations.items():
        data = np.stack([by_band[band] for band in BANDS])
        record = _record(
            "gate_activations", key, data, None, None, batch_size=_batch(result)
        )
        yield dataclasses.replace(
            record,
            layer=_layer_of(result, key, _owner(result, key)),
            weights=BANDS,
            gates=tuple(result.activation_gates[key]),
        )


def _matrix_records(result: CaptureResult, kind: str) -> Iterator[Record]:
    size = _batch(result)
    batch = f"a fixed batch of {size} samples" if size else "a fixed batch"
    for key, by_weight in getattr(result, kind).items():
        gates = tuple(result.gates[key])
        layer = _layer_of(result, key, _owner(result, key))
        for name, data in by_weight.items():
            text = _DESCRIPTIONS[kind].format(
                key=key, what=name, batch=batch, gates=", ".join(gates)
            )
            yield Record(
                kind,
                f"{kind}/{key}/{name}",
                weight_layout.as_matrix(np.asarray(data)),
                layer,
                None,
                text,
                weights=(name,),
                gates=gates,
            )


def _batch(result: CaptureResult) -> int:
    """The probe batch's size from any per-sample entry; 0 if there is none
    (weight contributions have no batch axis)."""
    for kind in ("gradients", "activations", "state_gradients", "input_gradients"):
        for data in getattr(result, kind).values():
            return len(data)
    for mask in result.masks.values():
        if mask is not None:
            return len(mask)
    return 0


def _owner(result: CaptureResult, key: str) -> str:
    """The longest layer entry key that `key` extends (`key` itself if any)."""
    parts = key.split("/")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end])
        if candidate in result.layers:
            return candidate
    return key


def _layer_of(result: CaptureResult, key: str, owner: str) -> LayerInfo | None:
    """The owner's description, with the direction a state entry names."""
    info = result.layers.get(owner)
    if info is None:
        return None
    for direction in ("forward", "backward"):
        if f"/{direction}" in key[len(owner) :]:
            return dataclasses.replace(info, direction=direction)
    return info


def _mask_for(data: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """The mask if it describes `data`'s time axis, else None."""
    if mask is None or data.ndim != 3 or tuple(mask.shape) != data.shape[:2]:
        return None
    return mask


class ShapeFilter:
    """Passes the records the format can store; warns once per tag it skips.

    Args:
      warn: Called with a message when a tag is skipped the first time.
    """

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._skipped: set[str] = set()

    def loggable(self, record: Record) -> bool:
        """Whether `record` is (batch, [timesteps,] channels) data."""
        if record.data.ndim in (2, 3):
            return True
        if record.tag not in self._skipped:
            self._skipped.add(record.tag)
            self._warn(
                f"'{record.tag}' has shape {record.data.shape}; only (batch, "
                "timesteps, channels) and (batch, channels) tensors are logged, "
                "so it is skipped"
            )
        return False
