"""NumPy twins of the summary ops: `Summary` protos without TensorFlow.

For PyTorch, JAX or tensorboardX users: write the returned proto with any
event writer, e.g. tensorboardX's `SummaryWriter.file_writer.add_summary`.

The TF op writes its three values as three events; do the same with the
returned `Summary` for large tensors, one event per value:

    for value in summary.value:
        writer.add_summary(Summary(value=[value]), step)

TensorBoard's Python multiplexer (`--load_fast=false`) keeps every step of the
small profile, and a profile read from one event with the full tensor keeps
that whole event, tensor included, in memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.scalar import summary_v2 as scalar_summary
from tensorboard.util import tensor_util

from tb_rnngrad.format import metadata, npy_format, stats, validation
from tb_rnngrad.format.layer_info import describe_layer
from tb_rnngrad.proto import plugin_data_pb2


def gradients_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of d(loss)/d(layer output); see `write_pb` for the arguments."""
    return write_pb("gradients", name, data, **options)


def activations_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of a layer's outputs; see `write_pb` for the arguments."""
    return write_pb("activations", name, data, **options)


def input_gradients_pb(name: str, data: Any, **options: Any) -> summary_pb2.Summary:
    """Summary of d(loss)/d(model input); see `write_pb` for the arguments."""
    return write_pb("input_gradients", name, data, **options)


def write_pb(
    kind: str,
    name: str,
    data: Any,
    *,
    layer: Any = None,
    description: str | None = None,
    mask: Any = None,
    reach_threshold: float = metadata.DEFAULT_REACH_THRESHOLD,
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
      mask: Optional (batch, timesteps) bool array, True for valid timesteps.
      reach_threshold: Relative threshold of the reach scalar (`stats.reach`).

    Returns:
      A `Summary` with the full tensor, its profile and (rank 3) its reach.

    Raises:
      TypeError, ValueError: `data` or `mask` is not of a supported shape or
        dtype (see `validation`).
    """
    array = validation.as_checked_array(data)
    mask_array = _checked_mask(mask, array)
    info = describe_layer(layer)
    description = description or ""
    blobs = [npy_format.encode(array)]
    if mask_array is not None:
        blobs.append(npy_format.encode(mask_array))

    def plugin_data(content: int) -> plugin_data_pb2.RnnGradPluginData:
        return metadata.create_plugin_data(
            kind=kind,
            content=content,
            layer=info,
            shape=array.shape,
            dtype=array.dtype.name,
            has_mask=mask_array is not None,
            reach_threshold=reach_threshold,
        )

    summary = summary_pb2.Summary()
    summary.value.add(
        tag=name,
        metadata=metadata.create_summary_metadata(
            plugin_data(plugin_data_pb2.FULL_TENSOR),
            display_name=name,
            description=description,
        ),
        tensor=tensor_util.make_tensor_proto(blobs, dtype=np.object_),
    )
    profile = stats.profile(array)
    summary.value.add(
        tag=metadata.profile_tag(name),
        metadata=metadata.create_summary_metadata(
            plugin_data(plugin_data_pb2.PROFILE),
            display_name=metadata.profile_tag(name),
            description=description,
        ),
        tensor=tensor_util.make_tensor_proto(profile),
    )
    if array.ndim == 3:
        reach = np.float32(stats.reach(profile[0], reach_threshold))
        summary.MergeFrom(
            scalar_summary.scalar_pb(metadata.reach_tag(name), reach, description)
        )
    return summary


def _checked_mask(mask: Any, array: np.ndarray) -> np.ndarray | None:
    if mask is None:
        return None
    mask_array = np.asarray(mask)
    if mask_array.dtype != np.bool_:
        raise TypeError(
            f"mask must be a bool array (True = valid timestep), got dtype "
            f"{mask_array.dtype.name}"
        )
    validation.check_mask_spec(mask_array.shape, array.shape)
    return np.ascontiguousarray(mask_array)
