"""Dark mode in a real TensorBoard: the tab follows the OS preference (Playwright's
`color_scheme="dark"`) and TensorBoard's own `dark-mode` class on its page's body,
switching without a reload; light mode draws as before. Colours are read from the
page's computed styles and from canvas pixels (through `window.rnngrad.drawn`)."""

from __future__ import annotations

import pytest

from tb_rnngrad import summary
from testkit.chromium import VIEWPORT
from testkit.data import gradient_like, write_run
from testkit.plugin_page import open_plugin, redraw

pytestmark = pytest.mark.browser

RUN = "adding-lstm"
TAG = "gradients/rnn"

#: Brightness (mean of r, g, b) of the opaque pixels in the heatmap's y-axis label
#: area and the most common colour of the first channel chart, plus page colours.
READ_COLOURS = """
() => {
  const rgb = (s) => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const heat = document.querySelector('.rg-section-heatmap canvas.rg-canvas');
  const d = window.rnngrad.drawn(heat);
  const g = d.geom.g;
  const [ox, oy] = d.geom.origins[0];
  const dpr = heat.width / parseFloat(heat.style.width);
  const w = Math.floor((ox + g.x - 3) * dpr);
  const y0 = Math.floor((oy + g.y) * dpr);
  const h = Math.floor(g.rows * g.cellH * dpr);
  const px = heat.getContext('2d').getImageData(0, y0, w, h).data;
  const text = [];
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] > 230) text.push((px[i] + px[i + 1] + px[i + 2]) / 3);
  }
  const grid = document.querySelector('.rg-section-grid canvas.rg-canvas');
  const gd = window.rnngrad.drawn(grid).geom;
  const gdpr = grid.width / parseFloat(grid.style.width);
  const [gx, gy] = gd.origins[0];
  const box = grid.getContext('2d').getImageData(
    Math.round((gx + 4) * gdpr), Math.round((gy + 14) * gdpr),
    Math.round((gd.chartW - 8) * gdpr), Math.round((gd.chartH - 18) * gdpr)).data;
  const counts = new Map();
  for (let i = 0; i < box.length; i += 4) {
    const k = `${box[i]},${box[i + 1]},${box[i + 2]}`;
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const chartBg = [...counts].sort((a, b) => b[1] - a[1])[0][0].split(',').map(Number);
  const body = getComputedStyle(document.body);
  const tip = document.createElement('div');
  tip.className = 'rg-tooltip';
  document.body.append(tip);
  const tipStyle = getComputedStyle(tip);
  const tooltip = { bg: rgb(tipStyle.backgroundColor), fg: rgb(tipStyle.color) };
  tip.remove();
  return {
    rootDark: document.documentElement.classList.contains('rg-dark'),
    scheme: getComputedStyle(document.documentElement).colorScheme,
    background: rgb(body.backgroundColor),
    color: rgb(body.color),
    muted: rgb(getComputedStyle(document.querySelector('.rg-reading')).color),
    stepColor: rgb(getComputedStyle(document.querySelector('#rg-tag')).color),
    textPixels: text.length,
    textMax: Math.max(...text),
    textMin: Math.min(...text),
    chartBg,
    tooltip,
  };
}
"""


def write_logs(logdir) -> None:
    write_run(
        logdir / RUN,
        [
            (step, summary.gradients_pb(TAG, gradient_like((4, 12, 6), step)))
            for step in (0, 100, 200)
        ],
    )


@pytest.fixture(scope="module")
def tb_url(serve_logs):
    return serve_logs(write_logs)


@pytest.fixture
def dark_page(browser):
    """A page of a browser context whose OS preference is dark."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()


def brightness(rgb) -> float:
    return sum(rgb) / 3


def assert_dark(c: dict) -> None:
    assert c["rootDark"] and c["scheme"] == "dark", c
    assert brightness(c["background"]) < 60, c["background"]
    assert brightness(c["color"]) > 200, c["color"]
    assert brightness(c["muted"]) > 150, c["muted"]
    assert brightness(c["stepColor"]) > 150, "native controls in dark colours too"
    assert c["textPixels"] > 20, "axis labels drawn"
    assert c["textMax"] > 170, f"light axis text, got at most {c['textMax']}"
    assert brightness(c["chartBg"]) < 80, c["chartBg"]
    assert brightness(c["tooltip"]["fg"]) < brightness(c["tooltip"]["bg"]) - 120


def assert_light(c: dict) -> None:
    assert not c["rootDark"] and c["scheme"] == "light", c
    assert c["background"] == [255, 255, 255]
    assert c["color"] == [33, 33, 33]
    assert c["textPixels"] > 20, "axis labels drawn"
    assert c["textMin"] < 110, f"dark axis text (#555), got at least {c['textMin']}"
    assert c["chartBg"] == [250, 250, 250]
    assert c["tooltip"] == {"bg": [33, 33, 33], "fg": [255, 255, 255]}


def test_the_os_dark_preference_makes_the_tab_dark(dark_page, tb_url):
    frame = open_plugin(dark_page, tb_url)
    assert_dark(frame.evaluate(READ_COLOURS))
    assert dark_page.errors == []


def test_light_mode_draws_as_before(page, tb_url):
    frame = open_plugin(page, tb_url)
    host_dark = page.evaluate("document.body.classList.contains('dark-mode')")
    assert host_dark is False
    assert_light(frame.evaluate(READ_COLOURS))
    assert page.errors == []


def test_tensorboards_dark_mode_class_switches_the_tab_without_reload(page, tb_url):
    frame = open_plugin(page, tb_url)
    assert_light(frame.evaluate(READ_COLOURS))
    frame.evaluate("window.__sameDocument = true")

    def host(dark: bool):
        js = f"document.body.classList.toggle('dark-mode', {str(dark).lower()})"
        return lambda: page.evaluate(js)

    redraw(frame, host(True))
    assert_dark(frame.evaluate(READ_COLOURS))
    redraw(frame, host(False))
    assert_light(frame.evaluate(READ_COLOURS))
    assert frame.evaluate("window.__sameDocument") is True, "no reload"
    assert page.errors == []
