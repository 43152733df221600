"""Runs every benchmark in bench/ and rewrites docs/benchmarks.md.

    python -m bench            # full run (`make bench`), 10 to 15 minutes on 2 cores
    python -m bench --quick    # smoke run, under 2 minutes; its page goes to
                               # bench/out/<run>/benchmarks.md, not docs/
    python -m bench --only compare_drawing,storage
    python -m bench --only scaling --merge bench/out/<earlier run>
    python -m bench --report-only bench/out/<run>   # rewrite the page only

Each benchmark runs in its own subprocess with `--json`, its output kept in
bench/out/<run>/<name>.log; one that fails or runs out of time is reported in
the page and the others still run. `bench/report.py` then writes the page and
its figures (docs/img/bench-*.png) from the JSON files. A `bench/bench_*.py`
that is not in `PLAN` is run too, with `--quick` in quick mode, and its output
is shown as is.

A run of some benchmarks (`--only`) writes its page to bench/out/<run>/ unless
`--merge` adds the results of an earlier run for the others (each keeps the
command and date it was measured with) and together they cover every benchmark
in `PLAN`: then the page is docs/benchmarks.md, as after a full run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.timing import check

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
DOC = REPO / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Bench:
    """One benchmark subprocess: `python -m bench.<name> --json FILE`, with the
    script's own defaults (a full run) or `quick` arguments (a smoke run)."""

    name: str
    what: str
    quick: tuple[str, ...]
    timeout_full: float = 240
    timeout_quick: float = 60
    json: bool = True

    def command(self, quick: bool, json_path: Path) -> list[str]:
        args = [sys.executable, "-m", f"bench.{self.name}"]
        args += list(self.quick) if quick else []
        return args + (["--json", str(json_path)] if self.json else [])


PLAN = (
    Bench(
        "compare_logging",
        "logging: tb-rnngrad vs a tf.summary.histogram loop vs bare fwd+bwd",
        ("--reps", "5"),
    ),
    Bench(
        "compare_drawing",
        "drawing: browser views vs see-rnn vs tb_rnngrad.viz",
        ("--quick",),
    ),
    Bench("storage", "bytes on disk per logged value", ("--quick",)),
    Bench(
        "scaling",
        "cost vs timesteps and channels",
        ("--quick",),
        timeout_full=600,
        timeout_quick=90,
    ),
    Bench(
        "bench_browser",
        "view modules' draw time and scrubbing in Chromium",
        ("--quick",),
        timeout_full=180,
    ),
    Bench(
        "bench_capture",
        "capture+write vs training, and the through-time kinds",
        ("--quick",),
        timeout_full=720,
        timeout_quick=150,
    ),
    Bench(
        "bench_routes",
        "HTTP routes and memory in a real tensorboard",
        ("--reps", "3", "--sections", "a", "--modes", "false"),
        timeout_full=360,
        timeout_quick=75,
    ),
    Bench(
        "bench_sweep",
        "a 200-run sweep: `tags`, `compare`, the compare view and memory",
        ("--quick",),
        timeout_full=900,
        timeout_quick=120,
    ),
    Bench(
        "bench_weights",
        "the weight kinds: logger in fit, the Weights view in Chromium",
        ("--quick",),
        timeout_full=900,
        timeout_quick=150,
    ),
    Bench(
        "bench_torch",
        "PyTorch capture and logger vs bare torch",
        ("--quick",),
        timeout_full=420,
    ),
    Bench(
        "bench_distribute",
        "GradientLogger in a MirroredStrategy fit",
        ("--quick",),
        timeout_full=900,
        timeout_quick=150,
    ),
    Bench(
        "bench_long_runs",
        "10,000 logged steps: the profile route and the flow view",
        ("--quick",),
        timeout_full=600,
        timeout_quick=120,
    ),
    Bench(
        "bench_backends",
        "Keras 3 capture on TensorFlow, JAX, PyTorch vs each one's bare fwd+bwd",
        ("--quick",),
        timeout_full=900,
        timeout_quick=600,
    ),
    Bench(
        "bench_health",
        "the health report: `check` over a sweep, the route, the logger's check",
        ("--quick",),
        timeout_full=900,
        timeout_quick=300,
    ),
    Bench(
        "bench_budget",
        "the byte budget at production sizes: bytes, memory, paint, peak",
        ("--quick",),
        timeout_full=1800,
        timeout_quick=600,
    ),
    Bench(
        "bench_unrolled",
        "a decoder loop in PyTorch and Keras: capture and logger vs bare",
        ("--quick",),
        timeout_full=600,
        timeout_quick=180,
    ),
)


