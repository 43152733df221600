"""The step slider through every logged step of a 16x200x64 series, in a real
TensorBoard. (How fast: `bench/bench_browser.py`.)"""

from __future__ import annotations

import pytest

from tb_rnngrad import summary
from testkit.data import gradient_like, write_run
from testkit.plugin_page import SCRUB_JS, open_plugin, redraw, show_only

pytestmark = pytest.mark.browser

STEPS = 12
LABEL = "document.getElementById('rg-step-label').textContent"
RENDER_ERROR = "document.getElementById('rg-app').dataset.renderError"


@pytest.fixture(scope="module")
def tb_url(tmp_path_factory):
    """A TensorBoard with STEPS steps of one (16, 200, 64) series "grads"."""
    from testkit.tensorboard_server import start_tensorboard

    logdir = tmp_path_factory.mktemp("scrub_logs")
    write_run(
        logdir / "run",
        [
            (step, summary.gradients_pb("grads", gradient_like((16, 200, 64), step)))
            for step in range(STEPS)
        ],
    )
    server = start_tensorboard(str(logdir), load_fast=False)
    try:
        yield server.url
    finally:
        server.stop()


def test_the_slider_draws_every_step_in_both_sample_modes(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "run", "grads")
    for mode in ("one", "all"):
        if frame.locator("#rg-sample-mode").input_value() != mode:
            redraw(frame, lambda m=mode: frame.select_option("#rg-sample-mode", m))
        scrubbed = frame.evaluate(SCRUB_JS)
        assert scrubbed["steps"] == STEPS, mode
        assert frame.evaluate(LABEL) == f"step 0 (1/{STEPS})", mode
        assert frame.evaluate(RENDER_ERROR) is None, mode
    assert page.errors == []
