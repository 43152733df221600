"""Drawing speed of the frontend in headless Chromium.

Targets: heatmap + channel grid of a 16x200x64 step in <= 50 ms; one 512x256
heatmap in <= 16 ms; scrubbing 50 already-fetched steps at >= 30 steps/s.
`bench_page/bench.js` times the view modules' draw functions directly; the
scrubbing test drives the whole plugin in a real TensorBoard. Results are
written to `tests/artifacts/bench_*.json`.
"""

from __future__ import annotations

import functools
import http.server
import json
import pathlib
import threading

import numpy as np
import pytest
from frontend_logs import write_run

from testkit.plugin_page import SCRUB_JS, open_plugin, redraw, show_only

REPO = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def static_url():
    """Serves the repository root (frontend/ and the bench page) over HTTP."""
    handler = functools.partial(_QuietHandler, directory=str(REPO))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_draw_functions_meet_targets(browser, static_url, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{static_url}/tests/e2e/bench_page/bench.html")
    page.wait_for_function("window.benchResults", timeout=120000)
    results = page.evaluate("window.benchResults")
    page.close()
    (artifacts / "bench_draw.json").write_text(json.dumps(results, indent=2))
    assert errors == []
    assert results["all16x200x64"] <= 50, results
    assert results["one16x200x64"] <= 50, results
    assert results["heatmap512x256"] <= 16, results
    assert results["scrubStepsPerSecond"] >= 30, results


@pytest.fixture(scope="module")
def scrub_url(tmp_path_factory):
    """A TensorBoard with 50 steps of one (16, 200, 64) series."""
    from tb_rnngrad import summary
    from testkit.tensorboard_server import start_tensorboard

    logdir = tmp_path_factory.mktemp("scrub_logs")
    rng = np.random.default_rng(0)
    decay = np.exp(-np.arange(200)[::-1] / 40.0)[None, :, None]
    records = [
        (
            step,
            summary.gradients_pb(
                "grads", (rng.normal(size=(16, 200, 64)) * decay).astype(np.float32)
            ),
        )
        for step in range(50)
    ]
    write_run(logdir / "run", records)
    server = start_tensorboard(
        str(logdir), load_fast=False, samples_per_plugin={"rnngrad": 0}
    )
    try:
        yield server.url
    finally:
        server.stop()


def test_scrubbing_fetched_steps_in_the_plugin(browser, scrub_url, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    frame = open_plugin(page, scrub_url)
    show_only(frame, "run", "grads")
    results = {}
    for mode in ("one", "all"):
        if frame.locator("#rg-sample-mode").input_value() != mode:
            redraw(frame, lambda m=mode: frame.select_option("#rg-sample-mode", m))
        results[mode] = frame.evaluate(SCRUB_JS)
    page.close()
    (artifacts / "bench_scrub.json").write_text(json.dumps(results, indent=2))
    assert results["one"]["steps"] == 50
    assert results["one"]["stepsPerSecond"] >= 30, results
    assert results["all"]["stepsPerSecond"] >= 30, results
