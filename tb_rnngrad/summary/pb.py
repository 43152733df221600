"""NumPy twins of the summary ops: `Summary` protos without TensorFlow.

For PyTorch, JAX or tensorboardX users: write the returned proto with any
event writer, e.g. tensorboardX's `SummaryWriter.file_writer.add_summary`.

The TF op writes each value as an event of its own; do the same with the
returned `Summary` for large tensors, one event per value:

    for value in summary.value:
        writer.add_summary(Summary(value=[value]), step)

TensorBoard's Python multiplexer (`--load_fast=false`) keeps every step of the
small profile, and a profile read from one event with the full tensor keeps
that whole event, tensor included, in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.histogram import summary_v2 as histogram_summary
from tensorboard.util import tensor_util

from tb_rnngrad.format import metadata, npy_format, stats, validation, weight_layout
from tb_rnngrad.format import reduction as reducing
from tb_rnngrad.format.gate_saturation import BANDS
from tb_rnngrad.format.reduction import Reduction


def gradients_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of d(loss)/d(layer output); see `write_pb` for the arguments."""
    return write_pb("gradients", name, data, **options)


def activations_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of a layer's outputs; see `write_pb` for the arguments."""
    return write_pb("activations", name, data, **options)


def input_gradients_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of d(loss)/d(model input); see `write_pb` for the arguments."""
    return write_pb("input_gradients", name, data, **options)


def state_gradients_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of d(loss)/d(h_t); see `write_pb` for the arguments."""
    return write_pb("state_gradients", name, data, **options)


def cell_state_gradients_pb(
    name: str, data: Any, **options: Any
) -> summary_pb2.Summary:
    """Summary of an LSTM's d(loss)/d(c_t); see `write_pb` for the arguments."""
    return write_pb("cell_state_gradients", name, data, **options)


def weight_contributions_pb(
    name: str, data: Any, *, weights: Sequence[str], gates: Sequence[str],
    **options: Any,
) -> summary_pb2.Summary:  # fmt: skip
    """Summary of each timestep's share of the weight update, (weights,
    timesteps, gates); see `write_pb` for the arguments."""
    return write_pb(
        "weight_contributions", name, data, weights=weights, gates=gates, **options
    )


def gate_activations_pb(
    name: str, data: Any, *, gates: Sequence[str], **options: Any
) -> summary_pb2.Summary:
    """Summary of the near-0 and near-1 fractions of each sigmoid gate, (2,
    timesteps, gates); see `write_pb` for the arguments."""
    return write_pb(
        "gate_activations", name, data, weights=BANDS, gates=gates, **options
    )


def weights_pb(
    name: str,
    data: Any,
    *,
    weight: str,
    gates: Sequence[str],
    layer: Any = None,
    description: str | None = None,
    reduction: Reduction | None = None,
) -> summary_pb2.Summary:
    """Summary of one recurrent weight's values, split into its gate blocks.

    Args:
      name: Tag of the full matrix; the histogram of gate g is `<name>/<g>`,
        its scalars `<name>/<g>/max_abs`, `/zero_fraction`, `/nonfinite`.
      data: (rows, columns) array, or (columns,) for a bias (stored as one
        row); its columns are `len(gates)` equal blocks in Keras's order.
      weight: The weight's name, e.g. "kernel", "recurrent_kernel", "bias".
      gates: The gate names, e.g. ("i", "f", "c", "o") for an LSTM.
      layer: A Keras layer, `LayerInfo` or dict describing the layer.
      description: Markdown description shown in TensorBoard.
      reduction: None, or `Reduction(float16=True)` to store the matrix as
        scaled float16 (the histograms and scalars stay exact).

    Returns:
      A `Summary` with the matrix, one histogram and three scalars per gate.

    Raises:
      TypeError, ValueError: `data` is not a real floating rank-1 or rank-2
        array, or its columns do not split into `len(gates)` equal blocks.
    """
    return write_pb(
        "weights", name, data, layer=layer, description=description,
        weights=(weight,), gates=gates, reduction=reduction,
    )  # fmt: skip


def weight_gradients_pb(
    name: str, data: Any, *, weight: str, gates: Sequence[str], **options: Any
) -> summary_pb2.Summary:
    """Summary of the gradient of one recurrent weight; arguments as in
    `weights_pb`."""
    return write_pb(
        "weight_gradients", name, data, weights=(weight,), gates=gates, **options
    )


