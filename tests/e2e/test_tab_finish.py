"""Fit and finish of the tab in a real TensorBoard and Chromium: channel-grid
titles clear of their scale labels (64 channels, bidirectional), colour-bar
ticks in one notation, a reach plot that reads 18 against 7, a hover read-out
that follows the data under a still pointer, "no run selected" kept in the
address, controls styled as TensorBoard's (light and dark), and a tag without a
time axis shown as what it is."""

from __future__ import annotations

import urllib.parse

import numpy as np
import pytest

from tb_rnngrad import summary
from testkit.chromium import VIEWPORT
from testkit.data import gradient_like, write_run
from testkit.plugin_page import open_plugin, plugin_frame, redraw, run_box, show_only

pytestmark = pytest.mark.browser

BI = "bi"
FAR, NEAR = "reach-18", "reach-7"
LAST = "last"
MASKED = "masked"
T = 20
#: The masked run's sequences end at timestep 11; 8 steps back from there get
#: gradient, 16 back from the last (padded) timestep.
VALID = 12
BIGRU = {
    "name": "bigru",
    "layer_class": "GRU",
    "units": 32,
    "bidirectional": True,
    "merge_mode": "concat",
}


def _reaching(k: int, step: int) -> np.ndarray:
    """(2, T, 3) gradients of reach k: 1 from timestep T-1-k on, 1e-4 before."""
    data = np.full((2, T, 3), 1e-4, np.float32)
    data[:, T - 1 - k :] = 1.0 + 0.01 * step
    return data


def _last(step: int) -> np.ndarray:
    """(3, 4) output gradient of a layer that returns its last output only."""
    return gradient_like((3, 1, 4), step)[:, 0] * (step + 1)


def write_logs(logdir) -> None:
    small = gradient_like((3, 12, 64), 1)
    small *= np.float32(0.00208 / np.abs(small).max())  # "±0.00208" scale labels
    write_run(
        logdir / BI,
        [
            (s, summary.gradients_pb("gradients/bigru", small * (1 + s), layer=BIGRU))
            for s in (0, 10)
        ],
    )
    for run, k in ((FAR, 18), (NEAR, 7)):
        write_run(
            logdir / run,
            [
                (s, summary.gradients_pb("gradients/rnn", _reaching(k, s)))
                for s in (0, 10)
            ],
        )
    padded = np.zeros((2, T, 3), np.float32)
    padded[:, VALID - 1 - 8 : VALID] = 1.0
    padded[:, : VALID - 1 - 8] = 1e-4
    valid = np.broadcast_to(np.arange(T) < VALID, (2, T))
    write_run(
        logdir / MASKED,
        [
            (s, summary.gradients_pb("gradients/rnn", padded, mask=valid))
            for s in (0, 10)
        ],
    )
    lstm = {"name": "lstm", "layer_class": "LSTM", "units": 4}
    write_run(
        logdir / LAST,
        [
            (
                s,
                summary.gradients_pb("gradients/lstm", _last(s), layer=lstm),
            )
            for s in (0, 10, 20)
        ]
        + [
            (
                s,
                summary.state_gradients_pb(
                    "state_gradients/lstm", gradient_like((3, 6, 4), s), layer=lstm
                ),
            )
            for s in (0, 10, 20)
        ],
    )


@pytest.fixture(scope="module")
def tb_url(serve_logs):
    return serve_logs(write_logs)


def _section(frame, name: str, run: str):
    return frame.locator(f'.rg-panel[data-run="{run}"] .rg-section-{name}')


