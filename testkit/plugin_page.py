"""Drives the plugin's page inside a running TensorBoard with Playwright."""

from __future__ import annotations

import re

FRAME_URL = "plugin_entry.html?name=rnngrad"
_DRAWN = "Number(document.getElementById('rg-app').dataset.drawCount)"
#: Fetches every step once, then times the slider through them all (cached).
SCRUB_JS = """
async () => {
  const app = window.rnngrad;
  const n = app.steps().length;
  for (let i = 0; i < n; i++) await app.set({stepIndex: i});  // fetch + cache
  const t0 = performance.now();
  for (let i = n - 1; i >= 0; i--) await app.set({stepIndex: i});
  return {steps: n, stepsPerSecond: n / ((performance.now() - t0) / 1000)};
}
"""


def plugin_frame(page, timeout_ms: int = 60000):
    """The plugin's iframe once it has drawn, or shown an empty state or error."""
    waited = 0
    while waited < timeout_ms:
        frames = [f for f in page.frames if FRAME_URL in f.url]
        if frames:
            frame = frames[0]
            # Drawn once, or a page-level empty state or error (the run panels'
            # own message boxes exist, hidden, before anything is drawn).
            frame.wait_for_function(
                "() => { const a = document.getElementById('rg-app');"
                " return a && (Number(a.dataset.drawCount) > 0"
                " || a.querySelector(':scope > .rg-empty, :scope > .rg-message')); }",
                timeout=timeout_ms,
            )
            return frame
        page.wait_for_timeout(200)  # pumps Playwright's events, unlike time.sleep
        waited += 200
    raise AssertionError(f"no plugin iframe; frames: {[f.url for f in page.frames]}")


def open_plugin(page, url: str):
    """Opens TensorBoard at the plugin's tab; returns the plugin's frame."""
    page.goto(url + "/#rnngrad")
    return plugin_frame(page)


def draw_count(frame) -> int:
    """How many times the plugin has finished drawing (0 before the first time)."""
    return frame.evaluate(f"{_DRAWN} || 0")


def redraw(frame, action) -> None:
    """Runs `action` and waits until the plugin has drawn again, without error."""
    before = draw_count(frame)
    action()
    try:
        frame.wait_for_function(f"n => {_DRAWN} > n", arg=before, timeout=30000)
    except Exception as error:
        state = frame.evaluate(
            "() => ({hash: location.hash, app: window.rnngrad.debug(),"
            " drawn: document.getElementById('rg-app').dataset.drawCount})"
        )
        raise AssertionError(f"no redraw after the action: {state}") from error
    error = frame.evaluate("document.getElementById('rg-app').dataset.renderError")
    assert error is None, f"the page failed to draw: {error}"
    frame.wait_for_timeout(50)


def run_box(frame, name: str):
    """The checkbox of run `name` in the run picker."""
    label = re.compile(rf"^\s*{re.escape(name)}\s*$")
    return frame.locator("#rg-runs label").filter(has_text=label).locator("input")


def show_only(frame, run: str, tag: str) -> None:
    """Selects exactly one run and one tag through the controls."""
    if not run_box(frame, run).is_checked():
        redraw(frame, lambda: run_box(frame, run).check())
    checked = frame.locator("#rg-runs input:checked").evaluate_all(
        "xs => xs.map(x => x.value)"
    )
    for other in checked:
        if other != run:
            redraw(frame, run_box(frame, other).uncheck)
    if frame.locator("#rg-tag").input_value() != tag:
        redraw(frame, lambda: frame.select_option("#rg-tag", tag))


_HEATMAP_READOUT_JS = """
([canvas, t, c]) => {
  const d = window.rnngrad.drawn(canvas);
  const geom = d.geom, g = geom.g, [ox, oy] = geom.origins[0];
  const col = geom.transpose ? c : t, row = geom.transpose ? t : c;
  return {cols: g.cols, rows: g.rows,
          lines: d.readout(ox + g.x + (col + 0.5) * g.cellW,
                           oy + g.y + (row + 0.5) * g.cellH)};
}
"""


def heatmap_readout(frame, canvas, timestep: int, channel: int) -> dict:
    """The hover read-out of a heatmap's first sample at (timestep, channel):
    `{"cols", "rows", "lines"}`, with the heatmap's columns and rows."""
    return frame.evaluate(_HEATMAP_READOUT_JS, [canvas, timestep, channel])
