"""Benchmark: the health report (issue 26).

    python -m bench.bench_health [--quick] [--reps N] [--json OUT]

(a) `tb-rnngrad check LOGDIR --json` over the sweep of the benchmarks (200 runs
    x 3 tags x 100 logged steps, `testkit.sweep`), the whole command in a fresh
    interpreter, loading the log directory included (target <= 2 s); beside
    it, `health.check` alone on the loaded logs.
(b) the `health` route of a real `tensorboard` over that sweep, warm (its
    answer cached until a series changes), load_fast=true and false (target
    <= 300 ms); the first (cold) request reported on its own.
(c) `model.fit` of 100 steps (the demo-sized stacked LSTM, `bench.keras_model`)
    with a GradientLogger (gradients + state_gradients, every 10 steps) with
    the health check on every logged step (`on_problem="warn"`) against the
    same logger without it, interleaved (target <= 1.01x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

from bench.timing import Recorder, interleave, ratio, spread
from testkit.sweep import write_sweep
from testkit.tensorboard_server import fetch, start_tensorboard, wait_for_json

CHECK_MS, ROUTE_MS, LOGGER_X = 2000.0, 300.0, 1.01
RUNS = 200
CHECK_CODE = "import sys; from tb_rnngrad.cli import main; sys.exit(main())"


def check_times(logdir: str, reps: int) -> dict:
    """(a): seconds of the whole `check` command, of `health.check` alone, and
    side by side in this process, loading the logs and checking them through
    the data server `LogdirReader` starts against TensorBoard's Python
    multiplexer (what the command used before; a third of the repetitions,
    at least 2: each takes about 25 s)."""
    command = [sys.executable, "-c", CHECK_CODE, "check", logdir, "--json"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")

    def run() -> None:
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        if done.returncode not in (0, 1):
            raise RuntimeError(done.stderr.decode()[-2000:])

    whole = interleave({"command": run}, reps, warmup=1)["command"]["wall"]
    from tensorboard import context

    from tb_rnngrad import health
    from tb_rnngrad.server import logdir as logdir_module
    from tb_rnngrad.server.loader import retention
    from tb_rnngrad.server.logdir import LogdirReader
    from tb_rnngrad.server.reader import Reader

    source = LogdirReader(logdir)
    alone = interleave(
        {"check": lambda: health.check(source.reader, source.ctx, "")}, reps
    )["check"]["wall"]
    source.close()

    def data_server() -> None:
        fresh = LogdirReader(logdir)
        health.check(fresh.reader, fresh.ctx, "")
        fresh.close()

    def multiplexer() -> None:
        provider = logdir_module._multiplexer(logdir, retention())
        health.check(Reader(provider), context.RequestContext(), "")

    loaders = interleave(
        {"data_server": data_server, "multiplexer": multiplexer},
        max(2, reps // 3),
        warmup=0,
    )
    return {
        "command_s": spread(whole),
        "check_only_s": spread(alone),
        "load_and_check_s": {k: spread(v["wall"]) for k, v in loaders.items()},
        "data_server_over_multiplexer": ratio(
            loaders["data_server"]["wall"], loaders["multiplexer"]["wall"]
        ),
    }


def route_times(logdir: str, reps: int, load_fast: bool) -> dict:
    """(b): ms of the `health` route, cold once then warm."""
    server = start_tensorboard(logdir, load_fast=load_fast, timeout=300)
    try:
        tags = f"{server.url}/data/plugin/rnngrad/tags"
        wait_for_json(tags, lambda b: len(b) == RUNS, timeout=600)
        url = f"{server.url}/data/plugin/rnngrad/health"
        start = time.perf_counter()
        fetch(url)
        cold = (time.perf_counter() - start) * 1e3
        warm = interleave({"warm": lambda: fetch(url)}, reps, warmup=1)["warm"]
        return {"cold_ms": cold, "warm_ms": spread(warm["wall"], 1e3)}
    finally:
        server.stop()


def logger_ratio(reps: int, steps: int) -> dict:
    """(c): fit with the health check / without, per interleaved repetition;
    and the check's own time, timed around each call inside the fits, as a
    share of the fit (the direct measure when the fits' spread is wider than
    the 1% tested)."""
    import tb_rnngrad
    from bench.fit_sides import fit_once
    from bench.keras_model import build_model, make_data
    from tb_rnngrad.health import watch

    spent: list[float] = []
    check = watch.ProblemWatch.check

    def timed_check(self, result, step):
        start = time.perf_counter()
        try:
            return check(self, result, step)
        finally:
            spent.append(time.perf_counter() - start)

    x, y = make_data(16 * steps)
    sides = {}
    with tempfile.TemporaryDirectory(prefix="bench_health_fit_") as logdir:
        for name, on_problem in (("without", None), ("with", "warn")):
            model = build_model()
            logger = tb_rnngrad.GradientLogger(
                os.path.join(logdir, name),
                data=(x[:16], y[:16]),
                every_n_steps=10,
                kinds=("gradients", "state_gradients"),
                on_problem=on_problem,
            )
            sides[name] = lambda m=model, lg=logger: fit_once(m, x, y, 16, [lg])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the random model's findings
            watch.ProblemWatch.check = timed_check
            try:
                raw = interleave(sides, reps, warmup=1)
            finally:
                watch.ProblemWatch.check = check
    per_fit = sum(spent) / (reps + 1)  # the warm-up round's fit checks too
    return {
        "check_share": per_fit / statistics.median(raw["with"]["wall"]),
        "checks_per_fit": len(spent) / (reps + 1),
        "ratio": ratio(raw["with"]["wall"], raw["without"]["wall"]),
        "with_s": spread(raw["with"]["wall"]),
        "without_s": spread(raw["without"]["wall"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions")
    parser.add_argument("--fit-steps", type=int, default=100, help="steps per fit")
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.fit_steps = 2, 20
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rec = Recorder(
        "bench_health", args.quick, {"runs": RUNS, "reps": args.reps,
                                     "fit_steps": args.fit_steps},
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench_health_") as logdir:
        write_sweep(logdir, runs=RUNS)
        rec["check"] = check_times(logdir, args.reps)
        rec["route"] = {
            f"load_fast={str(fast).lower()}": route_times(logdir, args.reps, fast)
            for fast in (True, False)
        }
    rec["logger"] = logger_ratio(args.reps, args.fit_steps)
    results = rec.data["results"]
    command = results["check"]["command_s"]["median"]
    target = f"`tb-rnngrad check` over {RUNS} runs, whole command"
    rec.check(target, command * 1e3, "<=", CHECK_MS, "ms")
    print(f"check, whole command: {command:.2f} s; health.check alone: "
          f"{results['check']['check_only_s']['median']:.2f} s")  # fmt: skip
    loads = results["check"]["load_and_check_s"]
    factor = results["check"]["data_server_over_multiplexer"]["median"]
    fast, slow = (loads[k]["median"] for k in ("data_server", "multiplexer"))
    print(f"load and check: data server {fast:.2f} s / multiplexer {slow:.2f} s "
          f"= {factor:.3f}x")  # fmt: skip
    for mode, v in results["route"].items():
        median = v["warm_ms"]["median"]
        rec.check(f"`health` route, {mode}, warm", median, "<=", ROUTE_MS, "ms")
        print(f"health route {mode}: warm {median:.1f} ms, cold {v['cold_ms']:.0f} ms")
    factor = results["logger"]["ratio"]["median"]
    rec.check(
        f"fit {args.fit_steps} steps: logger with the health check / without",
        factor, "<=", LOGGER_X, "x",
    )  # fmt: skip
    share = results["logger"]["check_share"]
    rec.check(
        "health check's own time inside the fit / fit time", share, "<=", 0.01, "x"
    )
    print(f"logger with health / without: {factor:.3f}x; check's own time: "
          f"{share:.2%} of the fit")  # fmt: skip
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
