"""Benchmark: the loggers' byte budget per logged step (issue 23).

    python -m bench.bench_budget [--quick] [--reps N] [--steps N] [--json OUT]
    python -m bench.bench_budget --logger-only --reps N   # (a) alone

Side by side in one run (PyTorch; `--quick` uses a small model):

(a) a 2-layer LSTM(1024) on 1,000 timesteps of 32 features, probe batch 16,
    kinds gradients + state_gradients (6 tensors of 16x1000x1024): one
    `GradientLogger.log` with the default budget (8 MiB) and one with
    `max_bytes_per_step=None`, interleaved `--reps` times, each writing to a
    fresh directory: bytes per logged step (the event file's growth) and the
    logger's own wall and CPU time. As the capture is the same on both sides,
    also the write alone (records -> [budget ->] event file) on one capture,
    interleaved `--reps * 3` times.
(b) `--steps` logged steps of that run written with the budget (the records of
    one capture, scaled per step so that every step differs, through the
    logger's own `StepBudget` and event writer), served by a real
    `tensorboard` with load_fast=true and false: resident memory of
    tensorboard and its data server once every step is listed, and the tab's
    first paint in Chromium (ms from the plugin iframe's `load` to its first
    `rnngrad:drawn` mark; one warm-up page, then `--reps` pages).
(c) peak resident memory (VmHWM) of a capture of an LSTM(256) on 4,000
    timesteps with the state kinds, and of a bare forward+backward of the same
    model and batch, each in a fresh subprocess, alternated `--reps` times;
    also each one's resident memory before the work (imports, model, batch).
    Each side of (a) logs once, untimed, before the timed repetitions.

Prints a Markdown section; `--json` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench.timing import spread

MIB = 2**20
DRAWN_JS = "() => performance.getEntriesByName('rnngrad:drawn').length"


def _model(layers: int, units: int, features: int):
    import torch
    from torch import nn

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnns = nn.ModuleList(
                nn.LSTM(features if i == 0 else units, units, batch_first=True)
                for i in range(layers)
            )
            self.head = nn.Linear(units, 1)

        def forward(self, x):
            for rnn in self.rnns:
                x, _ = rnn(x)
            return self.head(x[:, -1])

    torch.manual_seed(0)
    return Stack()


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _dir_bytes(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(d, f))
        for d, _, files in os.walk(path)
        for f in files
    )


def logger_side_by_side(shape: dict, reps: int, root: str) -> tuple[dict, tuple]:
    """(a): bytes and time per logged step, with the budget and without."""
    import torch
    from torch import nn

    from tb_rnngrad import pytorch as tp
    from tb_rnngrad.events import EventWriter, add_records
    from tb_rnngrad.format.budget import DEFAULT_MAX_BYTES
    from tb_rnngrad.records import records
    from tb_rnngrad.step_budget import StepBudget

    kinds = ("gradients", "state_gradients")
    module = _model(shape["layers"], shape["units"], shape["features"])
    batch, steps = shape["batch"], shape["timesteps"]
    probe = (torch.randn(batch, steps, shape["features"]), torch.randn(batch, 1))
    sides = {"budget": DEFAULT_MAX_BYTES, "none": None}
    empty = EventWriter(os.path.join(root, "empty"))  # the file's first event
    empty.close()
    header = os.path.getsize(empty.path)
    raw = {name: {"wall": [], "cpu": [], "bytes": []} for name in sides}
    for name in sides:  # warm-up, not timed: first calls pay one-off costs
        warm = tp.GradientLogger(
            os.path.join(root, "warm"), module, nn.MSELoss(), probe, kinds=kinds,
            subdir=name, max_bytes_per_step=sides[name],
        )  # fmt: skip
        warm.log(0)
        warm.close()
    for rep in range(reps):
        order = list(sides) if rep % 2 == 0 else list(sides)[::-1]
        for name in order:
            path = os.path.join(root, f"{name}-{rep}")
            logger = tp.GradientLogger(
                path, module, nn.MSELoss(), probe, kinds=kinds, subdir="",
                max_bytes_per_step=sides[name],
            )  # fmt: skip
            wall, cpu = _timed(lambda logger=logger: logger.log(1))
            logger.close()
            raw[name]["wall"].append(wall)
            raw[name]["cpu"].append(cpu)
            raw[name]["bytes"].append(_dir_bytes(path) - header)
            for file in os.listdir(path):
                os.remove(os.path.join(path, file))
            print(f"(a) rep {rep} {name}: {wall:.1f} s, {raw[name]['bytes'][-1]:,} B")
    found = tp.capture(module, nn.MSELoss(), *probe, kinds=kinds)
    write = {name: {"wall": [], "cpu": []} for name in sides}
    for rep in range(reps * 3):
        order = list(sides) if rep % 2 == 0 else list(sides)[::-1]
        for name in order:
            writer = EventWriter(os.path.join(root, f"write-{name}"))
            plan = StepBudget(sides[name], lambda message: None)

            def one(writer=writer, plan=plan):
                add_records(writer.add_summary, plan.apply(records(found, kinds)), 1)
                writer.flush()

            wall, cpu = _timed(one)
            writer.close()
            os.remove(writer.path)
            write[name]["wall"].append(wall)
            write[name]["cpu"].append(cpu)
    return {
        "captured_mib": sum(
            a.nbytes
            for a in [*found.gradients.values(), *found.state_gradients.values()]
        )
        / MIB,
        "budget_bytes": DEFAULT_MAX_BYTES,
        "log": {
            name: {
                "wall_s": spread(v["wall"]),
                "cpu_s": spread(v["cpu"]),
                "bytes": spread(v["bytes"]),
            }
            for name, v in raw.items()
        },
        "log_ratio": spread(
            [
                a / b
                for a, b in zip(raw["budget"]["wall"], raw["none"]["wall"], strict=True)
            ]
        ),
        "write": {
            name: {"wall_s": spread(v["wall"]), "cpu_s": spread(v["cpu"])}
            for name, v in write.items()
        },
        "write_ratio": spread(
            [
                a / b
                for a, b in zip(
                    write["budget"]["wall"], write["none"]["wall"], strict=True
                )
            ]
        ),
    }, (module, probe, found)


def write_steps(capture, steps: int, logdir: str) -> dict:
    """(b): `steps` logged steps of one capture, scaled per step, budgeted."""
    from tb_rnngrad.events import EventWriter, add_records
    from tb_rnngrad.format.budget import DEFAULT_MAX_BYTES
    from tb_rnngrad.records import records
    from tb_rnngrad.step_budget import StepBudget

    _, _, found = capture
    kinds = ("gradients", "state_gradients")
    base = list(records(found, kinds))
    plan = StepBudget(DEFAULT_MAX_BYTES, print)
    writer = EventWriter(os.path.join(logdir, "lstm1024"))
    start = time.perf_counter()
    import dataclasses

    for step in range(steps):
        scale = np.float32(1.0 + 0.01 * step)
        scaled = [dataclasses.replace(r, data=r.data * scale) for r in base]
        add_records(writer.add_summary, plan.apply(scaled), step)
        writer.flush()
    writer.close()
    return {
        "seconds": time.perf_counter() - start,
        "logdir_mib": _dir_bytes(logdir) / MIB,
        "tags": len(base),
    }


def serve_and_measure(logdir: str, steps: int, tags: int, reps: int) -> dict:
    """(b): memory and first paint in both data providers."""
    from playwright.sync_api import sync_playwright

    from bench.bench_sweep import FRAME_LOAD_JS
    from bench.bench_sweep import memory as server_memory
    from testkit.chromium import VIEWPORT, launch
    from testkit.plugin_page import plugin_frame
    from testkit.tensorboard_server import start_tensorboard

    paint_js = """
    () => {
      const nav = performance.getEntriesByType("navigation")[0];
      const drawn = performance.getEntriesByName("rnngrad:drawn")[0];
      return {load: nav.loadEventEnd, drawn: drawn ? drawn.startTime : null,
              canvases: document.querySelectorAll("section.rg-panel canvas").length};
    }
    """
    results = {}
    for load_fast in (True, False):
        mode = f"load_fast={'true' if load_fast else 'false'}"
        server = start_tensorboard(logdir, load_fast=load_fast, timeout=600)
        try:
            start = time.monotonic()
            while time.monotonic() - start < 1800:
                try:
                    from testkit.tensorboard_server import fetch_json

                    listing = fetch_json(server.url + "/data/plugin/rnngrad/tags")
                    done = sum(
                        1
                        for by_tag in listing.values()
                        for entry in by_tag.values()
                        if entry.get("max_step") == steps - 1
                    )
                    if done == tags:
                        break
                except (OSError, AssertionError):
                    pass
                time.sleep(1.0)
            out = {"load_seconds": time.monotonic() - start}
            samples = []
            with sync_playwright() as p:
                browser = launch(p)
                try:
                    for rep in range(reps + 1):
                        context = browser.new_context(viewport=VIEWPORT)
                        page = context.new_page()
                        page.goto(f"{server.url}/#rnngrad")
                        frame = plugin_frame(page)
                        frame.wait_for_function(DRAWN_JS, timeout=120000)
                        timing = frame.evaluate(paint_js)
                        timing["frame_load"] = page.evaluate(FRAME_LOAD_JS)
                        context.close()
                        if rep > 0:
                            samples.append(timing)
                finally:
                    browser.close()
            out["paint_after_iframe_load_ms"] = spread(
                [t["drawn"] - t["load"] for t in samples]
            )
            out["canvases"] = samples[0]["canvases"]
            out["memory"] = server_memory(server)
            results[mode] = out
        finally:
            server.stop()
        print(mode, json.dumps(out, default=float), flush=True)
    return results


def peak_child(which: str, units: int, timesteps: int, batch: int) -> None:
    """Runs in a fresh subprocess: one capture or bare fwd+bwd; prints RSS."""
    import torch
    from torch import nn

    from tb_rnngrad import pytorch as tp

    module = _model(1, units, 8)
    probe = (torch.randn(batch, timesteps, 8), torch.randn(batch, 1))
    before = _status_kib("VmRSS")
    if which == "capture":
        tp.capture(module, nn.MSELoss(), *probe, kinds=("gradients", "state_gradients"))
    else:
        nn.MSELoss()(module(probe[0]), probe[1]).backward()
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the parent's.
    print(json.dumps({"before_kib": before, "peak_kib": _status_kib("VmHWM")}))


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_side_by_side(shape: dict, reps: int) -> dict:
    """(c): peak RSS of the capture and of a bare fwd+bwd, fresh processes."""
    raw = {"capture": [], "bare": []}
    for rep in range(reps):
        order = ["bare", "capture"] if rep % 2 == 0 else ["capture", "bare"]
        for which in order:
            args = [sys.executable, "-m", "bench.bench_budget", "--peak", which]
            args += [str(shape[k]) for k in ("units", "timesteps", "batch")]
            done = subprocess.run(args, capture_output=True, text=True, check=True)
            raw[which].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"(c) rep {rep} {which}: {raw[which][-1]}")
    return {
        name: {
            "peak_mib": spread([r["peak_kib"] / 1024 for r in rows]),
            "before_mib": spread([r["before_kib"] / 1024 for r in rows]),
        }
        for name, rows in raw.items()
    } | {
        "ratio": spread(
            [
                c["peak_kib"] / b["peak_kib"]
                for c, b in zip(raw["capture"], raw["bare"], strict=True)
            ]
        ),
        "ratio_above_before": spread(
            [
                (c["peak_kib"] - c["before_kib"]) / (b["peak_kib"] - b["before_kib"])
                for c, b in zip(raw["capture"], raw["bare"], strict=True)
            ]
        ),
    }


def _above(side: dict) -> float:
    return side["peak_mib"]["median"] - side["before_mib"]["median"]


def markdown(doc: dict) -> str:
    """The page's section: one table per part, targets with verdicts."""
    a, b, c, p = doc["logger"], doc["served"], doc["peak"], doc["params"]
    budget = a["budget_bytes"]
    with_b, without = a["log"]["budget"], a["log"]["none"]
    per_step = with_b["bytes"]["median"]
    lines = [
        f"(a) {p['a']['layers']} x LSTM({p['a']['units']}), {p['a']['timesteps']:,} "
        f"timesteps, batch {p['a']['batch']}, gradients + state_gradients "
        f"({a['captured_mib']:,.0f} MiB captured per step), {p['reps']} "
        "interleaved logged steps per side:",
        "",
        "| per logged step | budget 8 MiB | no limit | ratio |",
        "|---|---|---|---|",
        f"| bytes written | {per_step / MIB:.2f} MiB ({per_step / budget:.1%} of the "
        f"budget) | {without['bytes']['median'] / MIB:,.1f} MiB | |",
        f"| `log()` wall (capture + write) | {with_b['wall_s']['median']:.1f} s | "
        f"{without['wall_s']['median']:.1f} s | {a['log_ratio']['median']:.2f}x |",
        f"| `log()` CPU | {with_b['cpu_s']['median']:.1f} s | "
        f"{without['cpu_s']['median']:.1f} s | |",
        f"| write alone (records to event file), wall | "
        f"{a['write']['budget']['wall_s']['median']:.2f} s | "
        f"{a['write']['none']['wall_s']['median']:.2f} s | "
        f"{a['write_ratio']['median']:.2f}x |",
        "",
        f"(b) {p['steps']} logged steps of that run with the budget "
        f"({b['logdir_mib']:,.0f} MiB of event files):",
        "",
        "| TensorBoard | load_fast=true | load_fast=false |",
        "|---|---|---|",
    ]
    modes = [b["modes"]["load_fast=true"], b["modes"]["load_fast=false"]]
    lines += [
        "| resident memory, tensorboard + data server | "
        + " | ".join(f"{m['memory']['total_mib']:,.0f} MiB" for m in modes)
        + " |",
        "| first paint after the iframe's load (median of "
        f"{p['reps']}) | "
        + " | ".join(
            f"{m['paint_after_iframe_load_ms']['median']:.0f} ms" for m in modes
        )
        + " |",
        "",
        f"(c) LSTM({p['c']['units']}), {p['c']['timesteps']:,} timesteps, batch "
        f"{p['c']['batch']}, peak resident memory, fresh process each:",
        "",
        "| | capture (gradients + state_gradients) | bare fwd+bwd | ratio |",
        "|---|---|---|---|",
        f"| peak RSS | {c['capture']['peak_mib']['median']:,.0f} MiB | "
        f"{c['bare']['peak_mib']['median']:,.0f} MiB | {c['ratio']['median']:.2f}x |",
        f"| above the RSS before the work | {_above(c['capture']):,.0f} MiB | "
        f"{_above(c['bare']):,.0f} MiB | {c['ratio_above_before']['median']:.2f}x |",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    for check in doc["checks"]:
        ok = (
            check["value"] <= check["limit"]
            if check["op"] == "<="
            else check["value"] >= check["limit"]
        )
        lines.append(
            f"| {check['target']} {check['op']} {check['limit']:g}{check['unit']} | "
            f"{check['value']:.3g}{check['unit']} | {'met' if ok else '**not met**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small models")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--json", default=None, help="write results here")
    parser.add_argument(
        "--logger-only", action="store_true", help="(a) only: more repetitions"
    )
    parser.add_argument("--peak", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak:
        which, units, timesteps, batch = args.peak
        peak_child(which, int(units), int(timesteps), int(batch))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    a_shape = {
        "layers": 2,
        "units": 1024,
        "timesteps": 1000,
        "features": 32,
        "batch": 16,
    }
    c_shape = {"units": 256, "timesteps": 4000, "batch": 16}
    steps = args.steps
    if args.quick:
        a_shape.update(units=256, timesteps=400)
        c_shape.update(timesteps=1000)
        steps = min(steps, 10)
    doc = {
        "params": {"a": a_shape, "c": c_shape, "reps": args.reps, "steps": steps},
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "checks": [],
    }
    start = time.perf_counter()
    if args.logger_only:
        with tempfile.TemporaryDirectory(prefix="bench_budget_") as root:
            doc["logger"], _ = logger_side_by_side(a_shape, args.reps, root)
        print(json.dumps(doc["logger"], indent=1, default=float))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_budget_") as root:
        doc["logger"], captured = logger_side_by_side(a_shape, args.reps, root)
        logdir = os.path.join(root, "served")
        written = write_steps(captured, steps, logdir)
        del captured
        doc["served"] = {
            **written,
            "modes": serve_and_measure(logdir, steps, written["tags"], args.reps),
        }
    doc["peak"] = peak_side_by_side(c_shape, args.reps)
    a, served = doc["logger"], doc["served"]["modes"]
    per_step = a["log"]["budget"]["bytes"]["median"]
    checks = [
        (
            "bytes per logged step / budget",
            per_step / a["budget_bytes"],
            "<=",
            1.0,
            "x",
        ),
        (
            "bytes per logged step / budget",
            per_step / a["budget_bytes"],
            ">=",
            0.95,
            "x",
        ),
        (
            "logger time per step, budget / none",
            a["log_ratio"]["median"],
            "<=",
            1.1,
            "x",
        ),
    ]
    for mode, out in served.items():
        checks.append(
            (
                f"{mode}: tensorboard + data server RSS after {steps} steps",
                out["memory"]["total_mib"],
                "<=",
                1536.0,
                " MiB",
            )  # fmt: skip
        )
        checks.append(
            (
                f"{mode}: first paint after the iframe's load",
                out["paint_after_iframe_load_ms"]["median"],
                "<=",
                1000.0,
                " ms",
            )  # fmt: skip
        )
    checks.append(
        (
            "capture peak RSS / bare fwd+bwd",
            doc["peak"]["ratio"]["median"],
            "<=",
            2.0,
            "x",
        )
    )
    doc["checks"] = [
        {"target": t, "value": v, "op": o, "limit": lim, "unit": u}
        for t, v, o, lim, u in checks
    ]
    doc["seconds"] = round(time.perf_counter() - start, 1)
    doc["load_end"] = [round(x, 2) for x in os.getloadavg()]
    text = markdown(doc)
    print(text)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(doc, out, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