def extra_benchmarks() -> list[Bench]:
    """bench/bench_*.py files that PLAN does not know: run with their output."""
    known = {b.name for b in PLAN}
    return [
        Bench(path.stem, f"bench/{path.name}", ("--quick",), json=False)
        for path in sorted((REPO / "bench").glob("bench_*.py"))
        if path.stem not in known
    ]


def run_one(bench: Bench, quick: bool, out: Path) -> dict:
    """Runs one benchmark; returns its status record (never raises)."""
    json_path = out / f"{bench.name}.json"
    log_path = out / f"{bench.name}.log"
    command = bench.command(quick, json_path)
    timeout = bench.timeout_quick if quick else bench.timeout_full
    status = {
        "name": bench.name,
        "what": bench.what,
        "command": " ".join(
            [
                "python",
                "-m",
                f"bench.{bench.name}",
                *(bench.quick if quick else ()),
            ]
        ),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"[bench] {bench.name} ...", flush=True)
    start = time.perf_counter()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), env.get("PYTHONPATH")])
    )
    with open(log_path, "wb") as log:
        try:
            process = subprocess.run(
                command,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                timeout=timeout,
                start_new_session=True,
            )
            status["returncode"] = process.returncode
            status["ok"] = process.returncode == 0
        except subprocess.TimeoutExpired:
            status["returncode"] = None
            status["ok"] = False
            status["error"] = f"timed out after {timeout:.0f} s"
        except OSError as error:
            status["returncode"] = None
            status["ok"] = False
            status["error"] = f"could not start: {error}"
    status["seconds"] = round(time.perf_counter() - start, 1)
    status["load_end"] = [round(x, 2) for x in os.getloadavg()]
    status["json"] = json_path.name if json_path.exists() else None
    text = log_path.read_text(errors="replace")
    if not status["ok"]:
        status.setdefault("error", f"exit status {status['returncode']}")
        status["log_tail"] = _tail(text, 25)
    if not bench.json:
        status["output"] = _tail(text, 60)
    mark = "ok" if status["ok"] else f"FAILED ({status['error']})"
    print(f"[bench] {bench.name}: {mark} in {status['seconds']:.0f} s", flush=True)
    return status


def _tail(text: str, lines: int) -> str:
    kept = [
        line
        for line in text.splitlines()
        if not line.startswith(("WARNING: All log messages", "I0000", "W0000", "E0000"))
    ]
    return "\n".join(kept[-lines:])


