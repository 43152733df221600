"""Summary metadata of the ``rnngrad`` plugin: names, tags, create and parse.

`create_summary_metadata` is the one builder of what a summary call writes;
the TF op and its NumPy twin both call it. Importing this module does not
import TensorFlow.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.scalar import metadata as scalar_metadata

from tb_rnngrad.format import weight_layout
from tb_rnngrad.format.layer_info import LayerInfo, describe_layer
from tb_rnngrad.proto import plugin_data_pb2

logger = logging.getLogger(__name__)

#: Plugin name of full tensors (blob sequences); `--samples_per_plugin rnngrad=N`.
PLUGIN_NAME = "rnngrad"
#: Plugin name of the per-timestep profiles (tensors), kept apart so that every
#: logged step of the small profile can be retained while few large tensors are.
PROFILE_PLUGIN_NAME = "rnngrad_profile"
#: Newest version of `RnnGradPluginData` this package reads and writes.
PROTO_VERSION = 4
#: The version of a full tensor stored reduced (`reduction`): older readers
#: would show its float16 storage unscaled, so they skip it.
REDUCED_VERSION = 3
#: Default relative threshold of the reach scalar (see `stats.reach`).
DEFAULT_REACH_THRESHOLD = 0.01

_KIND_TO_ENUM = {
    "gradients": plugin_data_pb2.GRADIENTS,
    "activations": plugin_data_pb2.ACTIVATIONS,
    "input_gradients": plugin_data_pb2.INPUT_GRADIENTS,
    "state_gradients": plugin_data_pb2.STATE_GRADIENTS,
    "cell_state_gradients": plugin_data_pb2.CELL_STATE_GRADIENTS,
    "weight_contributions": plugin_data_pb2.WEIGHT_CONTRIBUTIONS,
    "weights": plugin_data_pb2.WEIGHTS,
    "weight_gradients": plugin_data_pb2.WEIGHT_GRADIENTS,
    "gate_activations": plugin_data_pb2.GATE_ACTIVATIONS,
}
_ENUM_TO_KIND = {v: k for k, v in _KIND_TO_ENUM.items()}
#: The kinds of tensor the summary ops log (`RnnGradPluginData.kind`).
KINDS = tuple(_KIND_TO_ENUM)
#: The kinds that carry the names of their axes 0 and 2 (`weights`, `gates`):
#: (weights, timesteps, gates) norms, and (bands, timesteps, gates) fractions
#: of saturated gates (`gate_saturation.BANDS`).
NAMED_AXES_KINDS = ("weight_contributions", "gate_activations")
#: The kinds whose tensor is one weight as a (rows, columns) matrix, its
#: columns split into equal gate blocks (`weight_layout`): `weights` holds the
#: weight's one name and `gates` the blocks'. They have no time axis, so no
#: profile and no reach; per-gate histograms and scalars instead.
MATRIX_KINDS = ("weights", "weight_gradients")
#: The version each kind is written with: the oldest that can read it, so a
#: version-1 reader still reads the kinds it knows and skips the newer ones.
_KIND_VERSION = {
    "state_gradients": 2,
    "cell_state_gradients": 2,
    "weight_contributions": 2,
    "weights": 2,
    "weight_gradients": 2,
    "gate_activations": 4,
}


def profile_tag(tag: str) -> str:
    """Tag of the per-timestep profile companion of the full-tensor `tag`."""
    return tag + "/profile"


def end_profile_tag(tag: str) -> str:
    """Tag of the end-aligned profile (`stats.end_profile`) of a masked `tag`."""
    return tag + "/end_profile"


def gate_tag(tag: str, gate: str) -> str:
    """Tag of the histogram of one gate's block of the weight `tag`."""
    return f"{tag}/{gate}"


def gate_stat_tag(tag: str, gate: str, stat: str) -> str:
    """Tag of one per-gate scalar (`weight_layout.GATE_STATS`) of `tag`."""
    return f"{gate_tag(tag, gate)}/{stat}"


