"""End-to-end tests of the layer and quantity selectors, the state-gradient views
and their gradient horizon, and the "weight update by timestep" view, in a real
TensorBoard driven by Chromium.

A `tensorboard --load_fast=false` process serves event files holding every kind
of series, tagged as the Keras callback tags them (`quantity_logs.py`); the tests
read back the colours of canvas cells whose values they logged.
"""

from __future__ import annotations

import urllib.parse

import numpy as np
import pytest
from quantity_logs import (
    GRU_GATES,
    GRU_WEIGHTS,
    LSTM_GATES,
    LSTM_WEIGHTS,
    MARKUP,
    MARKUP_RUN,
    RUN,
    write_logs,
)
from test_frontend import (
    DARK_BLUE,
    DARK_RED,
    WHITE,
    assert_colour,
    cell,
    diverging,
    heatmap_cell_centre,
    hover_text,
    panel,
)

from testkit.plugin_page import open_plugin, redraw, show_only

pytestmark = pytest.mark.browser

QUANTITIES = {
    "gradients": "d loss / d output (later layers)",
    "state_gradients": "d loss / d state (through time)",
    "cell_state_gradients": "d loss / d cell state",
    "weight_contributions": "weight update by timestep",
    "activations": "activations",
    "input_gradients": "d loss / d model input (whole network)",
}
THRESHOLD = "(the furthest with a norm ≥ 1% of the max)"


@pytest.fixture(scope="module")
def tb_url(serve_logs):
    return serve_logs(write_logs)


def options(frame, select: str) -> list[list[str]]:
    """[value, text] of each option of a select."""
    return frame.locator(select).evaluate(
        "s => [...s.options].map(o => [o.value, o.text])"
    )


def show(frame, layer: str, quantity: str, run: str = RUN) -> None:
    """Shows one run, then a layer (by its name) and a quantity, as a user would."""
    tags = {text: value for value, text in options(frame, "#rg-tag")}
    show_only(frame, run, tags[layer])
    if frame.locator("#rg-quantity").input_value() != quantity:
        redraw(frame, lambda: frame.select_option("#rg-quantity", quantity))


def hash_state(frame) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlparse(frame.url).fragment)


def geometry(frame, view: str = "heatmap"):
    canvas = panel(frame).locator(f"canvas.rg-{view}")
    return canvas.evaluate("c => window.rnngrad.drawn(c).geom")


def server_profile(page, tb_url: str, tag: str) -> dict:
    query = urllib.parse.urlencode({"run": RUN, "tag": tag})
    return page.request.get(f"{tb_url}/data/plugin/rnngrad/profile?{query}").json()


def test_the_selectors_offer_each_layers_own_quantities(page, tb_url):
    frame = open_plugin(page, tb_url)
    show(frame, "lstm", "gradients")
    layers = [text for _, text in options(frame, "#rg-tag")]
    assert layers == [MARKUP, "bi/backward", "bi/forward", "gru", "lstm", "x"]
    lstm = ["gradients", "state_gradients", "cell_state_gradients"]
    lstm += ["weight_contributions", "activations"]
    assert options(frame, "#rg-quantity") == [[k, QUANTITIES[k]] for k in lstm]
    expected = {
        "gru": ["gradients", "state_gradients", "weight_contributions"],
        "bi/backward": ["gradients", "state_gradients"],
        "x": ["input_gradients"],
    }
    for layer, kinds in expected.items():
        show(frame, layer, kinds[0])
        assert options(frame, "#rg-quantity") == [[k, QUANTITIES[k]] for k in kinds]
    assert hash_state(frame)["tag"] == ["input_gradients/x"]
    assert page.dialogs == [] and page.errors == []


