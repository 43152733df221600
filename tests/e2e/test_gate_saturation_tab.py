"""The gate-saturation view and its health finding in a real TensorBoard and
Chromium: two timesteps x gates heatmaps (units near 0, near 1) on a fixed
0 to 1 scale, their hover read-out, and the `saturated_gates` finding on the
run's Health line."""

from __future__ import annotations

import numpy as np
import pytest
from test_frontend import (
    DARK_RED,
    WHITE,
    assert_colour,
    cell,
    diverging,
    heatmap_cell_centre,
    hover_text,
    panel,
)

from tb_rnngrad import summary
from testkit.data import write_run
from testkit.plugin_page import open_plugin, redraw, show_only

pytestmark = pytest.mark.browser

TAG = "gate_activations/lstm"
GATES = ["i", "f", "o"]
T = 6
LSTM = {"name": "lstm", "layer_class": "LSTM", "units": 8}


def _fractions(closed_forget: bool) -> np.ndarray:
    """(near_0, near_1) x T x gates: the forget gate closed for every unit at
    every timestep (or not at all), the input gate open for half the units
    at timestep 2."""
    data = np.zeros((2, T, len(GATES)), np.float32)
    if closed_forget:
        data[0, :, 1] = 1.0
    data[1, 2, 0] = 0.5
    return data


def _write(logdir):
    for run, closed in (("closed", True), ("fine", False)):
        write_run(
            logdir / run,
            [
                (step, summary.gate_activations_pb(
                    TAG, _fractions(closed), gates=GATES, layer=LSTM
                ))
                for step in (0, 10, 20)
            ],
        )  # fmt: skip


@pytest.fixture(scope="module")
def tb_url(serve_logs):
    return serve_logs(_write)


def _geometry(frame):
    canvas = panel(frame).locator("canvas.rg-heatmap")
    return canvas.evaluate("c => window.rnngrad.drawn(c).geom")


def test_one_heatmap_per_band_on_a_fixed_scale_with_its_read_out(page, tb_url):
    frame = open_plugin(page, tb_url)
    show_only(frame, "closed", TAG)
    redraw(frame, lambda: frame.evaluate("window.rnngrad.set({views: ['heatmap']})"))
    p = panel(frame)
    geom = _geometry(frame)
    assert geom["titles"] == ["units near 0 (gate closed)", "units near 1 (gate open)"]
    assert geom["channelNames"] == GATES
    assert [geom["g"]["cols"], geom["g"]["rows"]] == [T, 3], "timesteps x gates"
    assert_colour(cell(frame, 4, 1, tile=0), DARK_RED, "near 0, forget gate: 1")
    assert_colour(cell(frame, 2, 0, tile=1), diverging(0.5), "near 1, input (t2): 0.5")
    assert_colour(cell(frame, 4, 0, tile=0), WHITE, "near 0, input gate: 0")
    bar = p.locator(".rg-section-heatmap canvas.rg-colorbar")
    assert [bar.get_attribute("data-lo"), bar.get_attribute("data-hi")] == ["0", "1"]
    assert p.locator(".rg-section-heatmap .rg-caption").inner_text() == (
        "Gate saturation — x: timestep, y: gate — fraction of units, near 0 and near 1"
    )
    assert p.locator(".rg-kind").inner_text() == (
        "fraction of each sigmoid gate's units near 0 (closed) and near 1 (open)"
    )
    x, y = heatmap_cell_centre(frame, 2, 0, tile=1)
    text = hover_text(frame, page, p.locator("canvas.rg-heatmap"), x, y)
    assert text.splitlines() == [
        "units near 1 (gate open)",
        "gate i",
        "timestep 2",
        "50% of units",
    ]
    assert page.dialogs == [] and page.errors == []


def test_the_health_line_reports_the_closed_forget_gate(page, tb_url):
    frame = open_plugin(page, tb_url)
    frame.wait_for_selector(".rg-check[data-health]", state="attached")
    badges = frame.locator("#rg-runs label").evaluate_all(
        "ls => Object.fromEntries(ls.map(l => "
        "[l.querySelector('input').value, l.dataset.health]))"
    )
    assert badges == {"closed": "problem", "fine": "healthy"}
    show_only(frame, "closed", TAG)
    closed = frame.locator(".rg-panel[data-run='closed']")
    assert closed.locator(".rg-health-summary").inner_text() == (
        "Health: problem (saturated_gates)"
    )
    link = closed.locator(".rg-finding-link").inner_text()
    assert link.startswith("saturated_gates in lstm, step 20, timestep 0")
    assert "forget gate f is near 0 (below 0.05) for 100% of units" in link
    assert page.errors == []