#: Per chart, the title and scale boxes the grid drew and the columns of its
#: header lines that hold text pixels (opaque: the header has no background).
GRID_HEADERS = """
(canvas) => {
  const d = window.rnngrad.drawn(canvas).geom;
  const dpr = canvas.width / parseFloat(canvas.style.width);
  const ctx = canvas.getContext('2d');
  return d.labels.map((l, c) => {
    const [ox, oy] = d.origins[c];
    const lines = d.pad.top / 12;
    const rows = [];
    for (let line = 0; line < lines; line++) {
      const img = ctx.getImageData(Math.round(ox * dpr),
        Math.round((oy + line * 12) * dpr), Math.round(d.chartW * dpr),
        Math.round(12 * dpr)).data;
      const cols = new Set();
      const w = Math.round(d.chartW * dpr);
      for (let i = 0; i < img.length; i += 4) {
        if (img[i + 3] > 60) cols.add(ox + ((i / 4) % w) / dpr);
      }
      rows.push([...cols]);
    }
    return {title: l.title, scale: l.scale, rows, chart: [ox, oy, ox + d.chartW]};
  });
}
"""


def _disjoint(a, b) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_channel_grid_titles_never_touch_their_scale_label(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, BI, "gradients/bigru")
    canvas = _section(frame, "grid", BI).locator("canvas.rg-canvas")
    lines = set()
    for width in (1400, 420):
        redraw(
            frame, lambda w=width: page.set_viewport_size({"width": w, "height": 900})
        )
        lines.add(canvas.evaluate("c => window.rnngrad.drawn(c).geom.pad.top / 12"))
        _assert_headers_apart(canvas.evaluate(GRID_HEADERS))
    # Where "ch 10 (fwd 10)" and its "±0.0229" would meet (129 px charts at
    # 1400 px), the scale label takes a line of its own; 147 px charts keep one.
    assert lines == {1, 2}
    assert page.errors == []


def _assert_headers_apart(headers) -> None:
    assert len(headers) == 64
    for c, h in enumerate(headers):
        assert _disjoint(h["title"], h["scale"]), (c, h["title"], h["scale"])
        left, _, right = h["chart"]
        for box in (h["title"], h["scale"]):
            assert left <= box[0] and box[2] <= right, (c, box, h["chart"])
        # Every text pixel lies in one of the two boxes: nothing drawn over.
        for line, xs in enumerate(h["rows"]):
            y = h["chart"][1] + 12 * line
            for x in xs:
                inside = [
                    b
                    for b in (h["title"], h["scale"])
                    if b[0] - 1 <= x <= b[2] + 1 and b[1] <= y < b[3]
                ]
                assert inside, (c, line, x, h["title"], h["scale"])
    assert headers[10]["rows"][0], "titles drawn"


def test_colour_bar_ticks_share_one_notation(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, BI, "gradients/bigru")
    bar = _section(frame, "heatmap", BI).locator("canvas.rg-colorbar")
    labels = bar.evaluate("b => JSON.parse(b.dataset.ticks)")
    assert len(labels) == 5 and labels[2] == "0", labels
    signs = {"e" in label for label in labels if label != "0"}
    assert len(signs) == 1, labels
    flow = _section(frame, "flow", BI).locator("canvas.rg-colorbar")
    labels = flow.evaluate("b => JSON.parse(b.dataset.ticks)")
    assert len({"e" in label for label in labels if label != "0"}) == 1, labels
    assert page.errors == []


REACH = """
(canvas) => {
  const d = window.rnngrad.drawn(canvas);
  const r = d.geom.reach;
  const g = d.geom.g;
  const y = g.y + 0.5 * g.cellH;
  const at = (k) => d.readout(r.x0 + k * r.width / (d.geom.cols - 1), y);
  return {x0: r.x0, width: r.width, ticks: r.ticks, reach: d.profile.reach,
          imageWidth: g.cols * g.cellW, readout: at(d.profile.reach[0])};
}
"""


def test_the_reach_plot_reads_18_against_7(page, tb_url, artifacts):
    page.set_viewport_size({"width": 1000, "height": 900})
    frame = open_plugin(page, tb_url)
    show_only(frame, FAR, "gradients/rnn")
    redraw(frame, run_box(frame, NEAR).check)
    shown = {}
    for run in (FAR, NEAR):
        canvas = _section(frame, "flow", run).locator("canvas.rg-canvas")
        shown[run] = canvas.evaluate(REACH)
    far, near = shown[FAR], shown[NEAR]
    assert far["reach"] == [18, 18] and near["reach"] == [7, 7]
    for s in (far, near):
        values = [k for k, _ in s["ticks"]]
        assert len(values) >= 5 and all(isinstance(k, int) for k in values), values
        assert values[0] == 0 and values[-1] == T - 1, values
        assert s["width"] >= 120 and s["width"] >= 0.25 * (s["imageWidth"] + s["width"])
    px = far["width"] / (T - 1)
    assert (18 - 7) * px >= 60, "18 and 7 at least 60 px apart"
    assert far["readout"][-1] == "reach 18 timesteps back"
    assert near["readout"][-1] == "reach 7 timesteps back"
    page.screenshot(path=str(artifacts / "reach_18_7.png"))
    assert page.errors == []


