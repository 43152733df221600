"""The JSON bodies of the plugin's routes (docs/http_api.md), built with `json`.

Bodies are strict JSON: non-finite numbers never reach `dumps` (norms become
null, counts 0, wall times were read as 0 by the reader).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tb_rnngrad.format import metadata, reduction_note
from tb_rnngrad.format.comparison import RunComparison
from tb_rnngrad.server.series_info import (
    Profiles,
    SeriesInfo,
    StepInfo,
    UnreadableSeries,
)


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
        "reduction": _reduction(info),
    }


def _reduction(info: SeriesInfo) -> dict[str, Any] | None:
    """What a reduced series stores of what was captured; None if as captured."""
    if not info.reduced:
        return None
    return {
        "captured_shape": list(info.captured_shape),
        "captured_dtype": info.captured_dtype,
        "timestep_pool": info.timestep_pool,
        "note": series_note(info),
    }


def kept(info: SeriesInfo, index: np.ndarray | None) -> dict[str, Any]:
    """The `kept` route: `{"samples", "channels", "timestep_pool",
    "timesteps", "note"}`: the stored samples are the first `samples`; stored
    channel j is original channel `channels[j]` (null: all, in order); stored
    timestep k pools original timesteps k*pool .. min((k+1)*pool, timesteps)-1.
    """
    shape = info.captured_shape or info.shape
    matrix = info.kind in metadata.MATRIX_KINDS
    has_time = len(shape) == 3 and not matrix
    channels = None
    if index is not None and len(index) > 1:
        channels = [int(c) for c in index[1:]]
    return {
        "samples": int(info.shape[0]),
        "captured_samples": int(shape[0]),
        "channels": channels,
        "timestep_pool": max(1, info.timestep_pool),
        "timesteps": int(shape[1]) if has_time else None,
        "note": series_note(info),
    }


def series_note(info: SeriesInfo) -> str:
    """`reduction_note.note` of a series ("" if stored as captured)."""
    return reduction_note.note(
        info.captured_shape,
        info.shape,
        info.timestep_pool,
        info.captured_dtype,
        info.dtype,
        matrix=info.kind in metadata.MATRIX_KINDS,
    )


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
