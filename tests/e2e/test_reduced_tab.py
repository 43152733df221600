"""The tab on a series the logger's byte budget reduced: the panel's one line
says what is stored of what was captured, and hovering the heatmap gives the
original channel and timesteps with the stored value.

A PyTorch `GradientLogger` with a small `max_bytes_per_step` logs an
LSTM(160) on 900 timesteps; a real `tensorboard` serves it; headless Chromium
opens the tab. The expected values are the documented reduction
(`format.reduction.apply`) of an unreduced capture of the same model.
"""

from __future__ import annotations

import numpy as np
import pytest

from testkit.plugin_page import heatmap_readout, open_plugin, redraw, show_only
from testkit.tensorboard_server import fetch_json, start_tensorboard, wait_for_json

pytestmark = pytest.mark.browser

SAMPLES, TIMESTEPS, FEATURES, UNITS = 12, 900, 4, 160
TAG = "gradients/lstm"
NOTE = (
    "4 of 12 samples, 83 of 160 channels with the largest norm, timesteps "
    "pooled 4:1 by largest |g|, float16"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(TensorBoard URL, the unreduced capture's gradient)."""
    import torch
    from torch import nn

    from tb_rnngrad import pytorch as tp

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
            self.head = nn.Linear(UNITS, 1)

        def forward(self, inputs):
            out, _ = self.lstm(inputs)
            return self.head(out).mean(1)

    torch.manual_seed(0)
    net = Net()
    probe = (torch.randn(SAMPLES, TIMESTEPS, FEATURES), torch.randn(SAMPLES, 1))
    logdir = str(tmp_path_factory.mktemp("reduced"))
    logger = tp.GradientLogger(
        logdir, net, nn.MSELoss(), probe, kinds=("gradients",),
        max_bytes_per_step=160 * 1024,
    )  # fmt: skip
    logger.step(0)
    logger.close()
    captured = tp.capture(net, nn.MSELoss(), *probe, kinds=("gradients",))
    server = start_tensorboard(logdir, load_fast=False)
    try:
        yield server.url, captured.gradients["lstm"]
    finally:
        server.stop()


def test_the_panel_says_what_is_stored_and_hover_gives_original_indices(page, served):
    from tb_rnngrad.format import reduction

    url, gradient = served
    tags = wait_for_json(url + "/data/plugin/rnngrad/tags", lambda f: "rnngrad" in f)
    entry = tags["rnngrad"][TAG]
    assert entry["reduction"]["note"] == NOTE
    assert entry["reduction"]["captured_shape"] == [SAMPLES, TIMESTEPS, UNITS]
    kept = fetch_json(url + f"/data/plugin/rnngrad/kept?run=rnngrad&tag={TAG}&step=0")
    chosen = reduction.Reduction(samples=4, pool=4, channels=83, float16=True)
    expected = reduction.apply(gradient, None, chosen)
    assert kept["channels"] == expected.index[1:].tolist()
    stored = reduction.restore(expected.data, int(expected.index[0]))

    frame = open_plugin(page, url)
    show_only(frame, "rnngrad", TAG)
    if frame.locator("#rg-tag").input_value() != TAG:
        redraw(frame, lambda: frame.select_option("#rg-tag", TAG))
    panel = frame.locator("section.rg-panel").first
    assert panel.locator(".rg-stored").inner_text() == f"Stored: {NOTE}"
    canvas = panel.locator("canvas.rg-heatmap").element_handle()
    for t, c in ((0, 0), (224, 82), (100, 40)):
        shown = heatmap_readout(frame, canvas, t, c)
        assert {shown["cols"], shown["rows"]} == {225, 83}
        last = min(4 * t + 3, TIMESTEPS - 1)
        assert shown["lines"][:3] == [
            "sample 0",
            f"ch {kept['channels'][c]}",
            f"timesteps {4 * t}–{last} (pooled 4:1, largest |g|)",
        ]
        value = float(shown["lines"][3].removeprefix("value "))
        assert value == pytest.approx(float(stored[0, t, c]), rel=1e-3)
        group = gradient[0, 4 * t : last + 1, kept["channels"][c]]
        assert np.abs(group).max() == pytest.approx(abs(value), rel=1e-3)
    assert page.dialogs == [] and page.errors == []
