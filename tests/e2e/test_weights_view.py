"""The Weights view in a real TensorBoard, on the logs of a real Keras model.

A model with an LSTM, a Bidirectional GRU (reset_after=True) and a dense head
trains a few steps with `GradientLogger(kinds=("weights", "weight_gradients"))`;
a second run holds one LSTM kernel with NaN, +Inf and -Inf written by
`summary.weights_pb`. A real `tensorboard` process serves both; headless
Chromium opens the tab. What a hovered cell reads is checked against the
matrix read straight from the event file (not through the plugin).
"""

from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_file_loader

from testkit.data import write_run
from testkit.plugin_page import open_plugin, redraw, show_only
from testkit.tensorboard_server import start_tensorboard, wait_for_json

pytestmark = pytest.mark.browser

TIMESTEPS, FEATURES, SAMPLES = 6, 3, 8
STEPS, EVERY = 5, 2  # logged at steps 0, 2, 4
RUN, BAD_RUN = "keras", "nonfinite"
#: (row, column) of the non-finite values in the BAD_RUN kernel (gates of 4 units).
NAN_AT, POS_INF_AT, NEG_INF_AT = (1, 5), (2, 9), (0, 14)
GATES_JS = "c => window.rnngrad.drawn(c).geom.titles.map(t => t.join(' | '))"
CELL_JS = """
([c, tile, row, col]) => {
  const geom = window.rnngrad.drawn(c).geom, g = geom.g, [ox, oy] = geom.origins[tile];
  return [ox + g.x + (col + 0.5) * g.cellW, oy + g.y + (row + 0.5) * g.cellH];
}
"""
PIXEL_JS = """
([c, x, y]) => {
  const k = c.width / parseFloat(c.style.width), ctx = c.getContext("2d");
  const d = ctx.getImageData(Math.floor(x * k), Math.floor(y * k), 1, 1).data;
  return [d[0], d[1], d[2]];
}
"""


def _train(logdir: pathlib.Path) -> None:
    import keras

    from tb_rnngrad.callback import GradientLogger

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, TIMESTEPS, FEATURES)).astype("float32")
    y = x[:, :3, :1].sum(1)
    inputs = keras.Input((TIMESTEPS, FEATURES))
    h = keras.layers.LSTM(4, return_sequences=True, name="lstm")(inputs)
    h = keras.layers.Bidirectional(keras.layers.GRU(3), name="bi")(h)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(h))
    model.compile(optimizer="adam", loss="mse")
    logger = GradientLogger(
        str(logdir),
        data=(x, y),
        every_n_steps=EVERY,
        kinds=("weights", "weight_gradients"),
        subdir=RUN,
    )
    model.fit(x, y, batch_size=SAMPLES, epochs=STEPS, verbose=0, callbacks=[logger])


def _nonfinite_kernel() -> np.ndarray:
    kernel = np.linspace(-1, 1, FEATURES * 16, dtype=np.float32).reshape(FEATURES, 16)
    kernel[NAN_AT] = np.nan
    kernel[POS_INF_AT] = np.inf
    kernel[NEG_INF_AT] = -np.inf
    return kernel