def command_line(argv: list[str]) -> str:
    """How this run was started, with the interpreter relative to the repo."""
    python = Path(sys.executable)
    try:
        python_text = str(python.relative_to(REPO))
    except ValueError:
        python_text = "python"
    return " ".join([python_text, "-m", "bench"] + argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke run, < 2 min")
    parser.add_argument("--only", default=None, help="comma-separated names")
    parser.add_argument("--out", default=None, help="results directory")
    parser.add_argument(
        "--doc",
        default=None,
        help="page to write (default: docs/benchmarks.md for a full run, "
        "<out>/benchmarks.md for --quick or --only)",
    )
    parser.add_argument("--report-only", default=None, help="results directory")
    parser.add_argument(
        "--merge",
        default=None,
        help="results directory of an earlier run: its results for the "
        "benchmarks this run does not run go on the page too",
    )
    args = parser.parse_args(argv)

    from bench import machine

    if args.report_only:
        from bench import report

        out = Path(args.report_only)
        summary = json.loads((out / "run.json").read_text())
        doc = Path(args.doc) if args.doc else _default_doc(summary, out)
        report.write(out, doc)
        print(f"[bench] wrote {doc}")
        return 0

    plan = list(PLAN) + extra_benchmarks()
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {b.name for b in plan}
        if unknown:
            parser.error(
                f"unknown benchmark(s) {sorted(unknown)}; known: "
                f"{[b.name for b in plan]}"
            )
        plan = [b for b in plan if b.name in names]
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (
        Path(args.out)
        if args.out
        else OUT / f"{stamp}-{'quick' if args.quick else 'full'}"
    )
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    summary = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "only": args.only,
        "command": command_line(argv),
        "machine": machine.describe(),
        "benchmarks": [],
    }
    for bench in plan:
        summary["benchmarks"].append(run_one(bench, args.quick, out))
        (out / "run.json").write_text(json.dumps(summary, indent=1))
    summary["load_end"] = [round(x, 2) for x in os.getloadavg()]
    summary["benchmark_seconds"] = round(time.perf_counter() - start, 1)
    if args.merge:
        merge(summary, out, Path(args.merge))
    if not args.only:
        summary["checks"] = [duration_check(args.quick, summary["benchmark_seconds"])]
    (out / "run.json").write_text(json.dumps(summary, indent=1))
    doc = Path(args.doc) if args.doc else _default_doc(summary, out)
    from bench import report

    report.write(out, doc)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    (out / "run.json").write_text(json.dumps(summary, indent=1))
    failed = [b["name"] for b in summary["benchmarks"] if not b["ok"]]
    print(
        f"[bench] wrote {doc} in {summary['seconds']:.0f} s; results in {out}"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


def duration_check(quick: bool, seconds: float) -> dict:
    """The target on the whole run's duration: 2 minutes quick, 10 full."""
    what = "`--quick` run" if quick else "full `make bench`"
    return check(what, seconds / 60, "<=", 2 if quick else 10, "min")


def merge(summary: dict, out: Path, earlier: Path) -> None:
    """Adds to `summary` (and copies into `out`) the results of the run in
    `earlier` for the benchmarks that `summary` lacks, in `PLAN` order.

    Each added status keeps where it comes from under "run": the earlier
    run's start, command and directory (or, if that run had merged it too,
    the run it came from).
    """
    old = json.loads((earlier / "run.json").read_text())
    if old.get("quick") != summary["quick"]:
        raise SystemExit(
            f"--merge {earlier}: that run was {'' if old.get('quick') else 'not '}"
            "--quick and this one is the other kind; merge runs of one kind"
        )
    have = {b["name"] for b in summary["benchmarks"]}
    source = {
        "started": old["started"],
        "command": old["command"],
        "dir": str(earlier),
    }
    for status in old["benchmarks"]:
        if status["name"] in have:
            continue
        path = earlier / f"{status['name']}.json"
        if path.exists():
            shutil.copyfile(path, out / path.name)
        summary["benchmarks"].append({**status, "run": status.get("run", source)})
    order = [b.name for b in list(PLAN) + extra_benchmarks()]
    summary["benchmarks"].sort(
        key=lambda b: order.index(b["name"]) if b["name"] in order else len(order)
    )
    summary["merged"] = str(earlier)


def _default_doc(summary: dict, out: Path) -> Path:
    if summary["quick"]:
        return out / "benchmarks.md"
    have = {b["name"] for b in summary["benchmarks"]}
    complete = all(b.name in have for b in PLAN)
    return DOC if complete else out / "benchmarks.md"


if __name__ == "__main__":
    sys.exit(main())