def reach_tag(tag: str) -> str:
    """Tag of the gradient-reach scalar companion of the full-tensor `tag`."""
    return tag + "/reach"


def kind_name(kind_enum: int) -> str:
    """Name ("gradients", ...) of a `Kind` enum value; "unknown" if unknown."""
    return _ENUM_TO_KIND.get(kind_enum, "unknown")


def create_plugin_data(
    *,
    kind: str,
    content: int,
    layer: LayerInfo,
    shape: tuple[int, ...],
    dtype: str,
    has_mask: bool,
    reach_threshold: float,
    weights: Sequence[str] = (),
    gates: Sequence[str] = (),
    stored: Stored | None = None,
) -> plugin_data_pb2.RnnGradPluginData:
    """Builds the plugin's metadata message.

    Args:
      kind: One of `KINDS`.
      content: `plugin_data_pb2.FULL_TENSOR` or `plugin_data_pb2.PROFILE`.
      layer: Description of the recurrent layer.
      shape: Shape of the logged tensor.
      dtype: NumPy name of the stored dtype, e.g. "float32".
      has_mask: Whether a mask is stored beside the tensor.
      reach_threshold: Relative threshold of the reach scalar.
      weights: For `NAMED_AXES_KINDS`, the names of axis 0.
      gates: For `NAMED_AXES_KINDS`, the names of axis 2.
      stored: For a reduced full tensor, what is stored (`shape` and `dtype`
        are then the captured ones); None if stored as captured.

    Returns:
      A `RnnGradPluginData` message of the version `kind` (and a reduction)
      needs.

    Raises:
      ValueError: `kind` is not one of `KINDS`, or the axis names do not fit
        the kind and shape.
    """
    if kind not in _KIND_TO_ENUM:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    _check_axis_names(kind, shape, weights, gates)
    version = _KIND_VERSION.get(kind, 1)
    reduced: dict[str, Any] = {}
    if stored is not None:
        version = max(version, REDUCED_VERSION)
        reduced = {
            "captured_shape": list(shape),
            "captured_dtype": dtype,
            "timestep_pool": stored.pool if stored.pool > 1 else 0,
        }
        shape, dtype = stored.shape, stored.dtype
    return plugin_data_pb2.RnnGradPluginData(
        version=version,
        kind=_KIND_TO_ENUM[kind],
        content=content,
        layer_class=layer.layer_class,
        layer_name=layer.name,
        units=layer.units,
        bidirectional=layer.bidirectional,
        merge_mode=layer.merge_mode,
        direction=layer.direction,
        call_timesteps=list(layer.call_timesteps),
        shape=list(shape),
        dtype=dtype,
        reach_threshold=reach_threshold,
        has_mask=has_mask,
        weights=list(weights),
        gates=list(gates),
        **reduced,
    )


def _check_axis_names(
    kind: str, shape: Sequence[int], weights: Sequence[str], gates: Sequence[str]
) -> None:
    """Raises ValueError unless `weights` and `gates` name axes 0 and 2 (or,
    for `MATRIX_KINDS`, the weight and the gate blocks of its columns)."""
    if kind in MATRIX_KINDS:
        _check_matrix_names(kind, shape, weights, gates)
        return
    if kind not in NAMED_AXES_KINDS:
        if weights or gates:
            raise ValueError(
                f"weights and gates name the axes of {NAMED_AXES_KINDS} data only; "
                f"got weights={list(weights)}, gates={list(gates)} for {kind!r}."
            )
        return
    for axis, what, names in ((0, "weights", weights), (2, "gates", gates)):
        size = shape[axis] if len(shape) == 3 else None
        if size is None or (size >= 0 and len(names) != size):
            raise ValueError(
                f"{kind} data is (names, timesteps, gates) with {what}= naming "
                f"axis {axis}; got shape {tuple(shape)} and {what}={list(names)}. "
                f"Pass one name per entry of axis {axis}."
            )


