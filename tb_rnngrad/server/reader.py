"""Reads rnngrad data through TensorBoard's `DataProvider` API.

Used by the plugin's HTTP routes and by command-line tools alike: everything
goes through `list_*`, `read_*` and `read_blob` of a data provider, so it works
with the Rust data server (`--load_fast=true`), the Python multiplexer
(`--load_fast=false`), and any other provider.

Errors a caller can report as they are raise `tensorboard.errors.NotFoundError`
(unknown run, tag or step; a blob no longer retained; unreadable data).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from google.protobuf import message
from tensorboard import errors
from tensorboard.data import provider as dp

from tb_rnngrad.format import metadata, npy_format, reduction
from tb_rnngrad.proto import plugin_data_pb2
from tb_rnngrad.server.cache import LruCache
from tb_rnngrad.server.profile_reading import ProfileReading
from tb_rnngrad.server.series_info import (
    ALL_RETAINED,
    SeriesInfo,
    StepInfo,
    UnreadableSeries,
    float32_value,
    series_label,
    wall_time,
)

logger = logging.getLogger(__name__)

#: Parsed metadata kept per distinct serialized content.
_PARSE_CACHE_SIZE = 4096
#: Series whose step -> blob key index is kept.
_INDEX_CACHE_SIZE = 1024


class _MalformedBlob(errors.NotFoundError):
    """A stored blob that is not bytes; retrying cannot help."""


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
            f"{series_label(run, tag)} has no retained full tensor at step "
            f"{step} ({kept}; keep more with --samples_per_plugin rnngrad=N)"
        )
    if not datum.values:
        raise errors.NotFoundError(
            f"{series_label(run, tag)} has no tensor at step {step}: its blob "
            "sequence is empty"
        )
    if position >= len(datum.values):
        raise errors.NotFoundError(
            f"{series_label(run, tag)} has no mask at step {step}: it was "
            "logged without mask="
        )
    return datum.values[position].blob_key


class Reader(ProfileReading):
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
        logger.warning("Skipping rnngrad series %s: %s", series_label(run, tag), reason)

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
            reach_threshold=float32_value(parsed.reach_threshold),
            version=parsed.version,
            weights=tuple(parsed.weights),
            gates=tuple(parsed.gates),
            call_timesteps=tuple(int(n) for n in parsed.call_timesteps),
            max_wall_time=wall_time(series.max_wall_time),
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
                f"no rnngrad series with {series_label(run, tag)}"
            )
        if isinstance(info, UnreadableSeries):
            raise errors.NotFoundError(
                f"rnngrad series {series_label(run, tag)} is unreadable: {info.reason}"
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
                f"no rnngrad series with {series_label(run, tag)}"
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
            StepInfo(step=int(step), wall_time=wall_time(by_step[step].wall_time))
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
                f"the data of {series_label(run, tag)} at step {step} is no "
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
            raise _MalformedBlob(f"{series_label(run, tag)}: {reason}")
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
                f"{series_label(info.run, info.tag)} is stored as captured: it "
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
                f"the data of {series_label(run, tag)} at step {step} is no "
                f"longer retained ({error})"
            ) from error