TOOLTIP = """
() => {
  const b = document.querySelector('.rg-tooltip');
  return b && !b.hidden ? [...b.children].map((c) => c.textContent) : null;
}
"""


def test_the_hover_read_out_follows_the_data_under_a_still_pointer(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, BI, "gradients/bigru")
    heat = _section(frame, "heatmap", BI).locator("canvas.rg-canvas")
    box = heat.bounding_box()
    point = (box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4)
    frame.locator(".rg-run-name").first.click()  # focus in the frame, off the inputs
    page.mouse.move(*point)
    local = (point[0] - box["x"], point[1] - box["y"])
    expected = "([x, y]) => window.rnngrad.drawn(document.querySelector("
    expected += "'.rg-section-heatmap canvas.rg-canvas')).readout(x, y)"
    before = frame.evaluate(TOOLTIP)
    assert before and before == frame.evaluate(expected, list(local))
    assert frame.locator("#rg-step-label").inner_text().startswith("step 10")
    redraw(frame, lambda: page.keyboard.press("ArrowLeft"))
    assert frame.locator("#rg-step-label").inner_text().startswith("step 0")
    after = frame.evaluate(TOOLTIP)
    assert after == frame.evaluate(expected, list(local)), "the step shown's value"
    assert after != before
    redraw(frame, lambda: frame.select_option("#rg-scale", "log"))
    assert frame.evaluate(TOOLTIP) == frame.evaluate(expected, list(local))
    redraw(frame, lambda: frame.select_option("#rg-sample-mode", "mean"))
    mean = frame.evaluate(TOOLTIP)
    assert mean == frame.evaluate(expected, list(local)) and mean != after
    assert any("mean" in line for line in mean), mean
    assert page.errors == []


def test_unchecking_the_only_run_shows_no_run_and_the_address_keeps_it(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, NEAR, "gradients/rnn")
    redraw(frame, run_box(frame, NEAR).uncheck)
    runs = frame.locator("#rg-runs input:checked").evaluate_all("xs => xs.length")
    assert runs == 0
    note = frame.locator(".rg-no-run")
    assert note.is_visible() and note.inner_text().startswith("No run selected")
    assert frame.locator(".rg-panel").count() == 0
    assert "p.rnngrad.runs=[]" in urllib.parse.unquote(page.url)
    page.reload()
    frame = plugin_frame(page)
    assert frame.locator(".rg-no-run").is_visible()
    assert frame.locator("#rg-runs input:checked").count() == 0
    redraw(frame, run_box(frame, FAR).check)
    assert frame.locator(".rg-run-name").all_inner_texts() == [FAR]
    assert not frame.locator(".rg-no-run").is_visible()
    # A filter that hides the selected run hides its panel too, and says so.
    redraw(frame, lambda: frame.fill("#rg-run-filter", f"^{NEAR}$"))
    assert frame.locator(".rg-panel").count() == 0
    assert frame.locator(".rg-no-run").inner_text().startswith("The run filter hides")
    redraw(frame, lambda: frame.fill("#rg-run-filter", ""))
    assert frame.locator(".rg-run-name").all_inner_texts() == [FAR]
    assert page.errors == []