def logged_matrix(logdir: pathlib.Path, run: str, tag: str, step: int) -> np.ndarray:
    """The matrix of `tag` at `step`, read from the run's event files directly."""
    for path in sorted((logdir / run).rglob("events.out.tfevents.*")):
        for event in event_file_loader.EventFileLoader(str(path)).Load():
            if event.step != step:
                continue
            for value in event.summary.value:
                if value.tag == tag:
                    return np.load(io.BytesIO(value.tensor.string_val[0]))
    raise AssertionError(f"no {tag!r} at step {step} in run {run!r}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(TensorBoard URL, log directory)."""
    from tb_rnngrad import summary

    logdir = tmp_path_factory.mktemp("weights_view")
    _train(logdir)
    layer = {"name": "lstm", "layer_class": "LSTM", "units": 4}
    write_run(
        logdir / BAD_RUN,
        [
            (
                0,
                summary.weights_pb(
                    "weights/lstm/kernel",
                    _nonfinite_kernel(),
                    weight="kernel",
                    gates=("i", "f", "c", "o"),
                    layer=layer,
                ),
            )
        ],
    )
    server = start_tensorboard(str(logdir), load_fast=False)
    try:
        wait_for_json(
            server.url + "/data/plugin/rnngrad/tags",
            lambda found: (
                {RUN, BAD_RUN} <= set(found)
                and found[RUN].get("weights/lstm/kernel", {}).get("max_step") == 4
            ),
        )
        yield server.url, logdir
    finally:
        server.stop()


def _show(page, url, run, tag):
    frame = open_plugin(page, url)
    show_only(frame, run, frame.locator("#rg-tag").input_value())
    if frame.locator("#rg-tag").input_value() != tag:
        kind = tag.split("/")[0]
        if frame.locator("#rg-quantity").input_value() != kind:
            redraw(frame, lambda: frame.select_option("#rg-quantity", kind))
        if frame.locator("#rg-tag").input_value() != tag:
            redraw(frame, lambda: frame.select_option("#rg-tag", tag))
    assert frame.locator("#rg-tag").input_value() == tag
    return frame


def _hover(frame, canvas, x, y) -> list[str]:
    canvas.hover(position={"x": x, "y": y})
    tip = frame.locator(".rg-tooltip")
    tip.wait_for(state="visible", timeout=5000)
    return tip.inner_text().splitlines()


@pytest.mark.parametrize(
    "tag, titles",
    [
        (
            "weights/lstm/kernel",
            [f"weights | gate {g}" for g in "ifco"]
            + [f"d loss / d weight | gate {g}" for g in "ifco"],
        ),
        (
            "weights/bi/backward/recurrent_kernel",
            [f"weights | gate {g} (bwd)" for g in "zrh"]
            + [f"d loss / d weight | gate {g} (bwd)" for g in "zrh"],
        ),
        (
            "weight_gradients/bi/forward/recurrent_bias",
            [f"d loss / d weight | gate {g} (fwd)" for g in "zrh"]
            + [f"weights | gate {g} (fwd)" for g in "zrh"],
        ),
    ],
)
def test_gates_are_labelled_in_keras_order(page, served, artifacts, tag, titles):
    url, _ = served
    frame = _show(page, url, RUN, tag)
    canvas = frame.locator("canvas.rg-gates")
    shown = frame.evaluate(GATES_JS, canvas.element_handle())
    assert [t.split(" ±")[0] for t in shown] == titles
    assert "step 4" in frame.locator(".rg-section-weights h3").first.inner_text()
    # No samples, colour scale, layout or views for a matrix: only the step applies.
    for control in ("#rg-sample-mode", "#rg-scale", "#rg-reflect", "#rg-view-heatmap"):
        assert frame.locator(control).is_hidden(), control
    assert frame.locator("#rg-step").is_visible()
    page.screenshot(
        path=str(artifacts / f"weights_{tag.replace('/', '_')}.png"), full_page=True
    )
    stacks = frame.evaluate(
        "c => window.rnngrad.drawn(c).geom.charts.map(x => x.gate)",
        frame.locator("canvas.rg-gate-histograms").element_handle(),
    )
    assert stacks == [t.split("gate ")[1][0] for t in titles[: len(stacks)]]
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize(
    "tag, cells",
    [
        ("weights/lstm/kernel", [(0, 0, 0), (1, 2, 3), (3, 1, 2)]),
        ("weights/bi/backward/recurrent_kernel", [(0, 2, 1), (2, 1, 2)]),
        ("weight_gradients/lstm/recurrent_kernel", [(1, 3, 0), (3, 0, 3)]),
    ],
)
def test_hovered_cell_reads_the_logged_value(page, served, tag, cells):
    url, logdir = served
    frame = _show(page, url, RUN, tag)
    canvas = frame.locator("canvas.rg-gates")
    logged = logged_matrix(logdir, RUN, tag, 4)
    width = logged.shape[1] // (4 if "lstm" in tag else 3)
    direction = "backward" if "backward" in tag else ""
    for gate, row, unit in cells:
        x, y = frame.evaluate(CELL_JS, [canvas.element_handle(), gate, row, unit])
        lines = _hover(frame, canvas, x, y)
        column = gate * width + unit
        assert lines[1].startswith(f"gate {('ifco' if 'lstm' in tag else 'zrh')[gate]}")
        assert (direction in lines[1]) and lines[2].startswith(f"row {row} ")
        assert lines[3].endswith(f"(matrix column {column})")
        value = float(lines[4].removeprefix("value "))
        assert value == pytest.approx(float(logged[row, column]), rel=1e-4, abs=1e-12)


def test_nonfinite_cells_take_the_palette_colours(page, served):
    from tb_rnngrad.viz import colors

    url, _ = served
    frame = _show(page, url, BAD_RUN, "weights/lstm/kernel")
    canvas = frame.locator("canvas.rg-gates").element_handle()
    specials = {
        NAN_AT: colors.NAN_COLOR,
        POS_INF_AT: colors.POSINF_COLOR,
        NEG_INF_AT: colors.NEGINF_COLOR,
    }
    for (row, column), rgba in specials.items():
        x, y = frame.evaluate(CELL_JS, [canvas, column // 4, row, column % 4])
        rgb = [round(255 * c) for c in rgba[:3]]
        assert frame.evaluate(PIXEL_JS, [canvas, x, y]) == rgb
    titles = frame.evaluate(GATES_JS, canvas)
    assert "NaN 1" in titles[1] and "+Inf 1" in titles[2] and "−Inf 1" in titles[3]


def test_scale_toggle_changes_the_picture(page, served):
    url, _ = served
    frame = _show(page, url, RUN, "weights/lstm/kernel")
    canvas = frame.locator("canvas.rg-gates")
    snap = "c => c.toDataURL()"
    shared = canvas.evaluate(snap)
    frame.select_option("select.rg-gate-scale", "gate")
    frame.wait_for_function(
        "() => document.querySelector('canvas.rg-gates').dataset.scale === 'gate'"
    )
    per_gate = canvas.evaluate(snap)
    assert per_gate != shared
    titles = frame.evaluate(GATES_JS, canvas.element_handle())
    ranges = {t.split(" ±")[1].split(" ")[0] for t in titles[:4]}
    assert len(ranges) > 1, "each gate has its own range"
    frame.select_option("select.rg-gate-scale", "shared")
    frame.wait_for_function(
        "() => document.querySelector('canvas.rg-gates').dataset.scale === 'shared'"
    )
    assert canvas.evaluate(snap) == shared
