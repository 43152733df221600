"""The `health` route's answer: the health report of every run, cached.

The report (`tb_rnngrad.health.check`) is recomputed only when a series is
added, removed or gets new data; a warm request costs one listing call.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tb_rnngrad import health
from tb_rnngrad.server.reader import Reader
from tb_rnngrad.server.series_info import SeriesInfo


class HealthChecker:
    """Serves the health report of an experiment.

    Args:
      reader: The `Reader` of the data provider.
      thresholds: The rules' thresholds; default `health.Thresholds()`.
    """

    def __init__(
        self, reader: Reader, thresholds: health.Thresholds | None = None
    ) -> None:
        self._reader = reader
        self._thresholds = thresholds or health.Thresholds()
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[tuple, bytes]] = {}

    def answer(self, ctx: Any, experiment_id: str) -> bytes:
        """`{"runs": {run: [finding, ...]}, "status": {run: status}}` as
        UTF-8 JSON (plus `"notes"` where series could not be checked)."""
        version = self._version(ctx, experiment_id)
        with self._lock:
            cached = self._answers.get(experiment_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        report = health.check(self._reader, ctx, experiment_id, self._thresholds)
        body = report.to_json()
        body["status"] = {run: report.status(run) for run in sorted(report.runs)}
        encoded = json.dumps(body, allow_nan=False, default=_plain).encode("utf-8")
        with self._lock:
            self._answers[experiment_id] = (version, encoded)
        return encoded

    def _version(self, ctx: Any, experiment_id: str) -> tuple:
        listing = self._reader.list_series(ctx, experiment_id)
        return tuple(
            sorted(
                (run, tag, info.max_step, info.max_wall_time)
                if isinstance(info, SeriesInfo)
                else (run, tag, -1, 0.0)
                for run, tags in listing.items()
                for tag, info in tags.items()
            )
        )


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers (evidence figures)."""
    return value.item() if hasattr(value, "item") else str(value)
