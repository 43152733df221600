"""The health report in the tab, in a real TensorBoard and Chromium: a badge per
run in the run list, a Health line per run panel whose finding links open the
evidence, and the findings column of the compare view; a hostile run name and
finding text show as text."""

from __future__ import annotations

import json
import urllib.parse
from importlib import resources

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2

from tb_rnngrad import health
from tb_rnngrad.summary import pb as summary_pb
from testkit.data import write_run
from testkit.plugin_page import plugin_frame, redraw

pytestmark = pytest.mark.browser

TAG = "state_gradients/rnn"
HOSTILE = "<b>bad</b>"
TIMESTEPS = 40
PALETTE = json.loads(
    (resources.files("tb_rnngrad.frontend") / "palette.json").read_text()
)


def _decaying(factor: float, seed: int) -> np.ndarray:
    """(4, TIMESTEPS, 3) gradient whose norm is factor**lag back from the end."""
    rng = np.random.default_rng(seed)
    scale = factor ** np.arange(TIMESTEPS)[::-1]
    return (rng.choice([-1.0, 1.0], (4, TIMESTEPS, 3)) * scale[None, :, None]).astype(
        "float32"
    )


def _write(logdir):
    for run, factor in (("vanish", 0.5), ("flat", 1.0)):
        loss = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="epoch_loss", simple_value=factor / 8)]
        )
        write_run(logdir / run / "train", [(1, loss)])
        write_run(
            logdir / run,
            [
                (s, summary_pb.state_gradients_pb(TAG, _decaying(factor, s)))
                for s in (0, 10)
            ],
        )
    broken = _decaying(1.0, 3)
    broken[1, 30, 2] = np.nan
    write_run(
        logdir / HOSTILE,
        [
            (0, summary_pb.state_gradients_pb(TAG, _decaying(1.0, 2))),
            (10, summary_pb.state_gradients_pb(TAG, broken)),
        ],
    )


@pytest.fixture(scope="module")
def served(serve_logs):
    written = {}

    def write(logdir):
        written["logdir"] = str(logdir)
        _write(logdir)

    url = serve_logs(write)
    return url, health.check_logdir(written["logdir"])


def _open(page, url):
    page.goto(f"{url}/#rnngrad&p.rnngrad.tag={urllib.parse.quote(TAG, safe='')}")
    frame = plugin_frame(page)
    try:
        frame.wait_for_selector(".rg-check[data-health]", state="attached")
    except Exception:
        debug = frame.evaluate(
            "async () => [await (await fetch('./health')).text(),"
            " document.getElementById('rg-app').dataset.renderError,"
            " document.querySelector('#rg-runs').outerHTML]"
        )
        raise AssertionError(debug) from None
    return frame


def _badges(frame) -> dict:
    return frame.locator("#rg-runs label").evaluate_all(
        "ls => Object.fromEntries(ls.map(l => "
        "[l.querySelector('input').value, l.dataset.health]))"
    )


def test_badges_and_health_lines_say_the_report(page, served):
    url, report = served
    frame = _open(page, url)
    assert _badges(frame) == {run: report.status(run) for run in report.runs}
    assert _badges(frame) == {
        "vanish": "problem",
        "flat": "healthy",
        HOSTILE: "problem",
    }
    panel = frame.locator(".rg-panel[data-run='vanish']")
    assert panel.locator(".rg-health-summary").inner_text() == (
        "Health: problem (vanishing)"
    )
    (finding,) = report.runs["vanish"]
    link = panel.locator(".rg-finding-link").inner_text()
    assert link == (
        f"vanishing in rnn, step 10, timestep {finding.timestep}: {finding.message}"
    )
    flat = frame.locator(".rg-panel[data-run='flat'] .rg-health-summary")
    assert flat.inner_text() == "Health: healthy"
    hostile = frame.locator(f".rg-panel[data-run='{HOSTILE}']")
    assert "nonfinite in rnn, step 10, timestep 30" in hostile.inner_text()
    assert frame.locator(".rg-panels b").count() == 0, "untrusted text as text"
    assert page.errors == []


#: Where the marker colour is, across a canvas's middle row: x in CSS px.
_MARKER_XS = """(c, rgb) => {
  const k = c.width / c.getBoundingClientRect().width;
  const g = window.rnngrad.drawn(c).geom.g;
  const y = Math.floor((g.y + (g.rows * g.cellH) / 2) * k);
  const d = c.getContext('2d').getImageData(0, y, c.width, 1).data;
  const xs = [];
  for (let x = 0; x < c.width; x++) {
    const diff = [0, 1, 2].map((i) => Math.abs(d[4 * x + i] - rgb[i]));
    if (Math.max(...diff) < 24) xs.push(x / k);
  }
  return {xs, left: g.x, cellW: g.cellW, width: g.cols * g.cellW};
}"""


def test_a_finding_link_opens_its_run_step_view_and_timestep(page, served):
    url, report = served
    frame = _open(page, url)
    redraw(frame, lambda: frame.evaluate("window.rnngrad.set({views: ['heatmap']})"))
    link = frame.locator(".rg-panel[data-run='vanish'] .rg-finding-link")
    redraw(frame, link.click)
    state = frame.evaluate("window.rnngrad.state()")
    assert (state["runs"], state["tag"], state["step"]) == (["vanish"], TAG, 10)
    assert state["views"] == ["heatmap", "flow"]
    (finding,) = report.runs["vanish"]
    assert state["mark"] == finding.timestep > 0
    assert f"mark={finding.timestep}" in frame.url
    marker = [int(PALETTE["ui"]["marker"][i : i + 2], 16) for i in (1, 3, 5)]
    for view in ("heatmap", "flow"):
        canvas = frame.locator(f".rg-panel[data-run='vanish'] canvas.rg-{view}")
        found = canvas.evaluate(_MARKER_XS, marker)
        left = found["left"] + finding.timestep * found["cellW"]
        inside = [  # the flow view's current step is outlined too, at the edges
            x
            for x in found["xs"]
            if found["left"] + 2 < x < found["left"] + found["width"] - 2
        ]
        edges = (left, left + found["cellW"])
        assert {min(edges, key=lambda e: abs(e - x)) for x in inside} == set(edges)
        assert all(min(abs(x - e) for e in edges) <= 2 for x in inside), found
    redraw(frame, lambda: frame.evaluate("window.rnngrad.set({tag: 'other'})"))
    assert frame.evaluate("window.rnngrad.state()")["mark"] is None
    assert page.errors == []


def test_the_compare_view_has_a_findings_column(page, served):
    url, _ = served
    frame = _open(page, url)
    redraw(frame, lambda: frame.check("#rg-compare-toggle"))
    cells = frame.locator("#rg-compare-table tbody tr").evaluate_all(
        "rs => Object.fromEntries(rs.map(r => "
        "[r.dataset.run, r.querySelector('.rg-compare-findings').textContent]))"
    )
    assert cells == {"vanish": "vanishing", "flat": "–", HOSTILE: "nonfinite"}
    losses = frame.locator("#rg-compare-table tbody tr").evaluate_all(
        "rs => Object.fromEntries(rs.map(r => "
        "[r.dataset.run, r.querySelector('.rg-compare-loss').textContent]))"
    )
    # Read from each run's own train/epoch_loss; the hostile run has none.
    assert losses == {"vanish": "0.0625 (train)", "flat": "0.125 (train)", HOSTILE: "–"}
    header = frame.locator("#rg-compare-table th").all_inner_texts()
    assert header[-2:] == ["latest loss", "findings"]
    assert page.errors == []
