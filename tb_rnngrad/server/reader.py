"""Reads rnngrad data through TensorBoard's `DataProvider` API.

Used by the plugin's HTTP routes and by command-line tools alike: everything
goes through `list_*`, `read_*` and `read_blob` of a data provider, so it works
with the Rust data server (`--load_fast=true`), the Python multiplexer
(`--load_fast=false`), and any other provider.

Errors a caller can report as they are raise `tensorboard.errors.NotFoundError`
(unknown run, tag or step; a blob no longer retained; unreadable data).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from typing import Any

import numpy as np
from google.protobuf import message
from tensorboard import errors
from tensorboard.data import provider as dp

from tb_rnngrad.format import metadata, npy_format, reduction, stats
from tb_rnngrad.proto import plugin_data_pb2
from tb_rnngrad.server.cache import LruCache

logger = logging.getLogger(__name__)

#: `downsample` that asks a provider for every retained point: retention is
#: set by `--samples_per_plugin`, the routes serve all that is kept.
ALL_RETAINED = 2**31 - 1
#: Parsed metadata kept per distinct serialized content.
_PARSE_CACHE_SIZE = 4096
#: Series whose step -> blob key index is kept.
_INDEX_CACHE_SIZE = 1024


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """Metadata of one full-tensor series (one run, one tag)."""

    run: str
    tag: str
    kind: str
    layer_name: str
    layer_class: str
    units: int
    bidirectional: bool
    merge_mode: str
    direction: str
    shape: tuple[int, ...]
    dtype: str
    description: str
    max_step: int
    has_mask: bool
    reach_threshold: float
    version: int
    weights: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    call_timesteps: tuple[int, ...] = ()
    #: Wall time of the newest datum (with `max_step`, the series' version).
    max_wall_time: float = 0.0
    #: A reduced series (`format.reduction`): the captured shape and dtype and
    #: the timestep pooling; () / "" / 0 for a tensor stored as captured.
    captured_shape: tuple[int, ...] = ()
    captured_dtype: str = ""
    timestep_pool: int = 0

    @property
    def reduced(self) -> bool:
        """Whether the stored tensor is reduced (then a reduction index
        blob ends each step's blob sequence)."""
        return bool(self.captured_shape)

    @property
    def index_position(self) -> int:
        """Position of the reduction index in a step's blob sequence."""
        return 2 if self.has_mask else 1


@dataclasses.dataclass(frozen=True)
class UnreadableSeries:
    """A series whose metadata is corrupt or of a newer format version."""

    run: str
    tag: str
    reason: str


@dataclasses.dataclass(frozen=True)
class StepInfo:
    """A retained step of a full-tensor series."""

    step: int
    wall_time: float


@dataclasses.dataclass(frozen=True)
class ProfileSeries:
    """The profile companion of a full-tensor series, without its data."""

    run: str
    tag: str
    max_step: int
    max_wall_time: float
    reach_threshold: float
    has_mask: bool = False


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Every retained per-timestep profile of a series, in step order.

    Attributes:
      run: Run name.
      tag: Tag of the full tensor (the profile's tag is `<tag>/profile`).
      steps: Steps, increasing.
      wall_times: Wall time of each step, in seconds.
      arrays: float32 (3, timesteps) per step: L2 norm, NaN count, Inf count.
      reach_threshold: Relative threshold of the reach (`stats.reach`).
      end_norms: Per step, the end-aligned profile (`stats.end_profile`) of a
        masked series, or None (no mask, or logged before it was written).
    """

    run: str
    tag: str
    steps: list[int]
    wall_times: list[float]
    arrays: list[np.ndarray]
    reach_threshold: float
    end_norms: list[np.ndarray | None] | None = None

    def reach(self) -> list[int]:
        """Gradient reach (`stats.reach`) of each step: counted from each
        sample's last valid timestep where the end-aligned profile is kept,
        else from the last timestep."""
        ends = self.end_norms or [None] * len(self.arrays)
        return [
            stats.reach(a[0] if end is None else end, self.reach_threshold)
            for a, end in zip(self.arrays, ends, strict=True)
        ]


def _float32_value(value: float) -> float:
    """A float32 field as the shortest decimal that round-trips in float32."""
    return float(str(np.float32(value))) if math.isfinite(value) else 0.0


def _wall_time(value: float) -> float:
    """A stored wall time; non-finite (corrupt) values read as 0."""
    return float(value) if math.isfinite(value) else 0.0


class _MalformedBlob(errors.NotFoundError):
    """A stored blob that is not bytes; retrying cannot help."""


def _series_label(run: str, tag: str) -> str:
    return f"run {run!r}, tag {tag!r}"


#: Retained blob references of a series, by step.
_BlobIndex = dict[int, dp.BlobSequenceDatum]


def _blob_key(index: _BlobIndex, run: str, tag: str, step: int, position: int) -> str:
    """Key of blob `position` (0 tensor, 1 mask) at `step`, or NotFoundError."""
    datum = index.get(step)
    if datum is None:
        steps = sorted(index)
        kept = (
            f"{len(steps)} steps are retained, {steps[0]} to {steps[-1]}"
            if steps
            else "no steps are retained"
        )
        raise errors.NotFoundError(
            f"{_series_label(run, tag)} has no retained full tensor at step "
            f"{step} ({kept}; keep more with --samples_per_plugin rnngrad=N)"
        )
    if not datum.values:
        raise errors.NotFoundError(
            f"{_series_label(run, tag)} has no tensor at step {step}: its blob "
            "sequence is empty"
        )
    if position >= len(datum.values):
        raise errors.NotFoundError(
            f"{_series_label(run, tag)} has no mask at step {step}: it was "
            "logged without mask="
        )
    return datum.values[position].blob_key


class Reader:
    """rnngrad data of one data provider.

    Thread-safe. Caches (`LruCache`) parsed metadata, keyed by its serialized
    bytes, and per series the step -> blob key index until the series changes.

    Args:
      data_provider: A `tensorboard.data.provider.DataProvider`.
    """

    def __init__(self, data_provider: dp.DataProvider) -> None:
        self._provider = data_provider
        self._lock = threading.Lock()
        self._warned: set[tuple[str, str, str]] = set()
        self._parsed = LruCache(_PARSE_CACHE_SIZE)
        self._indexes = LruCache(_INDEX_CACHE_SIZE)

    @property
    def provider(self) -> dp.DataProvider:
        """The data provider read (for readers of other plugins' data)."""
        return self._provider

    # Metadata.

    def _parse(self, content: bytes) -> plugin_data_pb2.RnnGradPluginData | str:
        """The parsed metadata, or the reason it is unreadable (cached)."""
        cached = self._parsed.get(content)
        if cached is not None:
            return cached
        try:
            parsed = metadata.parse_plugin_metadata(content, warn=False)
        except (message.DecodeError, TypeError) as error:
            result = f"corrupt rnngrad metadata ({error or type(error).__name__})"
        else:
            if parsed is None:
                version = plugin_data_pb2.RnnGradPluginData.FromString(content).version
                result = (
                    f"written in rnngrad format version {version}, but this "
                    f"tb-rnngrad reads versions up to {metadata.PROTO_VERSION}; "
                    "upgrade tb-rnngrad"
                )
            else:
                result = parsed
        self._parsed.put(content, result)
        return result

    def _warn_once(self, experiment_id: str, run: str, tag: str, reason: str) -> None:
        key = (experiment_id, run, tag)
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning(
            "Skipping rnngrad series %s: %s", _series_label(run, tag), reason
        )

    def _info(
        self, experiment_id: str, run: str, tag: str, series: Any
    ) -> SeriesInfo | UnreadableSeries | None:
        parsed = self._parse(series.plugin_content)
        if isinstance(parsed, str):
            self._warn_once(experiment_id, run, tag, parsed)
            return UnreadableSeries(run=run, tag=tag, reason=parsed)
        if parsed.content != plugin_data_pb2.FULL_TENSOR:
            return None
        return SeriesInfo(
            run=run,
            tag=tag,
            kind=metadata.kind_name(parsed.kind),
            layer_name=parsed.layer_name,
            layer_class=parsed.layer_class,
            units=parsed.units,
            bidirectional=parsed.bidirectional,
            merge_mode=parsed.merge_mode,
            direction=parsed.direction,
            shape=tuple(int(d) for d in parsed.shape),
            dtype=parsed.dtype,
            description=series.description,
            max_step=int(series.max_step),
            has_mask=parsed.has_mask,
            reach_threshold=_float32_value(parsed.reach_threshold),
            version=parsed.version,
            weights=tuple(parsed.weights),
            gates=tuple(parsed.gates),
            call_timesteps=tuple(int(n) for n in parsed.call_timesteps),
            max_wall_time=_wall_time(series.max_wall_time),
            captured_shape=tuple(int(d) for d in parsed.captured_shape),
            captured_dtype=parsed.captured_dtype,
            timestep_pool=int(parsed.timestep_pool),
        )

    def list_series(
        self, ctx: Any, experiment_id: str
    ) -> dict[str, dict[str, SeriesInfo | UnreadableSeries]]:
        """Every full-tensor series, by run and tag.

        A series with corrupt or newer-version metadata is an
        `UnreadableSeries` (logged once per series); others are unaffected.
        """
        return self._list(ctx, experiment_id, None)

    def list_series_of_tag(
        self, ctx: Any, experiment_id: str, tag: str
    ) -> dict[str, SeriesInfo | UnreadableSeries]:
        """The full-tensor series of `tag` in every run that has it, by run."""
        listing = self._list(ctx, experiment_id, dp.RunTagFilter(tags=[tag]))
        return {run: tags[tag] for run, tags in listing.items() if tag in tags}

    def _list(
        self, ctx: Any, experiment_id: str, run_tag_filter: dp.RunTagFilter | None
    ) -> dict[str, dict[str, SeriesInfo | UnreadableSeries]]:
        listing = self._provider.list_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=run_tag_filter,
        )
        result: dict[str, dict[str, SeriesInfo | UnreadableSeries]] = {}
        for run, tags in listing.items():
            infos = {}
            for tag, series in tags.items():
                info = self._info(experiment_id, run, tag, series)
                if info is not None:
                    infos[tag] = info
            if infos:
                result[run] = infos
        return result

    def series(self, ctx: Any, experiment_id: str, run: str, tag: str) -> SeriesInfo:
        """Metadata of one full-tensor series.

        Raises:
          tensorboard.errors.NotFoundError: no such series, or unreadable.
        """
        return self._readable_series(ctx, experiment_id, run, tag)[1]

    def _readable_series(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> tuple[Any, SeriesInfo]:
        """The provider's `BlobSequenceTimeSeries` of a series and its metadata.

        Raises:
          tensorboard.errors.NotFoundError: no such series, or unreadable.
        """
        listing = self._provider.list_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
        )
        series = listing.get(run, {}).get(tag)
        info = None if series is None else self._info(experiment_id, run, tag, series)
        if info is None:
            raise errors.NotFoundError(
                f"no rnngrad series with {_series_label(run, tag)}"
            )
        if isinstance(info, UnreadableSeries):
            raise errors.NotFoundError(
                f"rnngrad series {_series_label(run, tag)} is unreadable: {info.reason}"
            )
        return series, info

    # Full tensors.

    def _blob_index(
        self, ctx: Any, experiment_id: str, run: str, tag: str, *, fresh: bool = False
    ) -> _BlobIndex:
        """Step -> blob references of a series' retained data.

        `read_blob_sequences` answers are kept per series until its
        `list_blob_sequences` entry (max step, max wall time) changes, so a
        request for one step costs one cheap listing plus `read_blob`.
        """
        series, _ = self._readable_series(ctx, experiment_id, run, tag)
        key = (experiment_id, run, tag)
        version = (series.max_step, series.max_wall_time, series.max_length)
        cached = None if fresh else self._indexes.get(key, version)
        if cached is not None:
            return cached
        result = self._provider.read_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=ALL_RETAINED,
            run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
        )
        data = result.get(run, {}).get(tag)
        if data is None:
            raise errors.NotFoundError(
                f"no rnngrad series with {_series_label(run, tag)}"
            )
        index = {datum.step: datum for datum in data}
        self._indexes.put(key, index, version=version)
        return index

    def list_steps(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> list[StepInfo]:
        """Steps whose full tensors are retained, increasing.

        Raises:
          tensorboard.errors.NotFoundError: no such series.
        """
        by_step = self._blob_index(ctx, experiment_id, run, tag)
        return [
            StepInfo(step=int(step), wall_time=_wall_time(by_step[step].wall_time))
            for step in sorted(by_step)
        ]

    def _read_blob(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        step: int,
        position: int,
    ) -> bytes:
        """Blob `position` (0 tensor, 1 mask) of `step`."""
        index = self._blob_index(ctx, experiment_id, run, tag)
        key = _blob_key(index, run, tag, step, position)
        try:
            return self._fetch_blob(ctx, experiment_id, key, run, tag, step)
        except _MalformedBlob:
            raise
        except (errors.NotFoundError, KeyError):
            pass  # The cached index may be stale: retry with a fresh one.
        index = self._blob_index(ctx, experiment_id, run, tag, fresh=True)
        key = _blob_key(index, run, tag, step, position)
        try:
            return self._fetch_blob(ctx, experiment_id, key, run, tag, step)
        except _MalformedBlob:
            raise
        except (errors.NotFoundError, KeyError) as error:
            raise errors.NotFoundError(
                f"the data of {_series_label(run, tag)} at step {step} is no "
                f"longer retained ({error}); reload the list of steps"
            ) from error

    def _fetch_blob(
        self, ctx: Any, experiment_id: str, key: str, run: str, tag: str, step: int
    ) -> bytes:
        """`read_blob`, with malformed blob sequences as `_MalformedBlob`.

        The Python multiplexer answers a blob sequence that is not a rank-1
        string tensor with an array, or an IndexError, instead of bytes.
        """
        try:
            blob = self._provider.read_blob(ctx, blob_key=key)
        except (IndexError, ValueError, TypeError) as error:
            blob = error
        if not isinstance(blob, bytes):
            reason = f"the data at step {step} is not a sequence of byte strings"
            self._warn_once(experiment_id, run, tag, reason)
            raise _MalformedBlob(f"{_series_label(run, tag)}: {reason}")
        return blob

    def read_tensor(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        step: int,
        sample: int | None = None,
    ) -> bytes:
        """The logged `.npy` of one step, exactly; or one sample of it.

        A reduced series' float16 storage is returned as the float32 values it
        stands for (`reduction.restore`, exact).

        Args:
          ctx: Request context.
          experiment_id: Experiment id ("" for a local logdir).
          run: Run name.
          tag: Full-tensor tag.
          step: Step.
          sample: If given, return a `.npy` of shape (1, ...) with only this
            sample (index along the batch axis).

        Raises:
          tensorboard.errors.NotFoundError: unknown run, tag, step or sample,
            or a blob that is no longer retained or unreadable.
        """
        blob = self._read_blob(ctx, experiment_id, run, tag, step, 0)
        try:
            if sample is not None:
                blob = npy_format.slice_sample(blob, sample)
            info = self.series(ctx, experiment_id, run, tag)
            if info.reduced:
                index = self.read_index(ctx, experiment_id, info, step)
                blob = reduction.restore_npy(blob, index)
        except ValueError as error:
            raise errors.NotFoundError(str(error)) from error
        return blob

    def read_index(
        self, ctx: Any, experiment_id: str, info: SeriesInfo, step: int
    ) -> np.ndarray:
        """The reduction index of a reduced series at `step`: the float16
        exponent, then the original indices of the kept channels.

        Raises:
          tensorboard.errors.NotFoundError: unknown step, or not reduced.
          ValueError: the stored index is malformed.
        """
        if not info.reduced:
            raise errors.NotFoundError(
                f"{_series_label(info.run, info.tag)} is stored as captured: it "
                "has no reduction index"
            )
        blob = self._read_blob(
            ctx, experiment_id, info.run, info.tag, step, info.index_position
        )
        return reduction.load_index(blob)

    def read_mask(
        self, ctx: Any, experiment_id: str, run: str, tag: str, step: int
    ) -> bytes:
        """The `.npy` of the (batch, timesteps) bool mask of one step.

        Raises:
          tensorboard.errors.NotFoundError: unknown run, tag or step, or the
            series was logged without a mask.
        """
        return self._read_blob(ctx, experiment_id, run, tag, step, 1)

    # Profiles.

    def profile_series(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> ProfileSeries:
        """The profile companion `<tag>/profile` of a full-tensor tag.

        Raises:
          tensorboard.errors.NotFoundError: no profile, or unreadable metadata.
        """
        profile_tag = metadata.profile_tag(tag)
        listing = self._provider.list_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PROFILE_PLUGIN_NAME,
            run_tag_filter=dp.RunTagFilter(runs=[run], tags=[profile_tag]),
        )
        series = listing.get(run, {}).get(profile_tag)
        if series is None:
            raise errors.NotFoundError(
                f"no rnngrad profile for {_series_label(run, tag)}"
            )
        parsed = self._parse(series.plugin_content)
        if isinstance(parsed, str):
            self._warn_once(experiment_id, run, profile_tag, parsed)
            raise errors.NotFoundError(
                f"the profile of {_series_label(run, tag)} is unreadable: {parsed}"
            )
        return ProfileSeries(
            run=run,
            tag=tag,
            max_step=int(series.max_step),
            max_wall_time=float(series.max_wall_time),
            reach_threshold=_float32_value(parsed.reach_threshold),
            has_mask=parsed.has_mask and len(parsed.shape) == 3,
        )

    def read_profiles(
        self, ctx: Any, experiment_id: str, series: ProfileSeries
    ) -> Profiles:
        """Every retained profile of `series` (from `profile_series`).

        Steps whose tensor is not a (3, timesteps) array are left out.
        """
        profile_tag = metadata.profile_tag(series.tag)
        end_tag = metadata.end_profile_tag(series.tag)
        tags = [profile_tag, end_tag] if series.has_mask else [profile_tag]
        result = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PROFILE_PLUGIN_NAME,
            downsample=ALL_RETAINED,
            run_tag_filter=dp.RunTagFilter(runs=[series.run], tags=tags),
        )
        by_tag = result.get(series.run, {})
        ends = _end_norms(by_tag.get(end_tag, []))
        return self._profiles(experiment_id, series, by_tag.get(profile_tag, []), ends)

    def read_profiles_of_tag(
        self, ctx: Any, experiment_id: str, infos: dict[str, SeriesInfo]
    ) -> dict[str, Profiles]:
        """Every retained profile of one tag in many runs, in one provider call.

        Args:
          ctx: Request context.
          experiment_id: Experiment id.
          infos: The series, by run, all of one tag (`list_series_of_tag`);
            their `reach_threshold` is the profiles'.

        Returns:
          The profiles by run; a run without a profile is left out.
        """
        if not infos:
            return {}
        tag = next(iter(infos.values())).tag
        profile_tag = metadata.profile_tag(tag)
        end_tag = metadata.end_profile_tag(tag)
        masked = any(_masked(info) for info in infos.values())
        tags = [profile_tag, end_tag] if masked else [profile_tag]
        result = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PROFILE_PLUGIN_NAME,
            downsample=ALL_RETAINED,
            run_tag_filter=dp.RunTagFilter(runs=sorted(infos), tags=tags),
        )
        profiles = {}
        for run, info in infos.items():
            data = result.get(run, {}).get(profile_tag)
            if data is None:
                continue
            ends = _end_norms(result[run].get(end_tag, [])) if _masked(info) else {}
            series = ProfileSeries(
                run=run,
                tag=tag,
                max_step=info.max_step,
                max_wall_time=0.0,
                reach_threshold=info.reach_threshold,
            )
            profiles[run] = self._profiles(experiment_id, series, data, ends)
        return profiles

    def _profiles(
        self,
        experiment_id: str,
        series: ProfileSeries,
        data: list,
        ends: dict[int, np.ndarray],
    ) -> Profiles:
        """`Profiles` of a provider's tensor data of `<tag>/profile`, with the
        end-aligned profiles of a masked series by step (`_end_norms`)."""
        profile_tag = metadata.profile_tag(series.tag)
        by_step = {}
        for datum in data:
            array = np.asarray(datum.numpy)
            if array.ndim == 2 and array.shape[0] == 3 and array.dtype.kind in "fiu":
                by_step[datum.step] = (
                    datum.wall_time,
                    array.astype(np.float32, copy=False),
                )
            else:
                self._warn_once(
                    experiment_id,
                    series.run,
                    profile_tag,
                    f"step {datum.step} holds a {array.dtype} tensor of shape "
                    f"{array.shape}, not a (3, timesteps) profile; such steps are "
                    "left out",
                )
        steps = sorted(by_step)
        return Profiles(
            run=series.run,
            tag=series.tag,
            steps=[int(s) for s in steps],
            wall_times=[_wall_time(by_step[s][0]) for s in steps],
            arrays=[by_step[s][1] for s in steps],
            reach_threshold=series.reach_threshold,
            end_norms=[ends.get(s) for s in steps] if ends else None,
        )

    def read_profiles_of(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> Profiles:
        """`read_profiles(profile_series(...))` in one call (for tools)."""
        series = self.profile_series(ctx, experiment_id, run, tag)
        return self.read_profiles(ctx, experiment_id, series)

    # The latest full tensors of one tag.

    def latest_blob_keys(
        self, ctx: Any, experiment_id: str, tag: str, runs: list[str]
    ) -> dict[str, tuple[int, str, str]]:
        """(step, tensor blob key, last blob key) of the latest retained full
        tensor of `tag` per run (the last blob is a reduced series' index).

        One provider call for every run; a run with no retained tensor is left
        out.
        """
        if not runs:
            return {}
        result = self._provider.read_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=ALL_RETAINED,
            run_tag_filter=dp.RunTagFilter(runs=sorted(runs), tags=[tag]),
        )
        keys = {}
        for run in runs:
            data = [d for d in result.get(run, {}).get(tag, []) if d.values]
            if data:
                latest = max(data, key=lambda d: d.step)
                keys[run] = (
                    int(latest.step),
                    latest.values[0].blob_key,
                    latest.values[-1].blob_key,
                )
        return keys

    def read_blob_by_key(
        self, ctx: Any, experiment_id: str, key: str, run: str, tag: str, step: int
    ) -> bytes:
        """The blob `key` (from `latest_blob_keys`).

        Raises:
          tensorboard.errors.NotFoundError: it is no longer retained or is not
            bytes.
        """
        try:
            return self._fetch_blob(ctx, experiment_id, key, run, tag, step)
        except KeyError as error:
            raise errors.NotFoundError(
                f"the data of {_series_label(run, tag)} at step {step} is no "
                f"longer retained ({error})"
            ) from error


def _end_norms(data: list[Any]) -> dict[int, np.ndarray]:
    """The end-aligned profiles (`stats.end_profile`) of a masked series, by
    step: those that are (timesteps,) float arrays (none for data logged before
    they were written)."""
    ends = {}
    for datum in data:
        array = np.asarray(datum.numpy)
        if array.ndim == 1 and array.dtype.kind == "f":
            ends[datum.step] = array.astype(np.float32, copy=False)
    return ends


def _masked(info: SeriesInfo) -> bool:
    """Whether a series has a mask over a time axis (an end-aligned profile)."""
    return info.has_mask and len(info.shape) == 3
