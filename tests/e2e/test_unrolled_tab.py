"""The tab shows a recurrence unrolled by hand: the seq2seq tutorial's
attention decoder, whose nn.GRU is called once per target step.

`tb_rnngrad.pytorch.GradientLogger` logs the encoder and the decoder while the
model trains a few steps; a real `tensorboard` process serves the run and
headless Chromium opens the decoder's state gradients: the panel says how the
calls were stacked, the time axis is the steps of the loop, and the hover
read-out gives the logged value at each loop step.
"""

from __future__ import annotations

import pytest

from testkit.plugin_page import heatmap_readout, open_plugin, redraw, show_only
from testkit.tensorboard_server import start_tensorboard, wait_for_json
from testkit.unrolled_models import Seq2Seq, seq2seq_loss

pytestmark = pytest.mark.browser

VOCAB, HIDDEN, LENGTH, BATCH = 12, 8, 6, 4
STEPS = 3
TAG = "state_gradients/decoder.gru"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(TensorBoard URL, the decoder's state gradient at the last logged step)."""
    import torch

    from tb_rnngrad import pytorch as tp

    logdir = str(tmp_path_factory.mktemp("unrolled"))
    torch.manual_seed(0)
    model = Seq2Seq(VOCAB, HIDDEN, LENGTH)
    source = torch.randint(1, VOCAB, (BATCH, LENGTH))
    target = source.flip(1)
    probe = ((source, target), target)
    kinds = ("gradients", "state_gradients")
    logger = tp.GradientLogger(logdir, model, seq2seq_loss, probe, 1, kinds=kinds)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    expected = None
    for step in range(STEPS):
        logger.step(step)
        if step == STEPS - 1:
            found = tp.capture(model, seq2seq_loss, *probe, kinds=kinds)
            expected = found.state_gradients["decoder.gru"]
        optimizer.zero_grad()
        seq2seq_loss(model(source, target), target).backward()
        optimizer.step()
    logger.close()
    server = start_tensorboard(logdir, load_fast=False)
    try:
        yield server.url, expected
    finally:
        server.stop()


def test_the_decoder_reads_as_a_loop_of_steps(page, served):
    url, expected = served
    tags = wait_for_json(
        url + "/data/plugin/rnngrad/tags",
        lambda found: found.get("rnngrad", {}).get(TAG, {}).get("max_step") == 2,
    )
    assert tags["rnngrad"][TAG]["call_timesteps"] == [1] * LENGTH
    assert tags["rnngrad"]["state_gradients/encoder.gru"]["call_timesteps"] == []
    frame = open_plugin(page, url)
    if frame.locator("#rg-quantity").input_value() != "state_gradients":
        redraw(frame, lambda: frame.select_option("#rg-quantity", "state_gradients"))
    options = frame.locator("#rg-tag option").evaluate_all("xs => xs.map(x => x.value)")
    assert TAG in options, options
    show_only(frame, "rnngrad", TAG)
    panel = frame.locator("section.rg-panel").first
    assert (
        panel.locator(".rg-layer")
        .inner_text()
        .endswith(f"unrolled by hand: {LENGTH} calls of 1 timestep, stacked along time")
    )
    captions = panel.locator(".rg-caption").all_inner_texts()
    assert any("x: loop step, y: channel" in c for c in captions), captions
    canvas = panel.locator("canvas.rg-heatmap").element_handle()
    for t, c in ((0, 0), (LENGTH - 1, HIDDEN - 1), (2, 3)):
        shown = heatmap_readout(frame, canvas, t, c)
        assert shown["cols"] == LENGTH
        assert shown["lines"][:3] == ["sample 0", f"ch {c}", f"loop step {t}"]
        value = float(shown["lines"][3].removeprefix("value "))
        assert value == pytest.approx(float(expected[0, t, c]), rel=1e-4, abs=1e-9)
    assert page.dialogs == [] and page.errors == []
