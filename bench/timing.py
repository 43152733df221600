"""Timing helpers shared by the benchmarks: interleaved repetitions and spreads.

Every comparison runs its sides in one process, interleaved: repetition r runs
the sides in an order rotated by r (A B C, B C A, C A B, ...; with two sides
A B, B A, A B, ...), so that load from other processes and slow drifts hit
every side alike. Results are medians with the interquartile range (IQR), and
ratios are medians of the per-repetition ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class Seconds(float):
    """A time a side measured itself (e.g. with performance.now() in a browser).

    A side that returns one is timed by it instead of by the clock around the
    call; any other return value is ignored.
    """


Side = Callable[[], object]


def timed(fn: Side) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call of `fn`."""
    wall, cpu = time.perf_counter(), time.process_time()
    own = fn()
    elapsed, cpu_elapsed = time.perf_counter() - wall, time.process_time() - cpu
    return (float(own) if isinstance(own, Seconds) else elapsed), cpu_elapsed


def interleave(
    sides: Mapping[str, Side], reps: int, warmup: int = 1
) -> dict[str, dict[str, list[float]]]:
    """Runs every side `reps` times, in rotated order, after `warmup` rounds.

    Args:
        sides: name -> callable, in the order of the first repetition.
        reps: measured repetitions of every side.
        warmup: unmeasured rounds first (traces, caches, JIT).

    Returns:
        {name: {"wall": [seconds per repetition], "cpu": [...]}}; index i of
        every list belongs to repetition i.
    """
    names = list(sides)
    for _ in range(warmup):
        for name in names:
            sides[name]()
    out = {name: {"wall": [], "cpu": []} for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu = timed(sides[name])
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(cpu)
    return out


def side_by_side(sides: dict, reps: int) -> dict:
    """Times `sides` interleaved; per side its spreads, per side but the
    last its ratios to the last side (the reference)."""
    raw = interleave(sides, reps)
    reference = list(sides)[-1]
    found = {}
    for name, times in raw.items():
        found[name] = {
            "ms": spread(times["wall"], 1e3),
            "cpu_ms": spread(times["cpu"], 1e3),
        }
        if name != reference:
            found[name]["ratio"] = ratio(times["wall"], raw[reference]["wall"])
            found[name]["cpu_ratio"] = ratio(times["cpu"], raw[reference]["cpu"])
    return found


def reps_within(round_seconds: float, budget: float, low: int, high: int) -> int:
    """Repetitions of a round taking `round_seconds` that fit in `budget`
    seconds, at least `low` and at most `high`."""
    fit = int(budget / round_seconds) if round_seconds > 0 else high
    return max(low, min(high, fit))


def spread(values: list[float], scale: float = 1.0) -> dict[str, float]:
    """Median, quartiles and IQR of `values` (times `scale`), and their count."""
    xs = sorted(v * scale for v in values)
    if len(xs) >= 2:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    else:
        q1 = q3 = xs[0]
    return {
        "median": statistics.median(xs),
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "min": xs[0],
        "max": xs[-1],
        "n": len(xs),
    }


def ratio(a: list[float], b: list[float]) -> dict[str, float]:
    """Spread of the per-repetition ratios a[i] / b[i]."""
    return spread([x / y for x, y in zip(a, b, strict=True) if y > 0])


def summarize(raw: dict[str, dict[str, list[float]]]) -> dict[str, dict]:
    """Per side: wall and CPU spreads in milliseconds, and the raw seconds."""
    return {
        name: {
            "ms": spread(times["wall"], 1e3),
            "cpu_ms": spread(times["cpu"], 1e3),
            "wall_s": times["wall"],
        }
        for name, times in raw.items()
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def check(target: str, value: float, op: str, limit: float, unit: str) -> dict:
    """A target and the value measured for it, as the report reads it.

    Args:
        target: What is measured, e.g. "one 512x256 heatmap".
        value: The measured value, in `unit`.
        op: "<=" or ">=": how `value` must compare with `limit`.
        limit: The target value, in `unit`.
        unit: "ms", "x" (a ratio), "steps/s", "min".
    """
    if op not in ("<=", ">="):
        raise ValueError(f"op must be '<=' or '>=', got {op!r}")
    return {"target": target, "value": value, "op": op, "limit": limit, "unit": unit}


class Recorder:
    """Collects a benchmark's results and writes them as JSON.

    Attributes:
        data: The JSON document: name, quick flag, parameters, results, the
            targets checked (see `check`), the load average at start and end,
            and the duration.
    """

    def __init__(self, name: str, quick: bool, params: dict[str, Any]) -> None:
        self._start = time.perf_counter()
        self.data: dict[str, Any] = {
            "name": name,
            "quick": quick,
            "params": params,
            "load_start": load_average(),
            "results": {},
            "checks": [],
        }

    def __setitem__(self, key: str, value: Any) -> None:
        self.data["results"][key] = value

    def check(self, target: str, value: float, op: str, limit: float, unit: str):
        """Records a target and its measured value (see `check`)."""
        self.data["checks"].append(check(target, value, op, limit, unit))

    def write(self, path: str | os.PathLike | None) -> None:
        """Writes the document to `path` (stdout if None)."""
        self.data["load_end"] = load_average()
        self.data["seconds"] = round(time.perf_counter() - self._start, 1)
        text = json.dumps(self.data, indent=1, default=float)
        if path is None:
            sys.stdout.write(text + "\n")
        else:
            Path(path).write_text(text)
