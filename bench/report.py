"""Writes docs/benchmarks.md and its figures from a run's JSON results.

    python -m bench --report-only bench/out/<run> [--doc PATH]

`write(out, doc)` reads `out/run.json` (machine, command, status of each
benchmark) and `out/<name>.json` of each benchmark, and writes: the run, every
target with its measured value and verdict, each benchmark's tables
(bench/report_tables.py) and the machine. The analysis between
`ANALYSIS_START` and `ANALYSIS_END` is written by hand: `write` keeps it byte
for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.markdown import table, with_unit
from bench.report_tables import TABLES

ANALYSIS_START = "<!-- analysis: written by hand, kept by make bench -->"
ANALYSIS_END = "<!-- end of the hand-written analysis -->"
NO_ANALYSIS = f"""{ANALYSIS_START}
## Analysis

Not written yet: write it here, by hand; `make bench` keeps this section.
{ANALYSIS_END}"""


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


def analysis(doc: Path) -> str:
    """The hand-written section of the page `doc`, markers included.

    Raises:
        ValueError: The page has `ANALYSIS_START` but no `ANALYSIS_END` after it.
    """
    if not doc.exists():
        return NO_ANALYSIS
    text = doc.read_bytes().decode("utf-8")
    start = text.find(ANALYSIS_START)
    if start < 0:
        return NO_ANALYSIS
    end = text.find(ANALYSIS_END, start)
    if end < 0:
        raise ValueError(
            f"{doc} has {ANALYSIS_START!r} but no {ANALYSIS_END!r} after it: put "
            "the end marker back after the hand-written analysis, then rerun"
        )
    return text[start : end + len(ANALYSIS_END)]


def write(out: Path, doc: Path) -> None:
    """Writes the page `doc` and its figures from the results in `out`."""
    run, docs = load(out)
    kept = analysis(doc)
    img = doc.parent / "img"
    figures = {}
    if "scaling" in docs:
        from bench.plots import scaling_figures

        drawn = scaling_figures(docs["scaling"], img)
        figures = {k: v.relative_to(doc.parent).as_posix() for k, v in drawn.items()}
    parts = [
        header(run),
        targets_section(run, docs),
        kept,
        *(bench_section(b, docs.get(b["name"]), figures) for b in run["benchmarks"]),
        machine_section(run),
        failures_section(run),
    ]
    text = "\n\n".join(p if p is kept else p.strip("\n") for p in parts if p) + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_bytes(text.encode("utf-8"))


def header(run: dict) -> str:
    if run.get("quick"):
        kind = "quick (smoke) run"
    elif run.get("only"):
        kind = "partial run"
    else:
        kind = "full run"
    seconds = run.get("benchmark_seconds") or run.get("seconds") or 0
    text = f"""# Benchmarks

<!-- Written by `python -m bench` (bench/report.py) from the results of one run,
except the hand-written analysis, which it keeps. -->

```sh
make bench                          # every benchmark; rewrites this page
make bench BENCH_ARGS=--quick       # smoke run; its page goes to bench/out/<run>/
.venv/bin/python -m bench --only compare_drawing,storage   # a subset
.venv/bin/python -m bench --only scaling --merge bench/out/<earlier run>
```

These tables are the {kind} of {run["started"]} (`{run["command"]}`,
{seconds / 60:.1f} min); raw results in `bench/out/` (not committed)."""
    return text + _merged(run) + _missing(run)


def _merged(run: dict) -> str:
    """Which benchmarks' results come from earlier runs, and which."""
    earlier: dict[tuple[str, str], list[str]] = {}
    for status in run["benchmarks"]:
        if "run" in status:
            source = (status["run"]["started"], status["run"]["command"])
            earlier.setdefault(source, []).append(f"`{status['name']}`")
    return "".join(
        f" The results of {', '.join(names)} are those of the run of {started} "
        f"(`{command}`), merged in with `--merge`."
        for (started, command), names in earlier.items()
    )