def write_pb(
    kind: str,
    name: str,
    data: Any,
    *,
    layer: Any = None,
    description: str | None = None,
    mask: Any = None,
    reach_threshold: float = metadata.DEFAULT_REACH_THRESHOLD,
    weights: Sequence[str] = (),
    gates: Sequence[str] = (),
    reduction: Reduction | None = None,
) -> summary_pb2.Summary:
    """Builds the `Summary` that the TF op of the same `kind` writes.

    Args:
      kind: One of `metadata.KINDS`.
      name: Tag of the full tensor; companions are `<name>/profile` and, for
        data with a time axis, `<name>/reach`.
      data: Array-like of shape (batch, timesteps, channels) or (batch,
        channels), float16, float32 or float64 (stored as given).
      layer: A Keras layer, `LayerInfo` or dict describing the layer.
      description: Markdown description shown in TensorBoard.
      mask: Optional (batch, timesteps) bool array, True for valid timesteps;
        the reach is then counted from each sample's last valid timestep.
      reach_threshold: Relative threshold of the reach scalar (`stats.reach`).
      weights: For "weight_contributions", the names of axis 0.
      gates: For "weight_contributions", the names of axis 2 (gates).
      reduction: How to reduce the stored full tensor
        (`tb_rnngrad.format.reduction`); the profile, reach and end-aligned
        profile are computed on `data` as given. None stores it as given.

    Returns:
      A `Summary` with the full tensor, its profile, (rank 3) its reach and
      (rank 3 with a mask) its end-aligned profile.

    Raises:
      TypeError, ValueError: `data` or `mask` is not of a supported shape or
        dtype (see `validation`), or `reduction` does not apply to `kind`.
    """
    if kind in metadata.MATRIX_KINDS:
        if mask is not None:
            raise ValueError(f"{kind} data has no time axis: pass mask=None.")
        return _matrix_pb(
            kind, name, data, layer, description, weights, gates, reduction
        )
    array = validation.as_checked_array(data)
    mask_array = validation.as_checked_mask(mask, array.shape)
    role = "fixed" if kind in metadata.NAMED_AXES_KINDS else "sequence"
    chosen = reducing.resolve(reduction, kind, array.shape, role)
    stored, blobs = _stored(array, mask_array, chosen)
    series = metadata.create_summary_metadata(
        name,
        kind=kind,
        layer=layer,
        shape=array.shape,
        dtype=array.dtype.name,
        has_mask=mask_array is not None,
        reach_threshold=reach_threshold,
        description=description,
        weights=weights,
        gates=gates,
        stored=stored,
    )
    profile = stats.profile(array)
    values = [(series.full_tensor, np.array(blobs, dtype=np.object_))]
    reach_norms = profile[0]
    if series.end_profile is not None:  # before the profile, which readers poll
        reach_norms = stats.end_profile(array, mask_array)
        values.append((series.end_profile, reach_norms))
    values.append((series.profile, profile))
    if series.reach is not None:
        values.append(
            (series.reach, np.float32(stats.reach(reach_norms, reach_threshold)))
        )
    summary = summary_pb2.Summary()
    for (tag, summary_metadata), value in values:
        summary.value.add(
            tag=tag,
            metadata=summary_metadata,
            tensor=tensor_util.make_tensor_proto(value),
        )
    return summary


def _stored(
    array: np.ndarray, mask: np.ndarray | None, chosen: Reduction | None
) -> tuple[metadata.Stored | None, list[bytes]]:
    """What the full tensor's metadata says is stored, and its blobs: the
    data, the mask if any, and for a reduced tensor its reduction index."""
    if chosen is None:
        blobs = [npy_format.encode(array)]
        return None, blobs + ([] if mask is None else [npy_format.encode(mask)])
    reduced = reducing.apply(array, mask, chosen)
    blobs = [npy_format.encode(reduced.data)]
    if reduced.mask is not None:
        blobs.append(npy_format.encode(reduced.mask))
    blobs.append(npy_format.encode(reduced.index))
    stored = metadata.Stored(reduced.data.shape, reduced.data.dtype.name, chosen.pool)
    return stored, blobs


def _matrix_pb(
    kind: str,
    name: str,
    data: Any,
    layer: Any,
    description: str | None,
    weights: Sequence[str],
    gates: Sequence[str],
    reduction: Reduction | None,
) -> summary_pb2.Summary:
    """The matrix, then each gate's histogram and scalars (`MATRIX_KINDS`)."""
    array = validation.as_checked_matrix(data)
    chosen = reducing.resolve(reduction, kind, array.shape, "matrix")
    stored, blobs = _stored(array, None, chosen)
    series = metadata.create_summary_metadata(
        name,
        kind=kind,
        layer=layer,
        shape=array.shape,
        dtype=array.dtype.name,
        has_mask=False,
        reach_threshold=metadata.DEFAULT_REACH_THRESHOLD,
        description=description,
        weights=weights,
        gates=gates,
        stored=stored,
    )
    summary = summary_pb2.Summary()
    tag, summary_metadata = series.full_tensor
    summary.value.add(
        tag=tag,
        metadata=summary_metadata,
        tensor=tensor_util.make_tensor_proto(np.array(blobs, dtype=np.object_)),
    )
    for gate in series.gates:
        block = array[:, gate.columns[0] : gate.columns[1]]
        histogram = histogram_summary.histogram_pb(
            gate.histogram_tag,
            weight_layout.finite_values(block),
            description=description,
        )
        summary.value.extend(histogram.value)
        for (stat_tag, stat_metadata), value in zip(
            gate.stats, weight_layout.gate_stats(block), strict=True
        ):
            summary.value.add(
                tag=stat_tag,
                metadata=stat_metadata,
                tensor=tensor_util.make_tensor_proto(np.float32(value)),
            )
    return summary
