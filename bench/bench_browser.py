"""Benchmark: drawing in the browser (headless Chromium).

    python -m bench.bench_browser [--quick] [--json OUT]

(a) The view modules' draw functions on the draw page (`bench.browser.DrawPage`),
    interleaved after 2 warm-ups, each draw timed with performance.now() up to
    a one-pixel read-back: heatmap + channel grid of a 16x200x64 step, all 16
    samples and one sample (target <= 50 ms), each view alone, one 512x256
    heatmap (target <= 16 ms); and 50 different 16x200x64 steps drawn back to
    back, one sample (target >= 30 steps/s).
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
from pathlib import Path

from bench.browser import DrawPage
from bench.timing import Recorder, Seconds, interleave, spread
from testkit.chromium import VIEWPORT, launch
from testkit.data import gradient_like, write_run
from testkit.plugin_page import SCRUB_JS, open_plugin, redraw, show_only

STEP, WIDE = (16, 200, 64), (1, 512, 256)
SCRUB_STEPS = 50
#: Draws of (a): label -> (array, views, samples).
DRAWS = {
    "heatmap + channel grid, 16x200x64, all 16 samples": ("step", "both", "all"),
    "heatmap only, 16x200x64, all 16 samples": ("step", "heatmap", "all"),
    "channel grid only, 16x200x64, all 16 samples": ("step", "grid", "all"),
    "heatmap + channel grid, 16x200x64, one sample": ("step", "both", "one"),
    "one 512x256 heatmap": ("wide", "heatmap", "all"),
}
#: Targets of (a) in ms: label -> limit.
DRAW_TARGETS = {
    "heatmap + channel grid, 16x200x64, all 16 samples": 50.0,
    "heatmap + channel grid, 16x200x64, one sample": 50.0,
    "one 512x256 heatmap": 16.0,
}
BACK_TO_BACK = f"{SCRUB_STEPS} different 16x200x64 steps drawn back to back"
MIN_STEPS_PER_SECOND = 30.0


def draw_views(reps: int) -> tuple[dict, dict]:
    """(a): ms per draw (spreads over `reps`), and steps/s drawn back to back."""
    with DrawPage() as page:
        page.load("step", gradient_like(STEP))
        page.load("wide", gradient_like(WIDE))
        names = [f"s{i}" for i in range(SCRUB_STEPS)]
        for i, name in enumerate(names):
            page.load(name, gradient_like(STEP, seed=i + 1))
        sides = {
            label: lambda a=array, w=what, s=samples: page.draw(a, w, s)
            for label, (array, what, samples) in DRAWS.items()
        }
        sides[BACK_TO_BACK] = lambda: Seconds(
            sum(page.draw(n, "both", "one") for n in names)
        )
        raw = interleave(sides, reps, warmup=2)
    draw_ms = {label: spread(raw[label]["wall"], 1e3) for label in DRAWS}
    speeds = [SCRUB_STEPS / s for s in raw[BACK_TO_BACK]["wall"]]
    return draw_ms, {"steps": SCRUB_STEPS, "steps_per_second": spread(speeds)}


def scrub(browser, reps: int) -> dict:
    """(b): steps per second scrubbing 50 cached steps in the plugin, per mode."""
    from tb_rnngrad import summary
    from testkit.tensorboard_server import start_tensorboard

    with tempfile.TemporaryDirectory(prefix="bench_scrub_") as logdir:
        write_run(
            Path(logdir) / "run",
            (
                (step, summary.gradients_pb("grads", gradient_like(STEP, seed=step)))
                for step in range(SCRUB_STEPS)
            ),
        )
        server = start_tensorboard(
            logdir, load_fast=False, samples_per_plugin={"rnngrad": 0}, timeout=300
        )
        try:
            page = browser.new_page(viewport=VIEWPORT)
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


def check_targets(rec: Recorder) -> None:
    """Records every target of (a) and (b) with what was measured."""
    results = rec.data["results"]
    for label, limit in DRAW_TARGETS.items():
        rec.check(label, results["draw_ms"][label]["median"], "<=", limit, "ms")
    speed = results["back_to_back"]["steps_per_second"]["median"]
    rec.check(BACK_TO_BACK, speed, ">=", MIN_STEPS_PER_SECOND, "steps/s")
    for mode, v in (results.get("scrub") or {}).items():
        median = v["steps_per_second"]["median"]
        target = f"scrubbing in the plugin, {mode} sample(s)"
        rec.check(target, median, ">=", MIN_STEPS_PER_SECOND, "steps/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer reps, no (b)")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    reps = {"draw": 3, "scrub": 0} if args.quick else {"draw": 9, "scrub": 3}
    rec = Recorder("bench_browser", args.quick, {"reps": reps})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rec["draw_ms"], rec["back_to_back"] = draw_views(reps["draw"])
    status = 0
    if reps["scrub"]:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = launch(p)
            try:
                rec["scrub"] = scrub(browser, reps["scrub"])
            except Exception as error:  # reported; (a) is kept
                rec["scrub_error"] = f"{type(error).__name__}: {error}"
                status = 1
            finally:
                browser.close()
    check_targets(rec)
    rec.write(args.json)
    return status


if __name__ == "__main__":
    sys.exit(main())