def _check_matrix_names(
    kind: str, shape: Sequence[int], weights: Sequence[str], gates: Sequence[str]
) -> None:
    if len(weights) != 1 or not weights[0]:
        raise ValueError(
            f"{kind} data is one weight: pass its name, e.g. weight='kernel' "
            f"(weights=['kernel']); got weights={list(weights)}."
        )
    if len(shape) != 2:
        raise ValueError(
            f"{kind} data is a (rows, columns) matrix; got shape {tuple(shape)}."
        )
    if shape[1] >= 0:
        weight_layout.gate_columns(shape[1], gates)


class Stored(NamedTuple):
    """What a reduced full tensor stores (`tb_rnngrad.format.reduction`)."""

    shape: tuple[int, ...]
    dtype: str
    pool: int


class Series(NamedTuple):
    """One time series a summary call writes: its tag and its metadata."""

    tag: str
    metadata: summary_pb2.SummaryMetadata


@dataclasses.dataclass(frozen=True)
class GateSeries:
    """What one summary call of a `MATRIX_KINDS` kind writes per gate.

    Attributes:
      gate: The gate name.
      columns: `(start, stop)`, the columns of the matrix the gate occupies.
      histogram_tag: `<tag>/<gate>`, a TensorBoard histogram of the block's
        finite values (written by TensorBoard's own histogram summary).
      stats: `<tag>/<gate>/<stat>` for each of `weight_layout.GATE_STATS`,
        ordinary scalars.
    """

    gate: str
    columns: tuple[int, int]
    histogram_tag: str
    stats: tuple[Series, ...]


@dataclasses.dataclass(frozen=True)
class SummarySeries:
    """The time series one summary call writes (see docs/format.md).

    Attributes:
      full_tensor: `<tag>`, a blob sequence under `PLUGIN_NAME`.
      profile: `<tag>/profile`, a tensor under `PROFILE_PLUGIN_NAME`; None
        for `MATRIX_KINDS`, which have no time axis.
      reach: `<tag>/reach`, an ordinary scalar; None for (batch, channels)
        data and `MATRIX_KINDS`, which have no time axis.
      gates: For `MATRIX_KINDS`, the histogram and scalars of each gate.
      end_profile: `<tag>/end_profile`, a tensor under `PROFILE_PLUGIN_NAME`
        (`stats.end_profile`), for masked data with a time axis; else None.
    """

    full_tensor: Series
    profile: Series | None
    reach: Series | None
    gates: tuple[GateSeries, ...] = ()
    end_profile: Series | None = None