CONTROL_STYLES = """
() => {
  const s = (q) => getComputedStyle(document.querySelector(q));
  const select = s('#rg-scale');
  const button = s('#rg-play');
  const box = s('#rg-runs input');
  return {
    font: select.fontFamily, radius: select.borderTopLeftRadius,
    border: select.borderTopColor, selectBg: select.backgroundColor,
    selectFg: select.color, buttonFg: button.color, buttonRadius:
    button.borderTopLeftRadius, buttonFont: button.fontFamily,
    accent: box.accentColor, slider: s('#rg-step').accentColor,
    bodyFont: s('body').fontFamily,
  };
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_controls_look_like_tensorboards(browser, tb_url, scheme):
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    try:
        page = context.new_page()
        frame = open_plugin(page, tb_url)
        c = frame.evaluate(CONTROL_STYLES)
    finally:
        context.close()
    for font in (c["font"], c["buttonFont"], c["bodyFont"]):
        assert font.startswith("Roboto,"), font
    assert c["radius"] == c["buttonRadius"] == "4px"
    if scheme == "light":  # TensorBoard's orange 700, its light border and text
        assert c["accent"] == c["slider"] == c["buttonFg"] == "rgb(245, 124, 0)"
        assert c["border"] == "rgb(224, 224, 224)"
        assert (c["selectBg"], c["selectFg"]) == (
            "rgb(255, 255, 255)",
            "rgb(33, 33, 33)",
        )
    else:
        assert c["accent"] == c["slider"] == c["buttonFg"] == "rgb(255, 183, 77)"
        assert c["border"] == "rgb(85, 85, 85)"
        assert (c["selectBg"], c["selectFg"]) == (
            "rgb(48, 48, 48)",
            "rgb(238, 238, 238)",
        )


def test_a_tag_without_a_time_axis_shows_its_norm_over_training(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, LAST, "gradients/lstm")
    flow = _section(frame, "flow", LAST)
    canvas = flow.locator("canvas.rg-canvas")
    assert canvas.evaluate("c => c.getBoundingClientRect().height") >= 150
    assert "no time axis" in flow.locator(".rg-caption").inner_text()
    reading = flow.locator(".rg-reading").inner_text()
    assert reading.startswith("This layer's output has no time axis")
    assert "See the state gradients" in reading and "state_gradients/lstm" in reading
    texts = frame.locator(".rg-panel").inner_text()
    assert "right to left" not in texts
    assert "timesteps back" not in texts, "no reach claimed"
    assert not frame.locator(f'.rg-panel[data-run="{LAST}"] .rg-reach').is_visible()
    assert _section(frame, "scatter", LAST).is_visible()
    assert not _section(frame, "heatmap", LAST).is_visible()
    # The hover read-out and a click on a step, as on a flow image.
    hover = canvas.evaluate(
        "c => { const d = window.rnngrad.drawn(c);"
        " return d.readout(d.geom.xs[1], (d.geom.top + d.geom.bottom) / 2); }"
    )
    norm = float(np.linalg.norm(_last(10)))
    assert hover[0] == "step 10"
    assert float(hover[1].split()[1]) == pytest.approx(norm, rel=1e-4)
    xs = canvas.evaluate("c => window.rnngrad.drawn(c).geom.xs")
    box = canvas.bounding_box()
    redraw(frame, lambda: page.mouse.click(box["x"] + xs[0], box["y"] + 60))
    assert frame.locator("#rg-step-label").inner_text().startswith("step 0")
    assert page.errors == []


def test_a_masked_runs_reach_counts_from_the_last_valid_timestep(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, MASKED, "gradients/rnn")
    panel = f'.rg-panel[data-run="{MASKED}"]'
    assert (
        frame.locator(f"{panel} .rg-reach")
        .inner_text()
        .startswith("reach: 8 timesteps back at step 10")
    ), "not 16, counted from the padded last timestep"
    assert (
        "counted from each sample's last valid timestep"
        in frame.locator(f"{panel} .rg-reach").inner_text()
    )
    caption = _section(frame, "flow", MASKED).locator(".rg-caption").inner_text()
    assert "timesteps back from each sample's last valid timestep" in caption
    canvas = _section(frame, "flow", MASKED).locator("canvas.rg-canvas")
    assert canvas.evaluate("c => window.rnngrad.drawn(c).profile.reach") == [8, 8]
    assert page.errors == []
