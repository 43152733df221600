"""End-to-end tests of the frontend in a real TensorBoard, driven by Chromium.

A real `tensorboard --load_fast=false` process serves event files with known
values (`frontend_logs.py`); the tests open `/#rnngrad`, reach the plugin's
iframe and read back the colours of canvas cells whose values they logged.
Screenshots of each view go to `tests/artifacts/`.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from frontend_logs import (
    FUTURE_RUN,
    LONG_RUN,
    LONG_TAG,
    SMALL_RUN,
    XSS_RUN,
    write_logs,
)

from testkit.plugin_page import (
    open_plugin,
    redraw,
    run_box,
    show_only,
)

pytestmark = pytest.mark.browser

# The palette the tab draws with.
PALETTE = json.loads(
    (Path(__file__).resolve().parents[2] / "frontend" / "palette.json").read_text()
)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


DIVERGING = [rgb(c) for c in PALETTE["diverging"]]
NAN = rgb(PALETTE["special"]["nan"])
POS_INF = rgb(PALETTE["special"]["pos_inf"])
NEG_INF = rgb(PALETTE["special"]["neg_inf"])
MASKED = rgb(PALETTE["special"]["masked"])
WHITE = DIVERGING[len(DIVERGING) // 2]
DARK_RED = DIVERGING[-1]
DARK_BLUE = DIVERGING[0]
LOG_DECADES = PALETTE["log_decades"]["signed"]


def diverging(u: float) -> tuple[int, int, int]:
    """The colour the heatmap gives a signed unit u in [-1, 1] (LUT of 256).

    The LUT holds the palette's stops, spread evenly over [-1, 1] and linearly
    interpolated, at 255 levels; u goes to the nearest level.
    """
    index = 128 + int(math.copysign(math.floor(abs(u) * 127 + 0.5), u))
    x = max(-1.0, (index - 128) / 127)
    positions = np.linspace(-1.0, 1.0, len(DIVERGING))
    channels = zip(*DIVERGING, strict=True)
    return tuple(math.floor(np.interp(x, positions, c) + 0.5) for c in channels)


def assert_colour(actual, expected, what: str, tolerance: int = 2) -> None:
    close = all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
    assert close, f"{what}: got rgb{tuple(actual)}, expected rgb{tuple(expected)}"


# Fixtures.


@pytest.fixture(scope="module")
def tb_url(serve_logs):
    return serve_logs(write_logs)


def panel(frame, index: int = 0):
    return frame.locator("section.rg-panel").nth(index)


PIXEL_JS = """
([canvas, tile, t, c]) => {
  const geom = window.rnngrad.drawn(canvas).geom;
  const g = geom.g;
  const col = geom.transpose ? c : t;
  const row = geom.transpose ? t : c;
  const [ox, oy] = geom.origins[tile];
  const x = ox + g.x + (col + 0.5) * g.cellW;
  const y = oy + g.y + (row + 0.5) * g.cellH;
  const k = canvas.width / parseFloat(canvas.style.width);
  const ctx = canvas.getContext("2d");
  const d = ctx.getImageData(Math.floor(x * k), Math.floor(y * k), 1, 1).data;
  return [d[0], d[1], d[2]];
}
"""


def cell(frame, t: int, c: int, tile: int = 0, index: int = 0):
    """RGB of heatmap cell (timestep t, channel c) in tile `tile` of panel `index`."""
    canvas = panel(frame, index).locator("canvas.rg-heatmap")
    handle = canvas.element_handle()
    return frame.evaluate(PIXEL_JS, [handle, tile, t, c])


def hover_text(frame, page, canvas_locator, x: float, y: float) -> str:
    """Moves the pointer to (x, y) in the canvas and returns the read-out."""
    box = canvas_locator.bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tip = frame.locator(".rg-tooltip")
    tip.wait_for(state="visible", timeout=5000)
    return tip.inner_text()


def heatmap_cell_centre(frame, t: int, c: int, tile: int = 0):
    return frame.evaluate(
        """([t, c, tile]) => {
             const geom = window.rnngrad.drawn(
               document.querySelector('canvas.rg-heatmap')).geom;
             const g = geom.g; const [ox, oy] = geom.origins[tile];
             const col = geom.transpose ? c : t, row = geom.transpose ? t : c;
             return [ox + g.x + (col + 0.5) * g.cellW,
                     oy + g.y + (row + 0.5) * g.cellH];
           }""",
        [t, c, tile],
    )


@pytest.fixture
def shot(artifacts):
    """`shot(locator, name)` saves a screenshot of `locator` as artifacts/name."""

    def save(locator, name: str) -> None:
        locator.screenshot(path=str(artifacts / name))

    return save


# Tests.


def test_tab_appears_and_heatmap_shows_logged_values(page, tb_url, shot):
    frame = open_plugin(page, tb_url)
    assert page.get_by_text("RNN Gradients", exact=False).first.is_visible()
    show_only(frame, "lstm", "grads/lstm")
    p = panel(frame)
    assert p.locator(".rg-kind").inner_text() == (
        "d loss / d layer output (paths through later layers only)"
    )
    assert "step 20" in p.locator(".rg-step-info").inner_text()
    # Step 20, sample 0, auto scale: max|g| = 1.
    assert_colour(cell(frame, 5, 0), DARK_RED, "+1 at (t5, c0)")
    assert_colour(cell(frame, 5, 1), DARK_BLUE, "-1 at (t5, c1)")
    assert_colour(cell(frame, 3, 2), diverging(0.25), "0.25 at (t3, c2)")
    assert_colour(cell(frame, 4, 0), WHITE, "0 at (t4, c0)")
    assert_colour(cell(frame, 0, 3), NAN, "NaN")
    assert_colour(cell(frame, 1, 3), POS_INF, "+Inf")
    assert_colour(cell(frame, 2, 3), NEG_INF, "-Inf")
    counts = p.locator(".rg-counts").inner_text()
    assert "NaN: 1" in counts and "+Inf: 1" in counts and "−Inf: 1" in counts
    bar = p.locator(".rg-section-heatmap canvas.rg-colorbar")
    assert float(bar.get_attribute("data-lo")) == -1.0
    assert float(bar.get_attribute("data-hi")) == 1.0
    shot(p.locator(".rg-section-heatmap"), "heatmap.png")
    shot(p.locator(".rg-section-grid"), "channel_grid.png")
    shot(p.locator(".rg-section-flow"), "flow.png")
    shot(page, "page.png")
    assert page.dialogs == [] and page.errors == []


def test_hover_reads_out_sample_channel_timestep_value(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    canvas = panel(frame).locator("canvas.rg-heatmap")
    x, y = heatmap_cell_centre(frame, 5, 1)
    text = hover_text(frame, page, canvas, x, y)
    assert text.splitlines() == ["sample 0", "ch 1", "timestep 5", "value -1"]
    grid = panel(frame).locator("canvas.rg-grid")
    ox, oy, dx = grid.evaluate(
        "c => { const g = window.rnngrad.drawn(c).geom;"
        " return [...g.origins[2], g.dx]; }"
    )  # chart of channel 2; its plot starts 2 px in, 12 px down
    text = hover_text(frame, page, grid, ox + 2 + 3 * dx, oy + 30)
    assert text.splitlines()[1:] == ["ch 2", "timestep 3", "value 0.25"]
    flow = panel(frame).locator("canvas.rg-flow")
    g = flow.evaluate("c => window.rnngrad.drawn(c).geom.g")
    text = hover_text(
        frame, page, flow, g["x"] + 5.5 * g["cellW"], g["y"] + 0.5 * g["cellH"]
    )
    assert text.splitlines()[:2] == ["step 0", "timestep 5"]
    assert text.splitlines()[2].startswith("norm 2")


def test_slider_arrow_keys_play_and_flow_click_change_the_step(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    slider = frame.locator("#rg-step")
    slider.focus()
    redraw(frame, lambda: slider.press("ArrowLeft"))
    assert frame.locator("#rg-step-label").inner_text() == "step 10 (2/3)"
    assert_colour(cell(frame, 3, 2), diverging(-0.5), "step 10: -0.5")
    redraw(frame, lambda: slider.press("ArrowLeft"))
    assert_colour(cell(frame, 3, 2), diverging(0.25), "step 0: 0.5 of max 2")
    assert_colour(cell(frame, 5, 0), DARK_RED, "step 0: the max 2")
    # Play runs to the last step and stops.
    frame.locator("#rg-play").click()
    frame.wait_for_function(
        "() => document.getElementById('rg-step-label').textContent"
        ".startsWith('step 20')"
        " && document.getElementById('rg-play').textContent === 'Play'",
        timeout=20000,
    )
    # Clicking the first row of the flow view goes back to step 0.
    flow = panel(frame).locator("canvas.rg-flow")
    g = flow.evaluate("c => window.rnngrad.drawn(c).geom.g")
    redraw(frame, lambda: flow.click(position={"x": g["x"] + 2, "y": g["y"] + 2}))
    assert frame.locator("#rg-step-label").inner_text() == "step 0 (1/3)"
    assert "step=0" in frame.url
    # Arrow keys also step when no input has the focus.
    redraw(frame, lambda: frame.locator("body").press("ArrowRight"))
    assert frame.locator("#rg-step-label").inner_text() == "step 10 (2/3)"


def test_sample_picker_one_all_and_batch_mean(page, tb_url, shot):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    sample = frame.locator("#rg-sample")
    redraw(frame, lambda: (sample.fill("1"), sample.press("Enter")))
    assert_colour(cell(frame, 4, 2), DARK_RED, "sample 1: its max 2")
    assert_colour(cell(frame, 0, 0), diverging(-0.25), "sample 1: -0.5 of 2")
    assert_colour(cell(frame, 5, 0), WHITE, "sample 1 has 0 where sample 0 has 1")
    redraw(frame, lambda: frame.select_option("#rg-sample-mode", "all"))
    caption = panel(frame).locator(".rg-caption").first.inner_text()
    assert caption.endswith("all 2 samples")
    assert_colour(cell(frame, 5, 0, tile=0), diverging(0.5), "all: sample 0, 1 of 2")
    assert_colour(cell(frame, 4, 2, tile=1), DARK_RED, "all: sample 1, 2 of 2")
    assert_colour(cell(frame, 0, 3, tile=0), NAN, "all: NaN in sample 0")
    shot(panel(frame).locator(".rg-section-heatmap"), "heatmap_all_samples.png")
    shot(panel(frame).locator(".rg-section-grid"), "channel_grid_all_samples.png")
    redraw(frame, lambda: frame.select_option("#rg-sample-mode", "mean"))
    # mean |g| over the batch: (t4, c2) = 1 is the max, (t5, c0) = 0.5.
    assert_colour(cell(frame, 4, 2), DARK_RED, "mean: max")
    assert_colour(cell(frame, 5, 0), diverging(0.5), "mean: half the max")
    assert_colour(cell(frame, 0, 3), NAN, "mean: NaN propagates")


def test_colour_scale_modes(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    bar = panel(frame).locator(".rg-section-heatmap canvas.rg-colorbar")
    redraw(frame, lambda: frame.select_option("#rg-scale", "fixed"))
    # Over all steps max|g| of sample 0 is 2 (step 0), so 1 at step 20 is half.
    assert_colour(cell(frame, 5, 0), diverging(0.5), "fixed: 1 of 2")
    assert float(bar.get_attribute("data-hi")) == 2.0
    redraw(frame, lambda: frame.select_option("#rg-scale", "manual"))
    lo, hi = frame.locator("#rg-min"), frame.locator("#rg-max")
    lo.fill("-4")
    redraw(frame, lambda: (hi.fill("4"), hi.press("Enter")))
    assert_colour(cell(frame, 5, 0), diverging(0.25), "manual [-4, 4]: 1")
    assert_colour(cell(frame, 5, 1), diverging(-0.25), "manual [-4, 4]: -1")
    assert float(bar.get_attribute("data-lo")) == -4.0
    redraw(frame, lambda: frame.select_option("#rg-scale", "log"))
    # LOG_DECADES below max|g| = 1: 0.25 sits at (log10(0.25) + d) / d.
    u = (math.log10(0.25) + LOG_DECADES) / LOG_DECADES
    assert_colour(cell(frame, 3, 2), diverging(u), "log: 0.25")
    assert_colour(cell(frame, 5, 0), DARK_RED, "log: the max")
    assert_colour(cell(frame, 5, 1), DARK_BLUE, "log: -max keeps its sign")
    assert "scale=log" in frame.url


def test_reflect_mask_and_transpose_for_bidirectional(page, tb_url, shot):
    frame = open_plugin(page, tb_url)
    show_only(frame, "bi", "grads/bi")
    p = panel(frame)
    assert "bidirectional (concat)" in p.locator(".rg-layer").inner_text()
    assert_colour(cell(frame, 0, 0), DARK_BLUE, "forward -1 at t0")
    assert_colour(cell(frame, 0, 3), DARK_RED, "backward 1 at input time t0")
    assert_colour(cell(frame, 5, 0), MASKED, "masked last timestep (forward)")
    assert_colour(cell(frame, 5, 3), MASKED, "masked last timestep (backward)")
    shot(p.locator(".rg-section-heatmap"), "heatmap_bidirectional.png")
    reflect = frame.locator("#rg-reflect")
    assert reflect.is_enabled()
    redraw(frame, reflect.check)
    assert_colour(cell(frame, 0, 0), DARK_BLUE, "forward half unchanged")
    assert_colour(cell(frame, 5, 0), MASKED, "forward mask unchanged")
    assert_colour(cell(frame, 5, 3), DARK_RED, "backward t0 -> processing order t5")
    assert_colour(cell(frame, 4, 2), diverging(0.5), "backward t1 -> t4")
    assert_colour(cell(frame, 0, 3), MASKED, "backward mask reflected too")
    shot(p.locator(".rg-section-heatmap"), "heatmap_bidirectional_reflected.png")
    redraw(frame, lambda: frame.locator("#rg-transpose").check())
    size = p.locator("canvas.rg-heatmap").evaluate(
        "c => { const g = window.rnngrad.drawn(c).geom.g; return [g.cols, g.rows]; }"
    )
    assert size == [4, 6], "channels on x, timesteps on y"
    assert_colour(cell(frame, 5, 3), DARK_RED, "transposed: same cell")
    assert_colour(cell(frame, 0, 0), DARK_BLUE, "transposed: same cell")
    assert "reflect=1" in frame.url and "transpose=1" in frame.url


def test_channel_grid_y_axis_and_0d_view(page, tb_url, shot):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    grid = panel(frame).locator("canvas.rg-grid")
    shared = grid.evaluate("c => c.toDataURL()")
    redraw(frame, lambda: frame.select_option("#rg-yaxis", "free"))
    assert grid.evaluate("c => c.toDataURL()") != shared
    ranges = grid.evaluate("c => Array.from(window.rnngrad.drawn(c).geom.ranges.hi)")
    assert ranges == [1, 1, 0.25, 1], "free y: per-channel max|g| (c3: none finite)"
    redraw(frame, lambda: frame.select_option("#rg-tag", "grads/last"))
    p = panel(frame)
    assert p.locator(".rg-section-heatmap").is_hidden()
    assert p.locator(".rg-section-scatter").is_visible()
    scatter = p.locator("canvas.rg-scatter")
    g = scatter.evaluate("c => window.rnngrad.drawn(c).geom")
    # Sample 0, channel 1 is -1 = -max: the bottom of the plot.
    x = g["left"] + 1.5 * g["dx"]
    y = g["top"] + g["ph"] - g["inset"]
    text = hover_text(frame, page, scatter, x, y)
    assert text.splitlines() == [
        "sample 0",
        "ch 1",
        "timestep — (no time axis)",
        "value -1",
    ]
    shot(p.locator(".rg-section-scatter"), "scalar0d.png")


def test_input_gradients_are_labelled(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "input_grads")
    assert panel(frame).locator(".rg-kind").inner_text() == (
        "d loss / d model input (whole network)"
    )


def test_server_errors_become_readable_messages(page, tb_url, shot):
    def to_missing_step(route):
        route.continue_(url=re.sub(r"step=\d+", "step=999", route.request.url))

    page.route(re.compile(r".*/data/plugin/rnngrad/tensor\?.*"), to_missing_step)
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    message = panel(frame).locator(".rg-message")
    message.wait_for(state="visible")
    text = message.inner_text()
    assert text.startswith('Could not load the tensor of run "lstm", tag "grads/lstm"')
    assert "(HTTP 404" in text
    assert "999" in text, "the server's own reason is shown"
    shot(panel(frame), "error_404.png")

    def to_bad_step(route):
        route.continue_(url=re.sub(r"step=\d+", "step=abc", route.request.url))

    page.unroute(re.compile(r".*/data/plugin/rnngrad/tensor\?.*"))
    page.route(re.compile(r".*/data/plugin/rnngrad/tensor\?.*"), to_bad_step)
    redraw(frame, lambda: frame.locator("#rg-step").press("ArrowLeft"))
    text = message.inner_text()
    assert "(HTTP 400" in text and "step" in text


def test_untrusted_run_name_is_text_only(page, tb_url, shot):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    frame = open_plugin(page, tb_url)
    show_only(frame, XSS_RUN, "grads/x")
    assert panel(frame).locator(".rg-run-name").inner_text() == XSS_RUN
    assert frame.locator("#rg-runs label").filter(has_text=XSS_RUN).count() == 1
    assert frame.evaluate("document.querySelectorAll('img').length") == 0
    assert page.dialogs == []
    assert not [u for u in requests if u.rstrip("/").endswith("/x")]
    shot(panel(frame), "untrusted_run_name.png")


def test_unreadable_series_is_reported(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, FUTURE_RUN, "grads/future")
    option = frame.locator("#rg-tag option[value='grads/future']")
    assert option.inner_text() == "grads/future (unreadable)"
    message = panel(frame).locator(".rg-message")
    assert message.is_visible()
    text = message.inner_text()
    assert text.startswith('The series "grads/future" of run "future" could not')
    assert "unreadable" in text and "999" in text
    assert panel(frame).locator(".rg-views").is_hidden()


def test_state_survives_reload(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: frame.select_option("#rg-scale", "log"))
    redraw(frame, lambda: frame.select_option("#rg-sample-mode", "all"))
    redraw(frame, lambda: frame.locator("#rg-step").press("ArrowLeft"))
    url = frame.url
    assert "run=lstm" in url and "tag=grads%2Flstm" in url and "step=10" in url
    frame.evaluate("location.reload()")
    frame.wait_for_function(
        "() => Number(document.getElementById('rg-app')?.dataset.drawCount) > 0"
    )
    assert frame.locator("#rg-scale").input_value() == "log"
    assert frame.locator("#rg-sample-mode").input_value() == "all"
    assert frame.locator("#rg-step-label").inner_text() == "step 10 (2/3)"
    assert frame.locator("#rg-runs input:checked").evaluate_all(
        "xs => xs.map(x => x.value)"
    ) == ["lstm"]


def test_several_runs_side_by_side(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: run_box(frame, "bi").check())
    names = frame.locator(".rg-run-name").all_inner_texts()
    assert sorted(names) == ["bi", "lstm"]
    boxes = [panel(frame, i).bounding_box() for i in range(2)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1 and boxes[0]["x"] != boxes[1]["x"]
    bi = names.index("bi")
    message = panel(frame, bi).locator(".rg-message")
    assert 'has no tag "grads/lstm"' in message.inner_text()
    assert "rg-neutral" in message.get_attribute("class"), "a note, not an error"


def test_empty_state_shows_how_to_start_logging(page, tmp_path, shot):
    from testkit.tensorboard_server import start_tensorboard

    server = start_tensorboard(str(tmp_path), load_fast=False)
    try:
        frame = open_plugin(page, server.url)
        code = frame.locator(".rg-empty pre").inner_text()
        shot(frame.locator(".rg-empty"), "empty_state.png")
    finally:
        server.stop()
    assert code.splitlines() == [
        "import tb_rnngrad",
        'logger = tb_rnngrad.GradientLogger("logs/run1", data=(x_val, y_val))',
        "model.fit(x, y, callbacks=[logger])",
        "# then: tensorboard --logdir logs",
    ]


# Fixes: stale listings, failures that must not spread, odd shapes and names.

PLUGIN = ".*/data/plugin/rnngrad/"
STEPS_LSTM = re.compile(PLUGIN + r"steps\?run=lstm&tag=grads%2Flstm$")
TENSOR_LSTM = re.compile(PLUGIN + r"tensor\?run=lstm&tag=grads%2Flstm&.*")


def listing(*steps):
    """A `steps` route answer."""
    return [{"step": s, "wall_time": 1_700_000_000.0 + s} for s in steps]


def step_label(frame) -> str:
    return frame.locator("#rg-step-label").inner_text()


def test_evicted_step_reloads_the_step_list_and_profile(page, tb_url):
    # The first list of steps still names step 15, which the server no longer keeps.
    asked = {"steps": 0, "profile": 0}

    def stale_once(route):
        asked["steps"] += 1
        if asked["steps"] == 1:
            route.fulfill(json=listing(0, 10, 15, 20))
        else:
            route.continue_()

    def count_profiles(request):
        if "/profile?run=lstm&tag=grads%2Flstm" in request.url:
            asked["profile"] += 1

    page.route(STEPS_LSTM, stale_once)
    page.on("request", count_profiles)
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    assert step_label(frame) == "step 20 (4/4)"
    assert asked == {"steps": 1, "profile": 1}
    # Step 15: 404 "no retained full tensor at step 15"; the page reloads its list.
    frame.locator("#rg-step").press("ArrowLeft")
    frame.wait_for_function(
        "() => document.getElementById('rg-step-label').textContent"
        " === 'step 10 (2/3)'",
        timeout=15000,
    )
    # The slider's label moves first; the panel shows step 10 once it is drawn.
    frame.wait_for_function(
        "() => document.querySelector('.rg-step-info').textContent"
        ".startsWith('step 10')",
        timeout=15000,
    )
    p = panel(frame)
    p.locator(".rg-section-heatmap").wait_for(state="visible")
    assert p.locator(".rg-message").is_hidden()
    assert_colour(cell(frame, 3, 2), diverging(-0.5), "step 10: -0.5 of max 1")
    assert asked == {"steps": 2, "profile": 2}, "the changed list refetches the profile"


def test_fixed_scale_skips_steps_the_server_no_longer_keeps(page, tb_url):
    page.route(STEPS_LSTM, lambda route: route.fulfill(json=listing(0, 10, 15, 20)))
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: frame.select_option("#rg-scale", "fixed"))
    p = panel(frame)
    assert p.locator(".rg-message").is_hidden()
    assert p.locator(".rg-step-info").inner_text() == (
        "step 20 · colour scale fixed over the 3 of 4 steps still available"
    )
    # max|g| over steps 0, 10 and 20 is 2 (step 0): 1 at step 20 is half of it.
    assert_colour(cell(frame, 5, 0), diverging(0.5), "fixed: 1 of 2")
    bar = p.locator(".rg-section-heatmap canvas.rg-colorbar")
    assert float(bar.get_attribute("data-hi")) == 2.0


def test_a_failed_draw_is_reported_until_the_next_pass_succeeds(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    frame.evaluate(
        """() => {
          const proto = CanvasRenderingContext2D.prototype;
          const put = proto.putImageData;
          proto.putImageData = function () {
            proto.putImageData = put;
            throw new Error("injected failure");
          };
        }"""
    )
    frame.locator("#rg-transpose").check()
    frame.wait_for_function(
        "() => document.getElementById('rg-app').dataset.renderError"
    )
    status = frame.locator(".rg-status")
    assert status.inner_text().startswith("Could not draw: injected failure")
    redraw(frame, frame.locator("#rg-transpose").uncheck)  # asserts no renderError
    assert status.inner_text() == ""


def test_tensor_with_an_empty_dimension_gets_a_message(page, tb_url):
    empty = io.BytesIO()
    np.save(empty, np.zeros((2, 0, 4), np.float32))
    page.route(
        TENSOR_LSTM,
        lambda route: route.fulfill(
            body=empty.getvalue(), content_type="application/octet-stream"
        ),
    )
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")  # fails if the page could not draw
    p = panel(frame)
    assert p.locator(".rg-message").inner_text() == (
        "The tensor has an empty dimension (2, 0, 4): there is nothing to draw."
    )
    assert p.locator(".rg-section-heatmap").is_hidden()
    assert p.locator(".rg-section-flow").is_visible()
    assert frame.locator(".rg-status").inner_text() == ""
    assert page.errors == []


def test_prefetch_skips_a_run_without_retained_steps(page, tb_url):
    tensor_urls = []
    page.on(
        "request",
        lambda r: "/data/plugin/rnngrad/tensor?" in r.url and tensor_urls.append(r.url),
    )
    page.route(
        re.compile(PLUGIN + rf"steps\?run={SMALL_RUN}&tag=grads%2Flstm$"),
        lambda route: route.fulfill(json=[]),
    )
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: run_box(frame, SMALL_RUN).check())
    message = panel(frame, 1).locator(".rg-message").inner_text()
    assert message == f'Run "{SMALL_RUN}" has no logged step of "grads/lstm".'
    # At step 10 the page prefetches step 20 of every run that has one.
    redraw(frame, lambda: frame.locator("#rg-step").press("ArrowLeft"))
    assert step_label(frame) == "step 10 (2/3)"
    frame.wait_for_timeout(500)
    assert tensor_urls
    without_step = [u for u in tensor_urls if "step=" not in u]
    assert without_step == [], "a tensor request without a step answers 400"


def test_a_tensor_error_keeps_the_flow_view(page, tb_url):
    page.route(
        TENSOR_LSTM,
        lambda route: route.fulfill(status=500, json={"error": "disk on fire"}),
    )
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    p = panel(frame)
    text = p.locator(".rg-message").inner_text()
    assert text.startswith('Could not load the tensor of run "lstm", tag "grads/lstm"')
    assert "disk on fire (HTTP 500" in text
    for view in ("heatmap", "grid"):
        assert p.locator(f".rg-section-{view}").is_hidden()
    assert p.locator(".rg-counts").is_hidden()
    flow = p.locator(".rg-section-flow")
    assert flow.is_visible()
    steps = flow.locator("canvas.rg-flow").evaluate(
        "c => window.rnngrad.drawn(c).profile.steps"
    )
    assert steps == [0, 10, 20]


def test_long_run_and_tag_names_do_not_widen_the_page(page, tb_url, shot):
    frame = open_plugin(page, tb_url)
    show_only(frame, LONG_RUN, LONG_TAG)
    scroll, client = frame.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    assert scroll <= client, "the plugin page scrolls sideways"
    label = frame.locator("#rg-runs label").filter(has_text=LONG_RUN)
    assert label.get_attribute("title") == LONG_RUN
    assert label.bounding_box()["width"] <= 480
    tag = frame.locator("#rg-tag")
    assert tag.evaluate("s => s.title") == LONG_TAG
    assert tag.bounding_box()["width"] <= 400
    assert panel(frame).locator(".rg-run-name").inner_text() == LONG_RUN
    shot(frame.locator(".rg-controls"), "long_names.png")


GRID_MARKS_JS = """
([canvas, channel, cells]) => {
  // Device-pixel plot box of one chart, as views/channel_grid.js computes it.
  const geom = window.rnngrad.drawn(canvas).geom;
  const dpr = canvas.width / parseFloat(canvas.style.width);
  const [ox, oy] = geom.origins[channel];
  const box = {
    x: Math.round((ox + 2) * dpr), y: Math.round((oy + 12) * dpr),
    w: Math.round(geom.pw * dpr), h: Math.round(geom.ph * dpr),
  };
  const T = Math.round(geom.pw / geom.dx) + 1;
  const ctx = canvas.getContext("2d");
  return cells.map(([t, where]) => {
    const x = Math.round(box.x + (t * (box.w - 1)) / (T - 1));
    const y = where === "top" ? box.y + 1
      : where === "bottom" ? box.y + box.h - 2 : Math.round(box.y + box.h / 2);
    const d = ctx.getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2]];
  });
}
"""


def test_channel_grid_marks_nan_and_inf(page, tb_url, shot):
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    section = panel(frame).locator(".rg-section-grid")
    grid = section.locator("canvas.rg-grid")
    # Sample 0, channel 3: NaN at t0, +Inf at t1, -Inf at t2.
    nan, pos_inf, neg_inf = frame.evaluate(
        GRID_MARKS_JS,
        [grid.element_handle(), 3, [[0, "middle"], [1, "top"], [2, "bottom"]]],
    )
    assert_colour(nan, NAN, "NaN marked mid-height")
    assert_colour(pos_inf, POS_INF, "+Inf marked at the top")
    assert_colour(neg_inf, NEG_INF, "-Inf marked at the bottom")
    legend = section.locator(".rg-legend")
    assert legend.is_visible()
    items = legend.locator(".rg-legend-item").all_inner_texts()
    assert [i.strip() for i in items] == ["NaN", "+Inf", "−Inf"]
    shot(section, "channel_grid_nonfinite.png")


TAGS_ROUTE = re.compile(PLUGIN + r"tags$")


@pytest.mark.parametrize("per_sample_fetch", [False, True])
def test_sample_beyond_a_runs_batch_is_named_not_replaced(
    page, tb_url, per_sample_fetch
):
    if per_sample_fetch:
        # Listed as huge, "small" is fetched one sample at a time (sample=i).
        def huge(route):
            response = route.fetch()
            tags = response.json()
            tags[SMALL_RUN]["grads/lstm"]["shape"] = [1, 6, 4_000_000]
            route.fulfill(response=response, json=tags)

        page.route(TAGS_ROUTE, huge)
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: run_box(frame, SMALL_RUN).check())
    sample = frame.locator("#rg-sample")
    assert sample.get_attribute("max") == "1", "the largest batch of the runs shown"
    redraw(frame, lambda: (sample.fill("1"), sample.press("Enter")))
    lstm, small = panel(frame, 0), panel(frame, 1)
    assert lstm.locator(".rg-caption").first.inner_text().endswith("sample 1")
    assert_colour(cell(frame, 4, 2, index=0), DARK_RED, "lstm shows its sample 1")
    assert small.locator(".rg-message").inner_text() == (
        f'Run "{SMALL_RUN}" has 1 sample (0 to 0), so there is no sample 1; '
        "pick a smaller sample or show all samples."
    )
    assert small.locator(".rg-section-heatmap").is_hidden()
    assert small.locator(".rg-section-flow").is_visible()
    redraw(frame, lambda: (sample.fill("0"), sample.press("Enter")))
    assert small.locator(".rg-message").is_hidden()
    assert_colour(cell(frame, 5, 0, index=1), DARK_RED, "small: sample 0 at step 20")


def step_info(frame) -> str:
    return panel(frame).locator(".rg-step-info").inner_text()


def test_a_chosen_step_no_longer_kept_is_named(page, tb_url):
    # TensorBoard keeps few steps (--samples_per_plugin): the oldest go while the
    # page shows one of them. The page keeps the step chosen and says what it shows.
    kept = {"steps": (0, 10, 20)}
    page.route(STEPS_LSTM, lambda route: route.fulfill(json=listing(*kept["steps"])))
    page.clock.install()
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: frame.locator("#rg-step").press("Home"))
    assert step_info(frame) == "step 0"
    kept["steps"] = (10, 20)
    redraw(frame, lambda: page.clock.fast_forward(30_000))  # the periodic reload
    assert step_info(frame) == (
        "step 0 is no longer kept by TensorBoard; showing step 10, the oldest kept"
    )
    assert step_label(frame) == "step 10 (1/2)"
    assert "step=0" in frame.url, "the step chosen stays in the address"
    assert_colour(cell(frame, 3, 2), diverging(-0.5), "step 10 is drawn")
    kept["steps"] = (20,)
    redraw(frame, lambda: page.clock.fast_forward(30_000))
    assert step_info(frame) == (
        "step 0 is no longer kept by TensorBoard; showing step 20, the oldest kept"
    )
    assert step_label(frame) == "step 20 (1/1)"


def stale_listing_once(asked):
    """A steps route that first lists step 15, which the server does not keep."""

    def handle(route):
        asked["steps"] += 1
        if asked["steps"] == 1:
            route.fulfill(json=listing(0, 10, 15, 20))
        else:
            route.continue_()

    return handle


def test_a_prefetch_404_reloads_the_step_list(page, tb_url):
    asked = {"steps": 0}
    page.route(STEPS_LSTM, stale_listing_once(asked))
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: frame.locator("#rg-step").press("Home"))
    assert step_label(frame) == "step 0 (1/4)"
    # At step 10 the page prefetches step 15: 404, so it reloads the list.
    frame.get_by_title("next step (→)").click()
    frame.wait_for_function(
        "() => document.getElementById('rg-step-label').textContent"
        " === 'step 10 (2/3)'",
        timeout=15000,
    )
    assert asked["steps"] == 2
    assert step_info(frame) == "step 10"
    redraw(frame, lambda: frame.get_by_title("next step (→)").click())
    assert step_label(frame) == "step 20 (3/3)"


def test_next_onto_a_step_found_gone_goes_on_to_the_next_kept(page, tb_url):
    # ▶ is pressed while the prefetch of step 15 is still on its way (404).
    asked = {"steps": 0}
    held = []

    def hold_step_15(route):
        if "step=15" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    page.route(STEPS_LSTM, stale_listing_once(asked))
    page.route(TENSOR_LSTM, hold_step_15)
    frame = open_plugin(page, tb_url)
    show_only(frame, "lstm", "grads/lstm")
    redraw(frame, lambda: frame.locator("#rg-step").press("Home"))
    redraw(frame, lambda: frame.get_by_title("next step (→)").click())
    assert step_label(frame) == "step 10 (2/4)"
    frame.wait_for_timeout(200)
    assert len(held) == 1, "the prefetch of step 15 waits"
    frame.get_by_title("next step (→)").click()
    frame.wait_for_timeout(200)
    held[0].continue_()  # the server answers 404: no step 15
    frame.wait_for_function(
        "() => document.querySelector('.rg-step-info').textContent === 'step 20'",
        timeout=15000,
    )
    assert step_label(frame) == "step 20 (3/3)"
    assert "step=20" in frame.url
    assert_colour(cell(frame, 3, 2), diverging(0.25), "step 20 is drawn")
