"""A quantity one run has and another cannot have, side by side in Chromium: the
run without it shows a neutral note saying why, not an error."""

from __future__ import annotations

import numpy as np
import pytest

from tb_rnngrad.summary import pb as summary_pb
from testkit.data import gradient_like, write_run
from testkit.plugin_page import open_plugin, redraw
from testkit.tensorboard_server import start_tensorboard, wait_for_json

pytestmark = pytest.mark.browser

SHAPE = (2, 6, 3)
STATE = "state_gradients/rnn"
CELL = f"{STATE}/cell"


def _layer(cls: str) -> dict:
    return {"name": "rnn", "layer_class": cls, "units": SHAPE[2]}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("absent")
    data = gradient_like(SHAPE)
    lstm = [
        summary_pb.state_gradients_pb(
            "state_gradients/rnn", data, layer=_layer("LSTM")
        ),
        summary_pb.cell_state_gradients_pb(CELL, data, layer=_layer("LSTM")),
    ]
    simple = summary_pb.state_gradients_pb(
        STATE, np.flip(data, 1).copy(), layer=_layer("SimpleRNN")
    )
    write_run(logdir / "lstm", [(0, s) for s in lstm])
    write_run(logdir / "simple", [(0, simple)])
    server = start_tensorboard(str(logdir), load_fast=False)
    try:
        wait_for_json(
            server.url + "/data/plugin/rnngrad/tags",
            lambda tags: CELL in tags.get("lstm", {}) and "simple" in tags,
        )
        yield server.url
    finally:
        server.stop()


def test_a_simplernn_beside_an_lstm_says_it_has_no_cell_state(page, served):
    frame = open_plugin(page, served)
    redraw(
        frame,
        lambda: frame.evaluate(
            f"window.rnngrad.set({{runs: ['lstm', 'simple'], tag: '{CELL}'}})"
        ),
    )
    note = frame.locator(".rg-panel[data-run='simple'] .rg-message")
    assert note.inner_text() == (
        'SimpleRNN has no cell state: run "simple" logs no "d loss / d cell state".'
    )
    assert note.get_attribute("class").split() == ["rg-message", "rg-neutral"]
    assert note.get_attribute("role") is None, "a note, not an alert"
    assert frame.locator(".rg-panel[data-run='lstm'] .rg-message").is_hidden()
    assert frame.locator(".rg-panel[data-run='lstm'] canvas.rg-heatmap").is_visible()
    assert page.errors == []
