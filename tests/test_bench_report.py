"""The benchmark harness: interleaving, spreads, growth, and a page written
from results where some benchmarks failed (bench/timing.py, bench/report.py)."""

from __future__ import annotations

import json

import pytest

from bench import report, timing


def test_interleave_rotates_the_order_of_sides_each_repetition():
    calls = []
    sides = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    raw = timing.interleave(sides, reps=3, warmup=1)
    assert calls == list("abc" + "abc" + "bca" + "cab")
    assert all(len(raw[n]["wall"]) == 3 for n in "abc")


def test_a_side_that_returns_seconds_is_timed_by_them():
    raw = timing.interleave({"a": lambda: timing.Seconds(0.25)}, reps=2, warmup=0)
    assert raw["a"]["wall"] == [0.25, 0.25]


def test_spread_and_ratio():
    s = timing.spread([4.0, 1.0, 3.0, 2.0, 5.0], scale=10)
    assert (s["median"], s["q1"], s["q3"], s["iqr"], s["n"]) == (30, 20, 40, 20, 5)
    assert timing.ratio([2.0, 6.0, 9.0], [1.0, 2.0, 3.0])["median"] == 3.0


def test_reps_within_a_budget():
    assert timing.reps_within(0.1, 3.0, 5, 15) == 15
    assert timing.reps_within(1.0, 3.0, 5, 15) == 5
    assert timing.reps_within(0.3, 3.0, 5, 15) == 10


def test_growth_finds_where_cost_becomes_linear():
    sizes = [1, 2, 4, 8, 16]
    values = [10, 10.5, 12, 24, 48]  # flat (fixed cost), then linear
    g = report.growth(sizes, values)
    assert g["steps"][-1] == pytest.approx(1.0)
    assert g["linear_from"] == 4
    assert report.growth([1, 2, 4], [1, 4, 8])["super"] == [(1, 2)]


def _storage_doc() -> dict:
    way = {
        "label": "summary.gradients, float32 (GradientLogger)",
        "steps": 2,
        "bytes_total": 1644306,
        "bytes_first_step": 822153,
        "bytes_per_later_step": 822153,
        "bytes_per_value": 4.0142,
        "bytes_per_value_later": 4.0142,
    }
    return {
        "name": "storage",
        "quick": True,
        "params": {"steps": 2, "shape": [16, 200, 64], "values_per_step": 204800},
        "results": {"ways": {"gradients_f32": way, "histogram": dict(way)}},
    }


def test_page_reports_failed_benchmarks_and_keeps_the_others(tmp_path):
    machine = {
        "cpu": "Test CPU",
        "cores": 2,
        "usable_cores": 2,
        "ram_gib": 1.0,
        "os": "Test OS",
        "python": "3.11",
        "packages": {},
        "chromium": None,
        "load_average": [1.0, 1.0, 1.0],
    }
    ok = {
        "name": "storage",
        "what": "bytes",
        "command": "python -m bench.storage --quick",
        "ok": True,
        "seconds": 3.0,
        "load_start": [1.0, 1.0, 1.0],
        "load_end": [1.0, 1.0, 1.0],
        "json": "storage.json",
    }
    failed = dict(
        ok,
        name="compare_drawing",
        command="python -m bench.compare_drawing --quick",
        ok=False,
        error="exit status 1",
        log_tail="RuntimeError: no browser",
        json=None,
    )
    run = {
        "started": "2026-01-01T00:00:00",
        "quick": True,
        "only": None,
        "command": ".venv/bin/python -m bench --quick",
        "machine": machine,
        "benchmarks": [ok, failed],
        "seconds": 10.0,
    }
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "storage.json").write_text(json.dumps(_storage_doc()))
    doc = tmp_path / "page" / "benchmarks.md"
    report.write(tmp_path, doc)
    text = doc.read_text()
    assert "Test CPU, 2 cores" in text
    assert "## Storage: bytes per logged value" in text
    assert "| summary.gradients, float32 (GradientLogger) | 822,153 |" in text
    assert "**This benchmark failed in this run** (exit status 1)" in text
    assert "RuntimeError: no browser" in text
    assert "## Failures in this run" in text
    assert "Not run in this run" in text  # benchmarks absent from run.json