def test_switching_quantity_draws_that_tensor_and_is_kept_in_the_address(page, tb_url):
    frame = open_plugin(page, tb_url)
    show(frame, "lstm", "gradients")
    p = panel(frame)
    assert p.locator(".rg-kind").inner_text() == (
        "d loss / d layer output (paths through later layers only)"
    )
    assert_colour(cell(frame, 5, 0), DARK_RED, "d loss / d output: 1 at (t5, c0)")
    assert_colour(cell(frame, 4, 1), diverging(-0.5), "d loss / d output: -0.5")
    redraw(frame, lambda: frame.select_option("#rg-quantity", "state_gradients"))
    assert p.locator(".rg-kind").inner_text() == (
        "total d loss / d h_t (through the layer's own recurrence)"
    )
    assert p.locator(".rg-section-heatmap .rg-reading").inner_text() == (
        "Total d loss / d h_t through the layer's own recurrence: read right to "
        "left; where it fades is the layer's gradient horizon."
    )
    assert_colour(cell(frame, 2, 0), DARK_BLUE, "d loss / d h: -1 at (t2, c0)")
    assert_colour(cell(frame, 5, 2), diverging(0.5), "d loss / d h: 0.5 at (t5, c2)")
    assert_colour(cell(frame, 5, 0), WHITE, "d loss / d h: 0 where the output has 1")
    assert p.locator(".rg-section-grid").is_visible()
    grid = p.locator("canvas.rg-grid")
    ranges = grid.evaluate("c => Array.from(window.rnngrad.drawn(c).geom.ranges.hi)")
    assert ranges == [1, 1, 1, 1], "the channel grid draws d loss / d h (max 1)"
    state = hash_state(frame)
    assert state["tag"] == ["state_gradients/lstm"]
    assert state["quantity"] == ["state_gradients"]
    redraw(frame, lambda: frame.select_option("#rg-quantity", "cell_state_gradients"))
    assert_colour(cell(frame, 3, 1), DARK_RED, "d loss / d c: 2 at (t3, c1)")
    assert_colour(cell(frame, 5, 3), DARK_BLUE, "d loss / d c: -2 at (t5, c3)")
    # Another layer keeps the quantity when it has it, else shows its first.
    redraw(frame, lambda: frame.select_option("#rg-quantity", "state_gradients"))
    tags = {text: value for value, text in options(frame, "#rg-tag")}
    assert tags["gru"] == "state_gradients/gru" and tags["x"] == "input_gradients/x"
    redraw(frame, lambda: frame.select_option("#rg-tag", tags["gru"]))
    assert frame.locator("#rg-quantity").input_value() == "state_gradients"
    frame.evaluate("location.reload()")
    frame.wait_for_function(
        "() => Number(document.getElementById('rg-app')?.dataset.drawCount) > 0"
    )
    assert frame.locator("#rg-tag").input_value() == "state_gradients/gru"
    assert frame.locator("#rg-quantity").input_value() == "state_gradients"
    # An address naming only a quantity shows the first layer that has it, in the
    # first run that has it (MARKUP_RUN, the first run, has none).
    address = "quantity=cell_state_gradients"
    redraw(frame, lambda: frame.evaluate("h => { location.hash = h; }", address))
    assert frame.locator("#rg-tag").input_value() == "state_gradients/lstm/cell"
    assert frame.locator("#rg-runs input:checked").evaluate_all(
        "xs => xs.map(x => x.value)"
    ) == [RUN]
    assert_colour(cell(frame, 3, 1), DARK_RED, "d loss / d c from the address")
    assert page.dialogs == [] and page.errors == []


def test_weight_update_by_timestep_is_one_heatmap_per_weight(page, tb_url):
    frame = open_plugin(page, tb_url)
    show(frame, "lstm", "weight_contributions")
    p = panel(frame)
    geom = geometry(frame)
    assert geom["titles"] == LSTM_WEIGHTS
    assert geom["channelNames"] == LSTM_GATES
    assert [geom["g"]["cols"], geom["g"]["rows"]] == [6, 4], "timesteps x gates"
    assert len(geom["origins"]) == 3
    # Step 20, one scale over all weights: max 2.
    assert_colour(cell(frame, 3, 1, tile=1), DARK_RED, "recurrent_kernel (t3, f) = 2")
    assert_colour(cell(frame, 5, 0, tile=0), diverging(0.5), "kernel (t5, i) = 1")
    assert_colour(cell(frame, 0, 3, tile=2), diverging(0.25), "bias (t0, o) = 0.5")
    assert_colour(cell(frame, 0, 0, tile=0), WHITE, "kernel (t0, i) = 0")
    bar = p.locator(".rg-section-heatmap canvas.rg-colorbar")
    assert [bar.get_attribute("data-lo"), bar.get_attribute("data-hi")] == ["0", "2"]
    assert p.locator(".rg-section-heatmap .rg-caption").inner_text() == (
        "Weight update by timestep — x: timestep, y: gate — one per weight"
    )
    assert "in all weights" in p.locator(".rg-counts").inner_text()
    assert p.locator(".rg-section-grid").is_hidden()
    assert frame.locator("#rg-sample-mode").is_disabled()
    x, y = heatmap_cell_centre(frame, 3, 1, tile=1)
    text = hover_text(frame, page, p.locator("canvas.rg-heatmap"), x, y)
    assert text.splitlines() == [
        "weight recurrent_kernel",
        "gate f",
        "timestep 3",
        "value 2",
    ]
    # The step slider: kernel (t5, i) is 2 at step 0, the max.
    redraw(frame, lambda: frame.locator("#rg-step").fill("0"))
    assert frame.locator("#rg-step-label").inner_text() == "step 0 (1/3)"
    assert_colour(cell(frame, 5, 0, tile=0), DARK_RED, "step 0: kernel (t5, i) = 2")
    redraw(frame, lambda: frame.locator("#rg-transpose").check())
    geom = geometry(frame)
    assert [geom["g"]["cols"], geom["g"]["rows"]] == [4, 6], "gates x timesteps"
    assert_colour(cell(frame, 3, 1, tile=1), DARK_RED, "transposed: same cell")
    # GRU with reset_after: four weights, gates z, r, h.
    show(frame, "gru", "weight_contributions")
    geom = geometry(frame)
    assert [geom["titles"], geom["channelNames"]] == [GRU_WEIGHTS, GRU_GATES]
    assert_colour(cell(frame, 2, 2, tile=3), DARK_RED, "recurrent_bias (t2, h) = 1")
    assert page.dialogs == [] and page.errors == []


