"""Benchmark: a sweep of 200 runs x 3 tags x 100 logged steps in a real `tensorboard`.

    python -m bench.bench_sweep [--quick] [--reps N] [--json OUT]

The log directory is written by `testkit.sweep` (NumPy twins, 2x40x4 float32
state gradients, output gradients and input gradients per step). With
`--load_fast=true` and `--load_fast=false`, side by side in one run:

(a) `tags` (target <= 300 ms warm) and `compare?tag=state/rnn` over HTTP, warm:
    the median of `--reps` requests after one warm-up; the first `compare` (cold:
    it reads each run's latest full tensor) is reported on its own.
(b) the compare view in headless Chromium: TensorBoard opened at the tab (a page
    without runs in its address opens the compare view of every run), timed in
    the plugin's iframe from its `load` event to the first `rnngrad:drawn` mark
    (the compare table and chart filled; target <= 1.0 s); also the iframe's
    `load` after the top page's start. One fresh page per rep, after a warm-up
    page. load_fast=true only (TensorBoard's default).
(c) resident memory of the `tensorboard` process (and its data server child for
    load_fast=true) holding the sweep, after (a) and (b).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from bench.bench_routes import descendants, rss_kib
from bench.timing import Recorder, spread
from testkit.chromium import VIEWPORT, launch
from testkit.plugin_page import plugin_frame
from testkit.sweep import TAGS, write_sweep
from testkit.tensorboard_server import start_tensorboard

TAG = "state/rnn"
TAGS_MS = 300.0
PAINT_MS = 1000.0
#: Times the compare view in the plugin's iframe, ms after its `load` event.
PAINT_JS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const drawn = performance.getEntriesByName("rnngrad:drawn")[0];
  return {load: nav.loadEventEnd, drawn: drawn ? drawn.startTime : null,
          rows: document.querySelectorAll("#rg-compare-table tbody tr").length};
}
"""
#: The top page: when the plugin's iframe finished loading, ms after its start.
FRAME_LOAD_JS = """
() => {
  const frame = [...document.querySelectorAll("iframe")]
    .find(f => f.src.includes("plugin_entry.html?name=rnngrad"));
  const nav = frame.contentWindow.performance;
  return nav.timeOrigin + nav.getEntriesByType("navigation")[0].loadEventEnd
    - performance.timeOrigin;
}
"""


def get_ms(url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
    return (time.perf_counter() - start) * 1e3, body


def wait_loaded(url: str, runs: int, last_step: int, timeout: float = 600) -> float:
    """Seconds until `tags` lists every run's every tag at `last_step`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            _, body = get_ms(f"{url}/data/plugin/rnngrad/tags")
            tags = json.loads(body)
            done = sum(
                1
                for by_tag in tags.values()
                for entry in by_tag.values()
                if entry.get("max_step") == last_step
            )
            if done == runs * len(TAGS):
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the sweep was not loaded in {timeout:.0f} s")


def routes(url: str, reps: int) -> dict:
    """(a): ms of `tags` and `compare`, cold first then warm."""
    base = f"{url}/data/plugin/rnngrad"
    compare = f"{base}/compare?tag={urllib.parse.quote(TAG, safe='')}"
    cold, body = get_ms(compare)
    answer = json.loads(body)
    get_ms(f"{base}/tags")
    tags, compares = [], []
    for _ in range(reps):  # alternate, so both see the same load
        tags.append(get_ms(f"{base}/tags")[0])
        compares.append(get_ms(compare)[0])
    return {
        "tags_ms": spread(tags),
        "compare_ms": spread(compares),
        "compare_cold_ms": cold,
        "compare_bytes": len(body),
        "compare_runs": len(answer["runs"]),
    }


def paint(browser, url: str, reps: int) -> dict:
    """(b): ms from the plugin iframe's load to the compare view drawn."""
    samples = []
    for rep in range(reps + 1):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"{url}/#rnngrad")
        frame = plugin_frame(page)
        timing = frame.evaluate(PAINT_JS)
        timing["frame_load"] = page.evaluate(FRAME_LOAD_JS)
        context.close()
        if timing["drawn"] is None or timing["rows"] == 0:
            raise RuntimeError(f"the compare view was not drawn: {timing}")
        if rep > 0:  # the first page is a warm-up
            samples.append(timing)
    return {
        "after_iframe_load_ms": spread([t["drawn"] - t["load"] for t in samples]),
        "iframe_load_after_start_ms": spread([t["frame_load"] for t in samples]),
        "rows": samples[0]["rows"],
    }


def memory(server) -> dict:
    main, peak = rss_kib(server.pid)
    children = sum(rss_kib(pid)[0] for pid in descendants(server.pid))
    return {
        "tensorboard_mib": main / 1024,
        "tensorboard_peak_mib": peak / 1024,
        "data_server_mib": children / 1024,
        "total_mib": (main + children) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 runs x 10 steps")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    runs, steps = (20, 10) if args.quick else (200, 100)
    reps = 3 if args.quick else args.reps
    rec = Recorder(
        "bench_sweep",
        args.quick,
        {"runs": runs, "tags": len(TAGS), "steps": steps, "shape": [2, 40, 4]},
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as logdir:
        start = time.monotonic()
        write_sweep(logdir, runs=runs, steps=steps)
        rec["write_seconds"] = round(time.monotonic() - start, 1)
        rec["logdir_mib"] = (
            sum(
                os.path.getsize(os.path.join(d, f))
                for d, _, files in os.walk(logdir)
                for f in files
            )
            / 2**20
        )
        results = {}
        for load_fast, mode in ((True, "load_fast=true"), (False, "load_fast=false")):
            server = start_tensorboard(logdir, load_fast=load_fast, timeout=600)
            try:
                out = {"load_seconds": wait_loaded(server.url, runs, (steps - 1) * 10)}
                out.update(routes(server.url, reps))
                if load_fast:
                    with sync_playwright() as p:
                        browser = launch(p)
                        try:
                            out["paint"] = paint(browser, server.url, reps)
                        finally:
                            browser.close()
                out["memory"] = memory(server)
                results[mode] = out
            finally:
                server.stop()
            print(mode, json.dumps(out, default=float), flush=True)
    rec["modes"] = results
    for mode, out in results.items():
        rec.check(
            f"`tags`, {mode}, warm", out["tags_ms"]["median"], "<=", TAGS_MS, "ms"
        )
    painted = results["load_fast=true"]["paint"]["after_iframe_load_ms"]["median"]
    rec.check(
        "compare view painted after the iframe's load", painted, "<=", PAINT_MS, "ms"
    )
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
