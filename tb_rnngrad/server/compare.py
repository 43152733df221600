"""One tag of every run, compared (`format.comparison`), read through a `Reader`.

Serves the `compare` route and `tb-rnngrad summary --sort`: a constant number
of data-provider calls for any number of runs (one listing, one read of the
profiles, one of the blob references), plus one `read_blob` per run for the
largest |value| of its latest full tensor (8 at a time), which is cached per
blob; the whole comparison is cached until a run of the tag changes.
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
from typing import Any

import numpy as np
from tensorboard import errors

from tb_rnngrad.format import comparison, reduction
from tb_rnngrad.server.cache import LruCache
from tb_rnngrad.server.reader import Reader
from tb_rnngrad.server.series_info import SeriesInfo, UnreadableSeries

logger = logging.getLogger(__name__)

#: Largest |value| kept per (run, tag, blob): a float each.
_MAX_ABS_CACHE_SIZE = 65536
#: `read_blob` calls in flight at once (the data server answers them in parallel).
_READ_THREADS = 8
#: Whole comparisons kept, one per tag, until a run of the tag gets new data.
_ANSWERS_CACHE_SIZE = 64


class Comparer:
    """Compares one tag across runs.

    Args:
      reader: The `Reader` of the data provider.
    """

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        self._max_abs = LruCache(_MAX_ABS_CACHE_SIZE)
        self._answers = LruCache(_ANSWERS_CACHE_SIZE)

    def compare(
        self, ctx: Any, experiment_id: str, tag: str
    ) -> dict[str, comparison.RunComparison | UnreadableSeries]:
        """Every run that has the full-tensor series `tag`, compared.

        Cached until a run of the tag is added, removed or gets new data (its
        max step or max wall time changes).

        Raises:
          tensorboard.errors.NotFoundError: no run has `tag`.
        """
        infos = self._reader.list_series_of_tag(ctx, experiment_id, tag)
        if not infos:
            raise errors.NotFoundError(f"no run has an rnngrad series with tag {tag!r}")
        version = tuple(sorted((r, _version(i)) for r, i in infos.items()))
        cached = self._answers.get((experiment_id, tag), version)
        if cached is None:
            cached = self._compare(ctx, experiment_id, infos)
            self._answers.put((experiment_id, tag), cached, version=version)
        return cached

    def _compare(
        self,
        ctx: Any,
        experiment_id: str,
        infos: dict[str, SeriesInfo | UnreadableSeries],
    ) -> dict[str, comparison.RunComparison | UnreadableSeries]:
        tag = next(iter(infos.values())).tag
        readable = {r: i for r, i in infos.items() if isinstance(i, SeriesInfo)}
        profiles = self._reader.read_profiles_of_tag(ctx, experiment_id, readable)
        keys = self._reader.latest_blob_keys(ctx, experiment_id, tag, list(readable))
        with concurrent.futures.ThreadPoolExecutor(_READ_THREADS) as pool:
            latest = dict(
                zip(
                    readable,
                    pool.map(
                        lambda i: self._latest_max_abs(ctx, experiment_id, i, keys),
                        readable.values(),
                    ),
                    strict=True,
                )
            )
        result: dict[str, comparison.RunComparison | UnreadableSeries] = {}
        for run, info in sorted(infos.items()):
            if isinstance(info, UnreadableSeries):
                result[run] = info
                continue
            profile = profiles.get(run)
            step, max_abs = latest[run]
            result[run] = comparison.summarize(
                run,
                tag,
                kind=info.kind,
                has_time=len(info.shape) == 3,
                steps=profile.steps if profile else (),
                profiles=profile.arrays if profile else (),
                reach_threshold=info.reach_threshold,
                max_abs=max_abs,
                max_abs_step=step,
                last_step=info.max_step,
            )
        return result

    def _latest_max_abs(
        self,
        ctx: Any,
        experiment_id: str,
        info: SeriesInfo,
        keys: dict[str, tuple[int, str]],
    ) -> tuple[int | None, float | None]:
        """(step, largest finite |value|) of the run's latest retained tensor."""
        if info.run not in keys:
            return None, None
        step, key, last = keys[info.run]
        cache_key = (experiment_id, info.run, info.tag)
        cached = self._max_abs.get(cache_key, version=key)
        if cached is not None:
            return step, cached[0]
        try:
            blob = self._reader.read_blob_by_key(
                ctx, experiment_id, key, info.run, info.tag, step
            )
            if info.reduced:  # float16 storage scaled back
                index = self._reader.read_blob_by_key(
                    ctx, experiment_id, last, info.run, info.tag, step
                )
                blob = reduction.restore_npy(blob, reduction.load_index(index))
            data = np.load(io.BytesIO(blob), allow_pickle=False)
        except (errors.NotFoundError, ValueError, OSError) as error:
            logger.warning(
                "rnngrad compare: no max |g| for run %r, tag %r: %s",
                info.run,
                info.tag,
                error,
            )
            return step, None
        value = comparison.finite_abs_max(data)
        self._max_abs.put(cache_key, (value,), version=key)
        return step, value


def _version(info: SeriesInfo | UnreadableSeries) -> tuple:
    if isinstance(info, UnreadableSeries):
        return (info.reason,)
    return (info.max_step, info.max_wall_time)