def test_reach_of_the_state_gradients_is_their_gradient_horizon(page, tb_url):
    frame = open_plugin(page, tb_url)
    show(frame, "lstm", "state_gradients")
    served = server_profile(page, tb_url, "state_gradients/lstm")["reach"]
    assert served == [5, 4, 3]
    p = panel(frame)
    reach = p.locator(".rg-reach")
    assert reach.inner_text() == (
        f"gradient horizon: 3 timesteps back at step 20 {THRESHOLD}"
    )
    assert "right: gradient horizon (timesteps back" in (
        p.locator(".rg-section-flow .rg-caption").inner_text()
    )
    redraw(frame, lambda: frame.locator("#rg-step").press("ArrowLeft"))
    assert reach.inner_text().startswith(
        "gradient horizon: 4 timesteps back at step 10"
    )
    redraw(frame, lambda: frame.select_option("#rg-quantity", "cell_state_gradients"))
    assert reach.inner_text().startswith("gradient horizon: ")
    redraw(frame, lambda: frame.select_option("#rg-quantity", "gradients"))
    assert reach.inner_text().startswith("reach: 1 timestep back at step 10")


def test_flow_over_training_for_state_and_weight_kinds(page, tb_url):
    frame = open_plugin(page, tb_url)
    show(frame, "lstm", "state_gradients")
    p = panel(frame)
    flow = p.locator("canvas.rg-flow")
    drawn = flow.evaluate("c => window.rnngrad.drawn(c).profile")
    served = server_profile(page, tb_url, "state_gradients/lstm")
    assert drawn["steps"] == served["steps"] == [0, 10, 20]
    assert drawn["values"] == served["values"]
    assert drawn["values"][2] == [0, 0, 1, 0, 0, 0.5]
    g = geometry(frame, "flow")["g"]
    text = hover_text(
        frame, page, flow, g["x"] + 2.5 * g["cellW"], g["y"] + 2.5 * g["cellH"]
    )
    assert text.splitlines() == [
        "step 20",
        "timestep 2",
        "norm 1",
        "gradient horizon 3 timesteps back",
    ]
    # Weights: the profile is each timestep's total share (L2 over weights, gates).
    show(frame, "lstm", "weight_contributions")
    drawn = flow.evaluate("c => window.rnngrad.drawn(c).profile")
    served = server_profile(page, tb_url, "weight_contributions/lstm")
    assert drawn["values"] == served["values"]
    np.testing.assert_allclose(drawn["values"][0], [0.5, 0, 0, 2, 0, 2])
    assert (
        p.locator(".rg-section-flow .rg-reading")
        .inner_text()
        .startswith("Each timestep's total share of the weight update")
    )
    g = geometry(frame, "flow")["g"]
    redraw(frame, lambda: flow.click(position={"x": g["x"] + 2, "y": g["y"] + 2}))
    assert frame.locator("#rg-step-label").inner_text() == "step 0 (1/3)"
    assert_colour(cell(frame, 5, 0, tile=0), DARK_RED, "step 0: kernel (t5, i) = 2")


def test_untrusted_layer_weight_and_gate_names_are_text_only(page, tb_url):
    frame = open_plugin(page, tb_url)
    show(frame, MARKUP, "weight_contributions", run=MARKUP_RUN)
    p = panel(frame)
    # The description (MARKUP), once above the panels, as text.
    assert MARKUP in frame.locator(".rg-about-text").text_content()
    x, y = heatmap_cell_centre(frame, 1, 0)
    text = hover_text(frame, page, p.locator("canvas.rg-heatmap"), x, y)
    assert text.splitlines()[:2] == [f"weight {MARKUP}", f"gate {MARKUP}"]
    assert frame.evaluate("document.querySelectorAll('img').length") == 0
    assert page.dialogs == [] and page.errors == []
