"""viz.weights_heatmap and viz.weights_histogram: the Weights view offline."""

from __future__ import annotations

import numpy as np
import pytest

from tb_rnngrad import viz
from tb_rnngrad.viz import colors
from tests.test_viz import assert_color, is_red, pixel, render

GATES = ["i", "f", "c", "o"]


def kernel() -> np.ndarray:
    """(3, 8): gate g's block holds (g + 1) * (row - 1) / 4 around 0; (1, 3) NaN,
    (2, 6) +Inf, (0, 1) -Inf."""
    m = np.zeros((3, 8), np.float32)
    for g in range(4):
        for r in range(3):
            m[r, 2 * g : 2 * g + 2] = (g + 1) * (r - 1) / 4
    m[1, 3] = np.nan
    m[2, 6] = np.inf
    m[0, 1] = -np.inf
    return m


def test_heatmap_one_panel_per_gate_in_order_with_direction():
    figure, axes = viz.weights_heatmap(
        kernel(), GATES, kind="weights", direction="backward", row_label="unit"
    )
    assert [ax.get_title() for ax in axes] == [
        "gate i (bwd) [1 -Inf]",
        "gate f (bwd) [1 NaN]",
        "gate c (bwd)",
        "gate o (bwd) [1 +Inf]",
    ]
    assert axes[0].get_ylabel() == "unit" and axes[0].get_xlabel() == "unit"
    assert figure.get_suptitle() == "weights, gate by gate"


def test_heatmap_cells_are_the_gate_blocks_in_the_palette():
    data = kernel()
    figure, axes = viz.weights_heatmap(data, GATES)
    pixels = render(figure)
    # (x = unit in the gate, y = row)
    assert_color(pixel(figure, pixels, axes[1], 1, 1), colors.NAN_COLOR)
    assert_color(pixel(figure, pixels, axes[3], 0, 2), colors.POSINF_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 1, 0), colors.NEGINF_COLOR)
    assert_color(pixel(figure, pixels, axes[2], 0, 1), colors.DIVERGING_CMAP(0.5))
    # gate o row 2 unit 1 is 1.0, the largest finite |w|: the reddest colour
    assert_color(pixel(figure, pixels, axes[3], 1, 2), colors.DIVERGING_CMAP(1.0))
    # gate i row 2 is 0.25 of it on the shared scale
    assert_color(pixel(figure, pixels, axes[0], 0, 2), colors.DIVERGING_CMAP(0.625))


def test_per_gate_scale_gives_each_gate_its_full_range():
    data = kernel()
    figure, axes = viz.weights_heatmap(data, GATES, scale="gate")
    pixels = render(figure)
    assert_color(pixel(figure, pixels, axes[0], 0, 2), colors.DIVERGING_CMAP(1.0))
    assert_color(pixel(figure, pixels, axes[1], 0, 0), colors.DIVERGING_CMAP(0.0))
    assert axes[0].get_title().startswith("gate i ±0.25")
    assert len(figure.axes) == 4, "no shared colour bar"
    shared, _ = viz.weights_heatmap(data, GATES)
    assert len(shared.axes) == 5


def test_bias_is_one_row():
    figure, axes = viz.weights_heatmap(
        np.array([0.0, 1.0, -1.0], np.float32), "zrh"[:1]
    )
    assert axes[0].images[0].get_array().shape[:2] == (1, 3)
    assert is_red(pixel(figure, render(figure), axes[0], 1, 0))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: viz.weights_heatmap(np.zeros((2, 6)), GATES), "6 columns"),
        (lambda: viz.weights_heatmap(np.zeros((2, 8)), GATES, scale="x"), "scale"),
        (lambda: viz.weights_heatmap(np.zeros((2, 8), int), GATES), "floating"),
        (lambda: viz.weights_heatmap(np.zeros((2, 8)), []), "gate names"),
        (lambda: viz.weights_histogram(np.zeros((2, 8)), GATES), "3-D"),
        (lambda: viz.weights_histogram(np.zeros((2, 2, 8)), GATES, [1]), "one step"),
    ],
)
def test_bad_input_says_what_to_pass(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_histogram_stack_heights_are_the_gate_histograms():
    rng = np.random.default_rng(0)
    series = rng.standard_normal((3, 5, 8)).astype(np.float32)
    series[1, 0, 2] = np.nan  # left out of gate f's histogram
    steps = [0, 10, 20]
    figure, axes = viz.weights_histogram(series, GATES, steps, bins=6, kind="weights")
    assert [ax.get_title() for ax in axes] == [f"gate {g}" for g in GATES]
    blocks = series[:, :, 2:4]  # gate f
    finite = blocks[np.isfinite(blocks)]
    edges = np.linspace(finite.min(), finite.max(), 7)
    counts = np.stack([np.histogram(b[np.isfinite(b)], edges)[0] for b in blocks])
    assert counts[1].sum() == 9
    curves = axes[1].collections
    assert len(curves) == 3
    for i, curve in enumerate(curves):
        top = curve.get_paths()[0].vertices[:, 1].max()
        base = 2 - i  # oldest at the top
        assert top == pytest.approx(base + counts[i].max() / counts.max() * 4.0)
    labels = [t.get_text() for t in axes[1].get_yticklabels()]
    assert dict(zip(axes[1].get_yticks(), labels, strict=True)) == {
        2: "step 0",
        0: "step 20",
    }
    render(figure)
