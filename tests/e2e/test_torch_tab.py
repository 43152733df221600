"""The tab shows a PyTorch run beside a Keras run of the same task.

Both frameworks train the same small model (LSTM(8) on 20 timesteps of 3
features, a linear head on the last step, mse) with their own `GradientLogger`
into one log directory: `keras/` through the Keras callback (TensorFlow's
writer), `torch/` through `tb_rnngrad.pytorch.GradientLogger` (its own event
writer). A real `tensorboard` process serves both; headless Chromium opens the
tab, shows the two runs side by side and reads back what the torch run's
state-gradient heatmap draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from testkit.plugin_page import (
    heatmap_readout,
    open_plugin,
    redraw,
    run_box,
    show_only,
)
from testkit.tensorboard_server import fetch_json, start_tensorboard, wait_for_json

pytestmark = pytest.mark.browser

SAMPLES, TIMESTEPS, FEATURES, UNITS = 8, 20, 3, 8
STEPS, EVERY = 5, 2  # logged at steps 0, 2, 4
KINDS = ("gradients", "state_gradients")
TAG = "state_gradients/lstm"


def _task() -> tuple[np.ndarray, np.ndarray]:
    """Sequences whose target is the sum of the first 5 steps of feature 0."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, TIMESTEPS, FEATURES)).astype("float32")
    return x, x[:, :5, :1].sum(1)


def _keras_run(logdir: str, x: np.ndarray, y: np.ndarray) -> None:
    import keras

    from tb_rnngrad.callback import GradientLogger

    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, FEATURES))
    hidden = keras.layers.LSTM(UNITS, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="adam", loss="mse")
    logger = GradientLogger(
        logdir, data=(x, y), every_n_steps=EVERY, kinds=KINDS, subdir="keras"
    )
    model.fit(x, y, batch_size=SAMPLES, epochs=STEPS, verbose=0, callbacks=[logger])


def _torch_run(logdir: str, x: np.ndarray, y: np.ndarray) -> dict[int, np.ndarray]:
    """Trains and logs; returns the state gradient captured at each logged step."""
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
            return self.head(out[:, -1])

    torch.manual_seed(0)
    net = Net()
    loss_fn = nn.MSELoss()
    probe = (torch.from_numpy(x), torch.from_numpy(y))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    logger = tp.GradientLogger(
        logdir, net, loss_fn, probe, every_n_steps=EVERY, kinds=KINDS, subdir="torch"
    )
    expected = {}
    for step in range(STEPS):
        if logger.step(step):
            found = tp.capture(net, loss_fn, *probe, kinds=KINDS)
            expected[step] = found.state_gradients["lstm"]
        optimizer.zero_grad()
        loss_fn(net(probe[0]), probe[1]).backward()
        optimizer.step()
    logger.close()
    return expected


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(TensorBoard URL, the torch run's state gradients by step)."""
    logdir = str(tmp_path_factory.mktemp("torch_and_keras"))
    x, y = _task()
    _keras_run(logdir, x, y)
    expected = _torch_run(logdir, x, y)
    server = start_tensorboard(logdir, load_fast=False)
    try:
        yield server.url, expected
    finally:
        server.stop()


def test_both_runs_list_the_same_tags(served):
    url, expected = served
    assert sorted(expected) == [0, 2, 4]
    tags = wait_for_json(
        url + "/data/plugin/rnngrad/tags",
        lambda found: (
            {"keras", "torch"} <= set(found)
            and all(info["max_step"] == 4 for info in found["torch"].values())
        ),
    )
    want = {"gradients/lstm", TAG, TAG + "/cell"}
    assert want <= set(tags["torch"]) and want <= set(tags["keras"])
    torch_state = tags["torch"][TAG]
    assert torch_state["kind"] == "state_gradients"
    assert torch_state["layer_class"] == "LSTM"
    assert torch_state["shape"] == [SAMPLES, TIMESTEPS, UNITS]
    steps = fetch_json(url + f"/data/plugin/rnngrad/steps?run=torch&tag={TAG}")
    assert [s["step"] for s in steps] == [0, 2, 4]


HEATMAP = "canvas.rg-heatmap"


def test_torch_state_gradient_heatmap_draws_beside_the_keras_run(page, served):
    url, expected = served
    wait_for_json(
        url + "/data/plugin/rnngrad/tags",
        lambda found: {"keras", "torch"} <= set(found),
    )
    frame = open_plugin(page, url)
    show_only(frame, "torch", frame.locator("#rg-tag").input_value())
    if frame.locator("#rg-quantity").input_value() != "state_gradients":
        redraw(frame, lambda: frame.select_option("#rg-quantity", "state_gradients"))
    assert frame.locator("#rg-tag").input_value() == TAG
    redraw(frame, lambda: run_box(frame, "keras").check())
    names = frame.locator(".rg-run-name").all_inner_texts()
    assert sorted(names) == ["keras", "torch"]
    panels = frame.locator("section.rg-panel")
    boxes = [panels.nth(i).bounding_box() for i in range(2)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1, "side by side"
    torch_panel = panels.nth(names.index("torch"))
    assert "step 4" in torch_panel.locator(".rg-step-info").inner_text()
    canvas = torch_panel.locator(HEATMAP).element_handle()
    logged = expected[4][0]  # sample 0 of the last logged step
    for t, c in ((TIMESTEPS - 1, 0), (0, UNITS - 1), (TIMESTEPS // 2, 3)):
        shown = heatmap_readout(frame, canvas, t, c)
        assert {shown["cols"], shown["rows"]} == {TIMESTEPS, UNITS}
        assert shown["lines"][:3] == ["sample 0", f"ch {c}", f"timestep {t}"]
        value = float(shown["lines"][3].removeprefix("value "))
        assert value == pytest.approx(float(logged[t, c]), rel=1e-4)
    keras_panel = panels.nth(names.index("keras"))
    assert keras_panel.locator(HEATMAP).count() == 1
    assert page.dialogs == [] and page.errors == []
