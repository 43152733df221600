"""The JSON bodies of the plugin's routes (docs/http_api.md), built with `json`.

Bodies are strict JSON: non-finite numbers never reach `dumps` (norms become
null, counts 0, wall times were read as 0 by the reader).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tb_rnngrad.format.comparison import RunComparison
from tb_rnngrad.server.reader import Profiles, SeriesInfo, StepInfo, UnreadableSeries


def dumps(value: Any) -> str:
    """Compact JSON of `value`; raises ValueError on NaN or Inf."""
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def series_entry(info: SeriesInfo | UnreadableSeries) -> dict[str, Any]:
    """The entry of one series in the `tags` route."""
    if isinstance(info, UnreadableSeries):
        return {"error": f"unreadable: {info.reason}"}
    return {
        "kind": info.kind,
        "layer_name": info.layer_name,
        "layer_class": info.layer_class,
        "units": info.units,
        "bidirectional": info.bidirectional,
        "merge_mode": info.merge_mode,
        "direction": info.direction,
        "shape": list(info.shape),
        "dtype": info.dtype,
        "description": info.description,
        "max_step": info.max_step,
        "has_mask": info.has_mask,
        "reach_threshold": info.reach_threshold,
        "weights": list(info.weights),
        "gates": list(info.gates),
        "call_timesteps": list(info.call_timesteps),
    }


def tags(
    listing: dict[str, dict[str, SeriesInfo | UnreadableSeries]],
) -> dict[str, dict[str, dict[str, Any]]]:
    """The `tags` route: `{run: {tag: series_entry}}`, runs and tags sorted
    (a data server lists them in an order of its own, from run to run)."""
    return {
        run: {tag: series_entry(listing[run][tag]) for tag in sorted(listing[run])}
        for run in sorted(listing)
    }


def steps(retained: list[StepInfo]) -> list[dict[str, Any]]:
    """The `steps` route: `[{"step", "wall_time"}]`."""
    return [{"step": s.step, "wall_time": s.wall_time} for s in retained]


def profile(profiles: Profiles) -> bytes:
    """The `profile` route, UTF-8 encoded; non-finite norms are null."""
    arrays = profiles.arrays
    return dumps(
        {
            "steps": profiles.steps,
            "wall_times": profiles.wall_times,
            "values": _split(_float32_numbers([a[0] for a in arrays]), arrays),
            "nan_counts": _split(_counts([a[1] for a in arrays]), arrays),
            "inf_counts": _split(_counts([a[2] for a in arrays]), arrays),
            "reach": profiles.reach(),
            "reach_threshold": profiles.reach_threshold,
        }
    ).encode("utf-8")


def compare(tag: str, runs: dict[str, RunComparison | UnreadableSeries]) -> bytes:
    """The `compare` route, UTF-8 encoded: `{"tag", "runs": {run: entry}}`."""
    return dumps(
        {"tag": tag, "runs": {r: _compared(c) for r, c in runs.items()}}
    ).encode("utf-8")


def _compared(row: RunComparison | UnreadableSeries) -> dict[str, Any]:
    if isinstance(row, UnreadableSeries):
        return {"error": f"unreadable: {row.reason}"}
    max_abs = row.max_abs
    return {
        "kind": row.kind,
        "steps": list(row.steps),
        "reach": list(row.reach),
        "latest_reach": row.latest_reach,
        "max_abs": None if max_abs is None else float(str(np.float32(max_abs))),
        "max_abs_step": row.max_abs_step,
        "nonfinite": row.nonfinite,
        "last_step": row.last_step,
    }


def _float32_numbers(rows: list[np.ndarray]) -> list[float | None]:
    """Rows, flattened, as the shortest decimals of their float32 values.

    Non-finite values become None (JSON null).
    """
    values = np.concatenate(rows, dtype=np.float32) if rows else np.zeros(0)
    numbers = values.astype(str).astype(np.float64).astype(object)
    numbers[~np.isfinite(values)] = None
    return numbers.tolist()


def _counts(rows: list[np.ndarray]) -> list[int]:
    """Rows of counts, flattened, as ints (non-finite counts as 0)."""
    values = np.concatenate(rows) if rows else np.zeros(0)
    return np.nan_to_num(values, nan=0, posinf=0, neginf=0).astype(np.int64).tolist()


def _split(flat: list, arrays: list[np.ndarray]) -> list[list]:
    """`flat` cut into one row per array, each as long as its timesteps."""
    rows, start = [], 0
    for array in arrays:
        end = start + array.shape[1]
        rows.append(flat[start:end])
        start = end
    return rows
