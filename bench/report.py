"""Writes docs/benchmarks.md and its figures from a run's JSON results.

    python -m bench --report-only bench/out/<run> [--doc PATH]

`write(out, doc)` reads `out/run.json` (machine, command, status of each
benchmark) and `out/<name>.json` of each benchmark, draws the scaling figures
into `<doc's folder>/img/bench-scaling-*.png` and writes the page. Missing or
failed benchmarks get a note in their section instead of a table.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.report_text import (
    browser_section,
    capture_section,
    drawing_section,
    failures_section,
    header,
    logging_section,
    routes_section,
    scaling_section,
    storage_section,
    summary_section,
)


def load(out: Path) -> tuple[dict, dict[str, dict]]:
    """(run summary, {benchmark name: its JSON document}) of one run."""
    run = json.loads((out / "run.json").read_text())
    docs = {}
    for bench in run["benchmarks"]:
        path = out / f"{bench['name']}.json"
        if path.exists():
            try:
                docs[bench["name"]] = json.loads(path.read_text())
            except json.JSONDecodeError as error:
                bench.setdefault("error", f"unreadable results: {error}")
    return run, docs


def write(out: Path, doc: Path) -> None:
    """Writes the page `doc` and its figures from the results in `out`."""
    run, docs = load(out)
    img = doc.parent / "img"
    figures = {}
    if "scaling" in docs:
        from bench.plots import scaling_figures

        figures = scaling_figures(docs["scaling"], img)
    parts = [
        header(run, docs),
        summary_section(run, docs),
        logging_section(docs.get("compare_logging"), _status(run, "compare_logging")),
        drawing_section(docs.get("compare_drawing"), _status(run, "compare_drawing")),
        storage_section(docs.get("storage"), _status(run, "storage")),
        scaling_section(
            docs.get("scaling"),
            _status(run, "scaling"),
            {k: v.relative_to(doc.parent).as_posix() for k, v in figures.items()},
        ),
        capture_section(docs.get("bench_capture"), _status(run, "bench_capture")),
        browser_section(docs.get("bench_browser"), _status(run, "bench_browser")),
        routes_section(docs.get("bench_routes"), _status(run, "bench_routes")),
        failures_section(run),
    ]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n\n".join(p.strip("\n") for p in parts if p) + "\n")


def _status(run: dict, name: str) -> dict | None:
    return next((b for b in run["benchmarks"] if b["name"] == name), None)


def slope(x0: float, y0: float, x1: float, y1: float) -> float:
    """Log-log slope between two points (1 = linear growth)."""
    return math.log(y1 / y0) / math.log(x1 / x0)


def growth(sizes: list[float], values: list[float]) -> dict[str, Any]:
    """How `values` grow with `sizes`: overall and pairwise log-log slopes.

    Returns:
        {"overall": slope first to last, "steps": [slope between neighbours],
        "linear_from": the smallest size from which every further step has a
        slope of at least 0.8 (None if the last step is below), "super": the
        pairs (size, next size) with a slope above 1.25}.
    """
    pairs = list(zip(sizes, values, strict=True))
    steps = [slope(*a, *b) for a, b in zip(pairs, pairs[1:], strict=False)]
    linear_from = None
    for i in range(len(steps) - 1, -1, -1):
        if steps[i] < 0.8:
            break
        linear_from = sizes[i]
    return {
        "overall": slope(*pairs[0], *pairs[-1]),
        "steps": steps,
        "linear_from": linear_from,
        "super": [(sizes[i], sizes[i + 1]) for i, s in enumerate(steps) if s > 1.25],
    }
