"""Benchmark: drawing in the browser (headless Chromium).

    python -m bench.bench_browser [--quick] [--json OUT]

(a) The draw page of the browser tests (`tests/e2e/bench_page/bench.html`),
    which times the view modules' draw functions with performance.now() (median
    of 7 after 2 warm-ups, per page load): heatmap + channel grid of a
    16x200x64 step, all samples and one sample (target <= 50 ms), one 512x256
    heatmap (target <= 16 ms), 50 steps drawn back to back (target >= 30
    steps/s). The page is loaded several times; the table gives the median and
    IQR over page loads.
(b) Scrubbing in the plugin in a real `tensorboard` (`--load_fast=false`, 50
    steps of a 16x200x64 series, all kept): every step fetched once, then the
    step slider driven through all 50 steps again (cached), one sample and all
    samples (target >= 30 steps/s). Not in --quick.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


from bench.browser import static_server  # noqa: E402
from bench.timing import Recorder, spread  # noqa: E402
from testkit.chromium import VIEWPORT, launch  # noqa: E402
from testkit.data import gradient_like  # noqa: E402
from testkit.plugin_page import SCRUB_JS, open_plugin, redraw, show_only  # noqa: E402

TARGETS = {
    "all16x200x64": ("<=", 50.0),
    "one16x200x64": ("<=", 50.0),
    "heatmap512x256": ("<=", 16.0),
    "scrubStepsPerSecond": (">=", 30.0),
}


def draw_page(browser, loads: int) -> dict:
    """Runs bench.html `loads` times; spread of each result over the loads."""
    server, base = static_server(str(REPO))
    runs = []
    try:
        for _ in range(loads):
            page = browser.new_page(viewport=VIEWPORT)
            errors = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(f"{base}/tests/e2e/bench_page/bench.html")
            page.wait_for_function("window.benchResults", timeout=120000)
            runs.append(page.evaluate("window.benchResults"))
            page.close()
            if errors:
                raise RuntimeError(f"bench.html failed: {errors}")
    finally:
        server.shutdown()
        server.server_close()
    return {key: spread([r[key] for r in runs]) for key in runs[0]}


def write_scrub_logs(logdir: Path, steps: int = 50) -> None:
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer import event_file_writer

    from tb_rnngrad import summary

    writer = event_file_writer.EventFileWriter(str(logdir / "run"))
    for step in range(steps):
        pb = summary.gradients_pb("grads", gradient_like((16, 200, 64), seed=step))
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + step, summary=pb))
    writer.close()


def scrub(browser, reps: int) -> dict:
    """Steps per second scrubbing 50 cached steps in the plugin, per mode."""

    from testkit.tensorboard_server import start_tensorboard

    with tempfile.TemporaryDirectory(prefix="bench_scrub_") as logdir:
        write_scrub_logs(Path(logdir))
        server = start_tensorboard(
            logdir, load_fast=False, samples_per_plugin={"rnngrad": 0}, timeout=300
        )
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.inflight = {}  # plugin_page.redraw reports requests in flight
            frame = open_plugin(page, server.url)
            show_only(frame, "run", "grads")
            out = {}
            for mode in ("one", "all"):
                if frame.locator("#rg-sample-mode").input_value() != mode:
                    redraw(
                        frame, lambda m=mode: frame.select_option("#rg-sample-mode", m)
                    )
                results = [frame.evaluate(SCRUB_JS) for _ in range(reps)]
                out[mode] = {
                    "steps": results[0]["steps"],
                    "steps_per_second": spread([r["stepsPerSecond"] for r in results]),
                }
            page.close()
        finally:
            server.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer loads, no (b)")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    loads = 2 if args.quick else 5
    rec = Recorder(
        "bench_browser",
        args.quick,
        {"page_loads": loads, "scrub_reps": 0 if args.quick else 3},
    )
    rec["targets"] = TARGETS
    status = 0
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with sync_playwright() as p:
        browser = launch(p)
        rec["chromium"] = browser.version
        start = time.perf_counter()
        rec["draw_page"] = draw_page(browser, loads)
        rec["draw_page_seconds"] = round(time.perf_counter() - start, 1)
        if not args.quick:
            try:
                rec["scrub"] = scrub(browser, 3)
            except Exception as error:  # reported; (a) is kept
                rec["scrub_error"] = f"{type(error).__name__}: {error}"
                status = 1
        browser.close()
    rec.write(args.json)
    return status


if __name__ == "__main__":
    sys.exit(main())