def create_summary_metadata(
    tag: str,
    *,
    kind: str,
    layer: Any,
    shape: Sequence[int],
    dtype: str,
    has_mask: bool,
    reach_threshold: float,
    description: str | None,
    weights: Sequence[str] = (),
    gates: Sequence[str] = (),
    stored: Stored | None = None,
) -> SummarySeries:
    """Tags and metadata of everything one summary call writes.

    The TF op and the NumPy twin both call this, so they write the same bytes.

    Args:
      tag: Tag of the full tensor.
      kind: One of `KINDS`.
      layer: Anything `describe_layer` accepts: None, a `LayerInfo`, a dict or
        a Keras layer.
      shape: Shape of the logged tensor, -1 for a dimension unknown when
        tracing.
      dtype: NumPy name of the stored dtype, e.g. "float32".
      has_mask: Whether a mask is stored beside the tensor.
      reach_threshold: Relative threshold of the reach scalar.
      description: Markdown description shown in TensorBoard, or None.
      weights: For "weight_contributions", the names of axis 0; for
        `MATRIX_KINDS`, the weight's one name.
      gates: For "weight_contributions", the names of axis 2; for
        `MATRIX_KINDS`, the gates of the equal column blocks.
      stored: For a full tensor stored reduced, what is stored; `shape` and
        `dtype` are the captured ones, which the profile describes.

    Returns:
      The full tensor's, the profile's and (rank 3 only) the reach's series,
      and for masked rank-3 data the end-aligned profile's;
      for `MATRIX_KINDS` the full tensor's and each gate's.

    Raises:
      ValueError: `kind` is not one of `KINDS`.
      TypeError: `layer` is not something `describe_layer` accepts.
    """
    info = describe_layer(layer)
    description = description or ""

    def rnngrad_series(content: int, series_tag: str) -> Series:
        full = content == plugin_data_pb2.FULL_TENSOR
        plugin_data = create_plugin_data(
            kind=kind,
            content=content,
            layer=info,
            shape=tuple(shape),
            dtype=dtype,
            has_mask=has_mask,
            reach_threshold=reach_threshold,
            weights=weights,
            gates=gates,
            stored=stored if full else None,
        )
        return Series(series_tag, _wrap(plugin_data, series_tag, description))

    def scalar_series(series_tag: str) -> Series:
        return Series(
            series_tag,
            scalar_metadata.create_summary_metadata(
                display_name=None, description=description
            ),
        )

    full_tensor = rnngrad_series(plugin_data_pb2.FULL_TENSOR, tag)
    if kind in MATRIX_KINDS:
        spans = weight_layout.gate_columns(shape[1], gates) if shape[1] >= 0 else []
        per_gate = tuple(
            GateSeries(
                gate=gate,
                columns=span,
                histogram_tag=gate_tag(tag, gate),
                stats=tuple(
                    scalar_series(gate_stat_tag(tag, gate, stat))
                    for stat in weight_layout.GATE_STATS
                ),
            )
            for gate, span in zip(gates, spans, strict=True)
        )
        return SummarySeries(full_tensor, None, None, per_gate)
    has_time = len(shape) == 3
    end_profile = None
    if has_time and has_mask:
        end_profile = rnngrad_series(plugin_data_pb2.PROFILE, end_profile_tag(tag))
    return SummarySeries(
        full_tensor=full_tensor,
        profile=rnngrad_series(plugin_data_pb2.PROFILE, profile_tag(tag)),
        reach=scalar_series(reach_tag(tag)) if has_time else None,
        end_profile=end_profile,
    )


def _wrap(
    plugin_data: plugin_data_pb2.RnnGradPluginData,
    display_name: str,
    description: str,
) -> summary_pb2.SummaryMetadata:
    """`plugin_data` in a `SummaryMetadata` with its plugin name and data class.

    Full tensors are blob sequences under `PLUGIN_NAME`; profiles are tensors
    under `PROFILE_PLUGIN_NAME`.
    """
    is_profile = plugin_data.content == plugin_data_pb2.PROFILE
    return summary_pb2.SummaryMetadata(
        display_name=display_name,
        summary_description=description,
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PROFILE_PLUGIN_NAME if is_profile else PLUGIN_NAME,
            content=plugin_data.SerializeToString(),
        ),
        data_class=(
            summary_pb2.DATA_CLASS_TENSOR
            if is_profile
            else summary_pb2.DATA_CLASS_BLOB_SEQUENCE
        ),
    )


def parse_plugin_metadata(
    content: bytes, *, warn: bool = True
) -> plugin_data_pb2.RnnGradPluginData | None:
    """Parses the `plugin_data.content` of an rnngrad summary.

    Args:
      content: The serialized `RnnGradPluginData`.
      warn: Whether to log a warning for a newer version; callers that report
        the skipped series themselves (with its run and tag) pass False.

    Returns:
      The parsed message, or None (after logging a warning if `warn`) when it
      was written by a newer, unknown version of this format.

    Raises:
      TypeError: `content` is not `bytes`.
      google.protobuf.message.DecodeError: `content` is not a valid message.
    """
    if not isinstance(content, bytes):
        raise TypeError(
            f"plugin metadata content must be bytes, got {type(content).__name__}"
        )
    result = plugin_data_pb2.RnnGradPluginData.FromString(content)
    if result.version > PROTO_VERSION:
        if not warn:
            return None
        logger.warning(
            "Skipping rnngrad data of format version %d: this tb-rnngrad reads "
            "versions up to %d; upgrade tb-rnngrad to read it.",
            result.version,
            PROTO_VERSION,
        )
        return None
    return result
