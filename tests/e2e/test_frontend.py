"""End-to-end tests of the frontend in a real TensorBoard, driven by Chromium.

A real `tensorboard --load_fast=false` process serves event files with known
values (`frontend_logs.py`); the tests open `/#rnngrad`, reach the plugin's
iframe and read back the colours of canvas cells whose values they logged.
Screenshots of each view go to `tests/artifacts/`.
"""

from __future__ import annotations

import math
import re

import pytest
from frontend_logs import FUTURE_RUN, XSS_RUN, write_logs
from plugin_page import (
    HAVE_CHROMIUM,
    SKIP_REASON,
    open_plugin,
    redraw,
    run_box,
    show_only,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason=SKIP_REASON),
]

# Colours of frontend/colormap.js.
DIVERGING = [
    (-1.0, (5, 48, 97)),
    (-0.5, (67, 147, 195)),
    (0.0, (255, 255, 255)),
    (0.5, (214, 96, 77)),
    (1.0, (103, 0, 31)),
]
NAN = (0, 190, 0)
POS_INF = (255, 215, 0)
NEG_INF = (0, 0, 0)
MASKED = (170, 170, 170)
WHITE = (255, 255, 255)
DARK_RED = (103, 0, 31)
DARK_BLUE = (5, 48, 97)


def diverging(u: float) -> tuple[int, int, int]:
    """The colour the heatmap gives a signed unit u in [-1, 1] (LUT of 256)."""
    index = 128 + int(math.copysign(math.floor(abs(u) * 127 + 0.5), u))
    x = max(-1.0, (index - 128) / 127)
    for (x0, c0), (x1, c1) in zip(DIVERGING, DIVERGING[1:], strict=False):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            pairs = zip(c0, c1, strict=True)
            return tuple(math.floor(a + t * (b - a) + 0.5) for a, b in pairs)
    return DIVERGING[-1][1]


def assert_colour(actual, expected, what: str, tolerance: int = 2) -> None:
    close = all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
    assert close, f"{what}: got rgb{tuple(actual)}, expected rgb{tuple(expected)}"


# Fixtures.


@pytest.fixture(scope="module")
def tb_url(tmp_path_factory):
    from tensorboard_server import start_tensorboard

    logdir = tmp_path_factory.mktemp("frontend_logs")
    write_logs(logdir)
    server = start_tensorboard(str(logdir), load_fast=False)
    try:
        yield server.url
    finally:
        server.stop()


def panel(frame, index: int = 0):
    return frame.locator("section.rg-panel").nth(index)


PIXEL_JS = """
([canvas, tile, t, c]) => {
  const geom = canvas.rgGeom;
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
             const geom = document.querySelector('canvas.rg-heatmap').rgGeom;
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
        "c => [...c.rgGeom.origins[2], c.rgGeom.dx]"
    )  # chart of channel 2; its plot starts 2 px in, 12 px down
    text = hover_text(frame, page, grid, ox + 2 + 3 * dx, oy + 30)
    assert text.splitlines()[1:] == ["ch 2", "timestep 3", "value 0.25"]
    flow = panel(frame).locator("canvas.rg-flow")
    g = flow.evaluate("c => c.rgGeom.g")
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
    g = flow.evaluate("c => c.rgGeom.g")
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
    # 6 decades below max|g| = 1: 0.25 sits at (log10(0.25) + 6) / 6.
    u = (math.log10(0.25) + 6) / 6
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
        "c => [c.rgGeom.g.cols, c.rgGeom.g.rows]"
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
    ranges = grid.evaluate("c => Array.from(c.rgGeom.ranges.hi)")
    assert ranges == [1, 1, 0.25, 1], "free y: per-channel max|g| (c3: none finite)"
    redraw(frame, lambda: frame.select_option("#rg-tag", "grads/last"))
    p = panel(frame)
    assert p.locator(".rg-section-heatmap").is_hidden()
    assert p.locator(".rg-section-scatter").is_visible()
    scatter = p.locator("canvas.rg-scatter")
    g = scatter.evaluate("c => c.rgGeom")
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
    message = panel(frame, bi).locator(".rg-message").inner_text()
    assert 'has no tag "grads/lstm"' in message


def test_empty_state_shows_how_to_start_logging(page, tmp_path, shot):
    from tensorboard_server import start_tensorboard

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
