"""Benchmark: a long run, 10,000 logged steps of one series (issue 16).

    python -m bench.bench_long_runs            # about 2 minutes on 2 cores
    python -m bench.bench_long_runs --quick    # 1,000 steps, fewer repetitions

One run of `--steps` logged steps of a (2, 100, 8) gradient (`summary.
gradients_pb`, so its profile companion too), served by a real `tensorboard`
(`--load_fast=true`, the plugin's default retention: every profile step):

  (a) the `profile` route, warm (its answer cached), plain and gzip (what the
      tab asks for), timed from this process over HTTP (target <= 500 ms);
  (b) the flow-over-training view of that answer drawn in headless Chromium
      (`views/flow.js`, which merges rows beyond the plot's 300 pixel rows,
      the chosen step keeping its own), timed with performance.now() up to a
      one-pixel read-back, the chosen step in the middle and the last one
      (target <= 100 ms); beside it, for reference, the view of the first 300
      steps, one row each.

Sides of each part run interleaved, the order rotating with each repetition,
after a warm-up (`bench.timing.interleave`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.browser import DrawPage
from bench.timing import Recorder, interleave, spread
from tb_rnngrad import summary
from testkit.data import gradient_like, write_run
from testkit.tensorboard_server import fetch, start_tensorboard, wait_for_json

SHAPE = (2, 100, 8)
PROFILE_MS, DRAW_MS = 500.0, 100.0
FITS = 300  # steps the flow view draws one row each


def write_logs(logdir: str, steps: int) -> None:
    """One run, "long", of `steps` logged steps of tag "grads"."""
    base = gradient_like(SHAPE)
    write_run(
        Path(logdir) / "long",
        (
            (step, summary.gradients_pb("grads", base * (1 + step / steps)))
            for step in range(steps)
        ),
    )


def route_times(url: str, reps: int) -> dict:
    """(a): ms of warm `profile` GETs, plain and gzip; bodies' sizes."""
    sides = {
        "plain": lambda: fetch(url),
        "gzip": lambda: fetch(url, headers={"Accept-Encoding": "gzip"}),
    }
    raw = interleave(sides, reps, warmup=1)
    sizes = {name: len(fn()[2]) for name, fn in sides.items()}
    return {
        name: {"ms": spread(raw[name]["wall"], 1e3), "bytes": sizes[name]}
        for name in sides
    }


def draw_times(body: bytes, reps: int) -> dict:
    """(b): ms to draw the flow view, by label."""
    profile = json.loads(body)
    steps = profile["steps"]
    first = {k: v[:FITS] if isinstance(v, list) else v for k, v in profile.items()}
    with DrawPage() as page:
        info = page.load_profile("long", body)
        page.load_profile("short", json.dumps(first).encode())
        labels = {
            f"{len(steps):,} steps, the middle step chosen": (
                "long",
                steps[len(steps) // 2],
            ),
            f"{len(steps):,} steps, the last step chosen": ("long", steps[-1]),
            f"{FITS} steps (one row each), reference": ("short", steps[FITS // 2]),
        }
        sides = {
            label: lambda n=name, s=step: page.flow(n, s)
            for label, (name, step) in labels.items()
        }
        raw = interleave(sides, reps, warmup=2)
    return {
        "parse_ms": info["parseMs"],
        "draw_ms": {label: spread(raw[label]["wall"], 1e3) for label in labels},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="logged steps")
    parser.add_argument("--reps", type=int, default=9, help="repetitions")
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.reps = 1000, 3
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rec = Recorder(
        "bench_long_runs",
        args.quick,
        {"steps": args.steps, "shape": list(SHAPE), "reps": args.reps},
    )
    with tempfile.TemporaryDirectory(prefix="bench_long_") as logdir:
        write_logs(logdir, args.steps)
        server = start_tensorboard(logdir, load_fast=True, timeout=300)
        try:
            url = f"{server.url}/data/plugin/rnngrad/profile?run=long&tag=grads"
            wait_for_json(url, lambda b: len(b["steps"]) == args.steps, timeout=600)
            rec["profile"] = route_times(url, args.reps)
            body = fetch(url)[2]
        finally:
            server.stop()
    rec["flow"] = draw_times(body, args.reps)
    for name, v in rec.data["results"]["profile"].items():
        target = f"warm `GET profile`, {args.steps:,} steps, {name}"
        rec.check(target, v["ms"]["median"], "<=", PROFILE_MS, "ms")
        print(f"{target:60} {v['ms']['median']:8.1f} ms  {v['bytes']:,} bytes")
    for label, v in rec.data["results"]["flow"]["draw_ms"].items():
        if "reference" not in label:
            rec.check(f"flow view draw, {label}", v["median"], "<=", DRAW_MS, "ms")
        print(f"flow view draw, {label:50} {v['median']:8.1f} ms")
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