def _missing(run: dict) -> str:
    """The benchmarks with tables that this page has no results for."""
    have = {status["name"] for status in run["benchmarks"]}
    missing = [f"`{name}`" for name in TABLES if name not in have]
    if not missing:
        return ""
    return (
        f" Not run here: {', '.join(missing)} (run them, or add an earlier run's "
        "results with `--merge`)."
    )


def verdict(check: dict) -> str:
    """'met' or '**not met**': the measured value against the target."""
    value, limit = check["value"], check["limit"]
    ok = value <= limit if check["op"] == "<=" else value >= limit
    return "met" if ok else "**not met**"


def targets_section(run: dict, docs: dict) -> str:
    sources = [(b["name"], docs.get(b["name"], {})) for b in run["benchmarks"]]
    sources.append(("(the whole run)", run))
    rows = [
        [
            name,
            f"{c['target']} {c['op']} {with_unit(c['limit'], c['unit'])}",
            with_unit(c["value"], c["unit"]),
            verdict(c),
        ]
        for name, source in sources
        for c in source.get("checks", [])
    ]
    if not rows:
        return ""
    return "## Targets\n\n" + table(
        ["benchmark", "target", "measured", "verdict"], rows
    )


def bench_section(status: dict, doc: dict | None, figures: dict) -> str:
    title = f"## `{status['name']}`: {status['what']}"
    if doc is None:
        if "output" in status:
            return (
                f"{title}\n\n{ran(status)} Its output:\n\n```\n{status['output']}\n```"
            )
        return (
            f"{title}\n\nNo results: this benchmark failed ({status.get('error')}); "
            f"see [Failures](#failures-in-this-run).\n\n{ran(status)}"
        )
    params = ", ".join(f"`{k}={json.dumps(v)}`" for k, v in doc["params"].items())
    try:
        tables = TABLES[status["name"]](doc, figures)
    except KeyError as error:
        tables = [f"Its results lack {error}: no tables."]
    return "\n\n".join([title, f"Parameters: {params}.", *tables, ran(status)])


def ran(status: dict) -> str:
    """'Command: `...`, 21 s, load average 3.2 at start, 4.1 at end.', and
    the run it was measured in if that is an earlier one (`--merge`)."""
    text = (
        f"Command: `{status['command']}`, {status['seconds']:.0f} s, load average "
        f"{_load(status.get('load_start'))} at start, "
        f"{_load(status.get('load_end'))} at end."
    )
    if "run" in status:
        text += f" Measured in the run of {status['run']['started']}."
    return text


def _load(values: list[float] | None) -> str:
    return "n/a" if not values else f"{values[0]:.1f}"


def machine_section(run: dict) -> str:
    m = run["machine"]
    rows = [
        ["CPU", f"{m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable)"],
        ["RAM", f"{m['ram_gib']} GiB"],
        ["OS", m["os"]],
        ["Python", m["python"]],
        *([name, version] for name, version in m.get("packages", {}).items()),
        ["Chromium", m.get("chromium") or "not found"],
        [
            "load averages",
            f"{' / '.join(map(str, m['load_average']))} at start, "
            f"{' / '.join(map(str, run.get('load_end') or []))} at end",
        ],
    ]
    benches = [
        [
            f"`{b['name']}`",
            ("ok" if b["ok"] else f"**failed**: {b.get('error')}")
            + (f" (run of {b['run']['started']})" if "run" in b else ""),
            f"{b['seconds']:.0f} s",
            f"{_load(b.get('load_start'))} → {_load(b.get('load_end'))}",
        ]
        for b in run["benchmarks"]
    ]
    return "\n\n".join(
        [
            "## Machine",
            table(["", ""], rows),
            table(["benchmark", "status", "time", "load average"], benches),
        ]
    )


def failures_section(run: dict) -> str:
    failed = [b for b in run["benchmarks"] if not b["ok"]]
    if not failed:
        return ""
    text = "## Failures in this run\n"
    for b in failed:
        text += (
            f"\n### `{b['name']}`: {b.get('error')}\n\n{ran(b)} Last lines of its "
            f"output:\n\n```\n{b.get('log_tail') or '(none)'}\n```\n"
        )
    return text
