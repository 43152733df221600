"""Tests for tb_rnngrad.viz: rendered pixels, labels and input validation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from tb_rnngrad import viz
from tb_rnngrad.format import metadata, quantities
from tb_rnngrad.viz import colors

# Colour tolerance per channel (0..1) for rendered pixels: images are drawn with
# nearest-neighbour interpolation, so cell centres carry the exact colour.
TOL = 2.5 / 255


def render(figure: Figure) -> np.ndarray:
    """Draws the figure and returns its pixels as float RGBA in [0, 1]."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba(), dtype=float) / 255.0


def pixel(figure: Figure, pixels: np.ndarray, ax: Axes, x: float, y: float):
    """Returns the RGB colour rendered at data point (x, y) of `ax`."""
    px, py = ax.transData.transform((x, y))
    row = int(pixels.shape[0] - py)
    return pixels[row, int(px), :3]


def nearest_in_window(
    pixels: np.ndarray, ax: Axes, x: float, y: float, expected, radius: int = 2
) -> float:
    """Returns the smallest colour distance to `expected` within `radius` pixels.

    Lines are antialiased, so their exact colour sits somewhere across the line's
    width rather than at one computed pixel.
    """
    px, py = ax.transData.transform((x, y))
    row, column = int(pixels.shape[0] - py), int(px)
    window = pixels[
        row - radius : row + radius + 1, column - radius : column + radius + 1
    ]
    target = np.asarray(expected, dtype=float)[:3]
    return float(np.min(np.abs(window[..., :3] - target).max(axis=-1)))


def cell_color(figure: Figure, ax: Axes, t: float, c: float) -> np.ndarray:
    return pixel(figure, render(figure), ax, t, c)


def assert_color(actual: np.ndarray, expected, tol: float = TOL) -> None:
    expected_rgb = np.asarray(expected, dtype=float)[:3]
    assert np.allclose(actual, expected_rgb, atol=tol), (actual, expected_rgb)


def is_red(rgb: np.ndarray) -> bool:
    return rgb[0] > 0.35 and rgb[0] - max(rgb[1], rgb[2]) > 0.25


def is_blue(rgb: np.ndarray) -> bool:
    return rgb[2] > 0.35 and rgb[2] - rgb[0] > 0.25 and rgb[2] - rgb[1] > 0.1


def sequence_data() -> np.ndarray:
    """(2, 5, 3) data with known cells in sample 0."""
    data = np.full((2, 5, 3), 0.1, dtype=np.float32)
    data[0, 0, 0] = 2.0
    data[0, 1, 0] = -2.0
    data[0, 2, 0] = 0.0
    return data


# --- colours and scales ------------------------------------------------------


def test_heatmap_positive_red_negative_blue_zero_white():
    figure, axes = viz.heatmap(sequence_data(), samples=0)
    pixels = render(figure)
    positive = pixel(figure, pixels, axes[0], 0, 0)
    negative = pixel(figure, pixels, axes[0], 1, 0)
    zero = pixel(figure, pixels, axes[0], 2, 0)
    assert is_red(positive) and is_blue(negative)
    assert_color(positive, colors.DIVERGING_CMAP(1.0))  # +max|g| is the red end
    assert_color(negative, colors.DIVERGING_CMAP(0.0))
    assert_color(zero, (1.0, 1.0, 1.0))


def test_colormap_centre_is_exactly_white():
    assert colors.DIVERGING_CMAP(0.5) == (1.0, 1.0, 1.0, 1.0)


def test_nan_and_infinities_have_own_colours_and_are_counted():
    data = sequence_data()
    data[0, 3, 1] = np.nan
    data[0, 4, 1] = np.inf
    data[0, 4, 2] = -np.inf
    figure, axes = viz.heatmap(data, samples=[0, 1])
    pixels = render(figure)
    assert_color(pixel(figure, pixels, axes[0], 3, 1), colors.NAN_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 4, 1), colors.POSINF_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 4, 2), colors.NEGINF_COLOR)
    assert axes[0].get_title() == "sample 0 [1 NaN, 1 +Inf, 1 -Inf]"
    assert axes[1].get_title() == "sample 1"
    # Non-finite values do not stretch the auto scale: +2 is still the red end.
    assert_color(pixel(figure, pixels, axes[0], 0, 0), colors.DIVERGING_CMAP(1.0))


def test_special_colours_are_distinct_from_each_other_and_the_colormap():
    specials = [
        colors.NAN_COLOR,
        colors.POSINF_COLOR,
        colors.NEGINF_COLOR,
        colors.MASKED_COLOR,
    ]
    ramp = colors.DIVERGING_CMAP(np.linspace(0, 1, 257))[:, :3]
    for i, color in enumerate(specials):
        rgb = np.asarray(color[:3])
        assert np.min(np.abs(ramp - rgb).sum(axis=1)) > 0.3, color
        for other in specials[i + 1 :]:
            assert np.abs(rgb - np.asarray(other[:3])).sum() > 0.3


def test_masked_timestep_is_grey_and_left_out_of_scale_and_counts():
    data = sequence_data()
    data[0, 4, :] = [np.nan, 50.0, -50.0]  # garbage in a padded step
    mask = np.ones((2, 5), dtype=bool)
    mask[0, 4] = False
    figure, axes = viz.heatmap(data, samples=0, mask=mask)
    pixels = render(figure)
    for channel in range(3):
        assert_color(pixel(figure, pixels, axes[0], 4, channel), colors.MASKED_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 0, 0), colors.DIVERGING_CMAP(1.0))
    assert axes[0].get_title() == "sample 0"


def test_fixed_scale_is_symmetric_around_given_vmax():
    figure, axes = viz.heatmap(sequence_data(), samples=0, scale="fixed", vmax=4.0)
    rgb = cell_color(figure, axes[0], 0, 0)  # 2.0 of ±4 -> 3/4 along the map
    assert_color(rgb, colors.DIVERGING_CMAP(0.75), tol=6 / 255)


def test_manual_scale_keeps_zero_white_when_asymmetric():
    figure, axes = viz.heatmap(
        sequence_data(), samples=0, scale="manual", vmin=-2.0, vmax=8.0
    )
    pixels = render(figure)
    assert_color(pixel(figure, pixels, axes[0], 2, 0), (1.0, 1.0, 1.0))
    assert_color(pixel(figure, pixels, axes[0], 1, 0), colors.DIVERGING_CMAP(0.0))
    # 2.0 is a quarter of the positive half.
    expected = colors.DIVERGING_CMAP(0.5 + 0.5 * 2.0 / 8.0)
    assert_color(pixel(figure, pixels, axes[0], 0, 0), expected, tol=6 / 255)


def test_log_scale_colours_by_signed_decades_above_floor():
    data = np.zeros((1, 4, 1))
    data[0, :, 0] = [1e-1, 1e-4, -1e-4, 1e-9]
    # top = 1e-1, floor = top * 1e-6 = 1e-7; span 6 decades each side.
    figure, axes = viz.heatmap(data, scale="log")
    pixels = render(figure)
    ax = axes[0]
    assert_color(pixel(figure, pixels, ax, 0, 0), colors.DIVERGING_CMAP(1.0))
    # 1e-4 is 3 of 6 decades above the floor: three quarters along the map.
    assert_color(pixel(figure, pixels, ax, 1, 0), colors.DIVERGING_CMAP(0.75), 6 / 255)
    assert_color(pixel(figure, pixels, ax, 2, 0), colors.DIVERGING_CMAP(0.25), 6 / 255)
    assert_color(pixel(figure, pixels, ax, 3, 0), (1.0, 1.0, 1.0))  # below floor
    assert is_red(pixel(figure, pixels, ax, 1, 0))
    # On the linear auto scale the same 1e-4 is indistinguishable from white.
    figure, axes = viz.heatmap(data, scale="auto")
    assert_color(cell_color(figure, axes[0], 1, 0), (1.0, 1.0, 1.0))


def test_log_scale_with_explicit_floor_and_top():
    scale = colors.diverging_scale("log", abs_max=5.0, vmin=1e-3, vmax=1e1)
    assert scale.log_floor == 1e-3 and scale.log_top == 1e1
    transformed = scale.transform(np.array([1e-2, -1.0, 1e-5, 0.0]))
    np.testing.assert_allclose(transformed, [1.0, -3.0, 0.0, 0.0])
    ticks = scale.ticks()
    labels = [scale.tick_formatter()(t) for t in ticks]
    assert "0" in labels and "+1e+01" in labels and "-1e-02" in labels


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "fixed"}, "finite positive vmax"),
        ({"scale": "auto", "vmax": 1.0}, "vmax not used with scale='auto'"),
        ({"scale": "manual", "vmin": 1.0}, "needs both vmin and vmax"),
        ({"scale": "manual", "vmin": 2.0, "vmax": 1.0}, "vmin < vmax"),
        ({"scale": "log", "vmin": 1.0, "vmax": 0.5}, "below vmax"),
        ({"scale": "sqrt"}, "scale must be one of 'auto', 'fixed'"),
    ],
)
def test_bad_scale_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.heatmap(sequence_data(), **kwargs)


# --- bidirectional reflect, truncation, transpose ----------------------------


def bidirectional_data() -> np.ndarray:
    """(1, 5, 4): 2 units per direction; a spike at input time 1 in both halves."""
    data = np.zeros((1, 5, 4))
    data[0, 1, 0] = 1.0  # forward unit 0
    data[0, 1, 2] = 1.0  # backward unit 0, aligned to input time by Keras
    return data


def test_reflect_backward_flips_only_the_backward_half():
    figure, axes = viz.heatmap(bidirectional_data(), bidirectional=True)
    pixels = render(figure)
    assert is_red(pixel(figure, pixels, axes[0], 1, 0))
    assert is_red(pixel(figure, pixels, axes[0], 1, 2))

    figure, axes = viz.heatmap(
        bidirectional_data(), bidirectional=True, units=2, reflect_backward=True
    )
    pixels = render(figure)
    assert is_red(pixel(figure, pixels, axes[0], 1, 0))  # forward unchanged
    assert_color(pixel(figure, pixels, axes[0], 1, 2), (1.0, 1.0, 1.0))
    assert is_red(pixel(figure, pixels, axes[0], 3, 2))  # 5 - 1 - 1 = 3
    assert "reflected" in axes[0].get_xlabel()


def test_reflect_moves_the_mask_with_the_backward_half():
    mask = np.array([[False, True, True, True, True]])
    figure, axes = viz.heatmap(
        bidirectional_data(), bidirectional=True, reflect_backward=True, mask=mask
    )
    pixels = render(figure)
    assert_color(pixel(figure, pixels, axes[0], 0, 0), colors.MASKED_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 4, 3), colors.MASKED_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 0, 3), (1.0, 1.0, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reflect_backward": True}, "needs bidirectional=True"),
        ({"bidirectional": True, "units": 3}, "expects 6 channels.*got 4"),
        ({"units": 2}, "only used with bidirectional=True"),
    ],
)
def test_bidirectional_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.heatmap(bidirectional_data(), **kwargs)


def test_bidirectional_needs_even_channels_without_units():
    with pytest.raises(ValueError, match="even count; got 3 channels"):
        viz.heatmap(sequence_data(), bidirectional=True)


def test_max_timesteps_keeps_last_steps_with_true_indices():
    data = np.zeros((1, 10, 2))
    data[0, 9, 0] = 1.0
    figure, axes = viz.heatmap(data, max_timesteps=3)
    assert axes[0].get_xlim() == (6.5, 9.5)
    assert is_red(cell_color(figure, axes[0], 9, 0))


def test_transpose_puts_timesteps_on_y():
    figure, axes = viz.heatmap(sequence_data(), samples=0, transpose=True)
    pixels = render(figure)
    assert is_red(pixel(figure, pixels, axes[0], 0, 0))  # (channel 0, t 0)
    assert is_blue(pixel(figure, pixels, axes[0], 0, 1))  # (channel 0, t 1)
    assert axes[0].get_xlabel() == "channel" and axes[0].get_ylabel() == "timestep"


def test_one_panel_per_sample_in_given_order():
    figure, axes = viz.heatmap(sequence_data(), samples=[1, 0], colorbar=False)
    assert [ax.get_title() for ax in axes] == ["sample 1", "sample 0"]
    assert len(figure.axes) == 2  # no colour bar


# --- titles are plain text ---------------------------------------------------


UNTRUSTED = "run $x$ <b>bold</b> <script>alert(1)</script> cost $5"


@pytest.mark.parametrize(
    "draw",
    [
        lambda title: viz.heatmap(sequence_data(), title=title),
        lambda title: viz.channel_grid(sequence_data(), title=title),
        lambda title: viz.scatter0d(sequence_data()[:, -1], title=title),
        lambda title: viz.flow(np.ones((2, 3)), np.array([0, 1]), title=title),
        lambda title: viz.band_histogram(sequence_data(), title=title),
        lambda title: viz.weight_contributions(
            np.ones((1, 2, 1)), ["w"], ["g"], title=title
        ),
    ],
)
def test_titles_are_rendered_literally(draw):
    figure, _ = draw(UNTRUSTED)
    text = figure.get_suptitle()
    assert text in (UNTRUSTED, f"{UNTRUSTED} · weight update by timestep")
    title = figure._suptitle
    assert title.get_parse_math() is False and title.get_usetex() is False
    render(figure)  # an unbalanced "$" would fail here if parsed as mathtext


# --- channel grid -------------------------------------------------------------


def test_channel_grid_colours_per_sample_match_across_charts():
    data = np.random.default_rng(0).normal(size=(3, 6, 4))
    figure, axes = viz.channel_grid(data, samples=[2, 0], channels=[3, 1, 0])
    assert len(axes) == 3
    assert [ax.get_title() for ax in axes] == ["ch 3", "ch 1", "ch 0"]
    per_chart = [[line.get_color() for line in ax.get_lines()[:2]] for ax in axes]
    assert all(chart == per_chart[0] for chart in per_chart)
    assert per_chart[0][0] != per_chart[0][1]
    assert per_chart[0] == [colors.sample_color(0), colors.sample_color(1)]
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), data[2, :, 3])
    legend_texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend_texts == ["sample 2", "sample 0"]


def test_channel_grid_line_pixels_have_the_sample_colour():
    data = np.zeros((2, 4, 2))
    data[0] = 1.0
    data[1] = -1.0
    figure, axes = viz.channel_grid(data, sharey=True)
    figure.set_dpi(300)  # lines several pixels wide: some fully covered pixels
    pixels = render(figure)
    for ax in axes:
        for y, position in ((1.0, 0), (-1.0, 1)):
            expected = colors.sample_color(position)
            assert nearest_in_window(pixels, ax, 1.5, y, expected) < 4 / 255


def test_channel_grid_counts_and_marks_nonfinite_values():
    data = np.zeros((1, 4, 2))
    data[0, 1, 1] = np.nan
    data[0, 2, 1] = np.inf
    figure, axes = viz.channel_grid(data)
    assert axes[1].get_title() == "ch 1 [1 NaN, 1 +Inf]"
    marker_colors = [line.get_color() for line in axes[1].get_lines()[1:]]
    assert colors.NAN_COLOR in marker_colors and colors.POSINF_COLOR in marker_colors


def test_channel_grid_reflect_and_bidirectional_labels():
    figure, axes = viz.channel_grid(
        bidirectional_data(), bidirectional=True, reflect_backward=True
    )
    assert [ax.get_title() for ax in axes] == [
        "fwd 0",
        "fwd 1",
        "bwd 0 (ch 2)",
        "bwd 1 (ch 3)",
    ]
    np.testing.assert_array_equal(axes[0].get_lines()[0].get_ydata(), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(axes[2].get_lines()[0].get_ydata(), [0, 0, 0, 1, 0])


def test_channel_grid_of_64_channels_is_8_by_8():
    figure, axes = viz.channel_grid(np.zeros((1, 3, 64)))
    assert len(axes) == 64
    rows = {round(ax.get_position().y0, 3) for ax in axes}
    columns = {round(ax.get_position().x0, 3) for ax in axes}
    assert (len(rows), len(columns)) == (8, 8)
    assert tuple(figure.get_size_inches()) == (8 * 2.4, 8 * 1.6)


def test_channel_grid_shades_masked_timesteps_and_leaves_them_out():
    data = np.zeros((2, 5, 1))
    data[:, 4] = [[np.nan], [50.0]]  # garbage in padded steps
    data[0, 3] = 1.0
    mask = np.ones((2, 5), dtype=bool)
    mask[:, 4] = False  # padding in both samples: shaded
    mask[1, 3] = False  # padding in one sample: its line stops, no shade
    figure, axes = viz.channel_grid(data, mask=mask)
    pixels = render(figure)
    ax = axes[0]
    assert_color(pixel(figure, pixels, ax, 4, 0.5), colors.MASKED_COLOR)
    assert_color(pixel(figure, pixels, ax, 3, 0.5), (1.0, 1.0, 1.0))
    assert ax.get_title() == "ch 0"
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [0, 0, 0, 1, np.nan])
    np.testing.assert_array_equal(lines[1].get_ydata(), [0, 0, 0, np.nan, np.nan])
    assert ax.get_ylim()[1] < 2  # 50.0 is left out


def test_channel_grid_refuses_too_many_charts_with_advice():
    with pytest.raises(ValueError, match=r"65 channels are selected.*channels="):
        viz.channel_grid(np.zeros((1, 2, 65)))


# --- 0D scatter ---------------------------------------------------------------


def test_scatter0d_one_colour_per_sample():
    data = np.array([[1.0, 2.0, 3.0], [-1.0, np.nan, -3.0]])
    figure, ax = viz.scatter0d(data)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 2
    for position, collection in enumerate(points):
        face = collection.get_facecolor()[0]
        assert_color(face[:3], colors.sample_color(position))
    np.testing.assert_allclose(points[0].get_offsets()[:, 1], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(points[1].get_offsets()[:, 1], [-1.0, -3.0])
    assert ax.get_title() == "gradient per channel [1 NaN]"


def test_scatter0d_rejects_sequences_with_a_hint():
    with pytest.raises(ValueError, match="2-D array.*got shape.*use heatmap"):
        viz.scatter0d(sequence_data())


# --- gradient flow over training ---------------------------------------------


def test_flow_image_rows_are_training_steps_increasing_downward_as_in_the_tab():
    steps = np.array([0, 100, 200, 300])
    profiles = np.full((4, 5), 1e-3)
    profiles[2, :] = 1.0  # step 200 is hot everywhere
    figure, axes = viz.flow(profiles, steps, reach=np.array([1.0, 2, 3, 4]))
    pixels = render(figure)
    image = axes[0]
    top_color = colors.SEQUENTIAL_CMAP(1.0)
    bottom_color = colors.SEQUENTIAL_CMAP(0.0)
    assert_color(pixel(figure, pixels, image, 2, 200), top_color)
    for y in (25, 100, 275):  # inside the rows of steps 0, 100, 300
        assert_color(pixel(figure, pixels, image, 2, y), bottom_color)
    # Later steps are drawn further down, the first logged step on top (the tab).
    y_first = image.transData.transform((0, 0))[1]
    y_last = image.transData.transform((0, 300))[1]
    assert y_last < y_first
    # The reach curve shares the step axis.
    line = axes[1].get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), steps)
    assert axes[1].get_ylim() == image.get_ylim()


def test_flow_columns_are_timesteps_and_log_scale_spans_decades():
    profiles = np.array([[1e-4, 1e-2, 1.0], [1e-4, 1e-2, 1.0]])
    figure, axes = viz.flow(profiles, np.array([5, 10]))
    pixels = render(figure)
    # log: 1e-2 sits halfway between 1e-4 and 1 (the colour at 0.5).
    assert_color(
        pixel(figure, pixels, axes[0], 1, 6), colors.SEQUENTIAL_CMAP(0.5), 6 / 255
    )
    assert_color(pixel(figure, pixels, axes[0], 0, 6), colors.SEQUENTIAL_CMAP(0.0))
    assert_color(pixel(figure, pixels, axes[0], 2, 9), colors.SEQUENTIAL_CMAP(1.0))
    assert len(axes) == 1


@pytest.mark.parametrize(
    ("steps", "limits", "ticks"),
    [
        ([7], (7.5, 6.5), [7]),  # first step on top, as in the tab
        ([0, 100], (100, 0), [0, 100]),
        (
            list(range(0, 2000, 100)),
            (1900, 0),
            list(range(0, 1900, 300)),
        ),
    ],
)
def test_flow_step_axis_spans_exactly_the_logged_steps(steps, limits, ticks):
    steps = np.array(steps)
    reach = np.ones(steps.size)
    figure, axes = viz.flow(np.ones((steps.size, 3)), steps, reach=reach)
    assert axes[0].get_ylim() == limits
    assert axes[1].get_ylim() == limits
    np.testing.assert_array_equal(axes[0].get_yticks(), ticks)
    render(figure)  # layout keeps the limits
    assert axes[0].get_ylim() == limits


def test_flow_nonfinite_and_zero_cells():
    profiles = np.array([[1.0, np.nan, np.inf, 0.0, 1e-2]])
    figure, axes = viz.flow(profiles, np.array([7]))
    pixels = render(figure)
    assert_color(pixel(figure, pixels, axes[0], 1, 7), colors.NAN_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 2, 7), colors.POSINF_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 3, 7), colors.SEQUENTIAL_CMAP(0.0))
    assert axes[0].get_title() == "per-timestep gradient norm [1 NaN, 1 +Inf]"


@pytest.mark.parametrize(
    ("profiles", "steps", "error", "message"),
    [
        (-np.ones((2, 3)), [0, 1], ValueError, "must be >= 0; got -1"),
        (np.ones((2, 3)), [1, 0], ValueError, "strictly increasing.*np.argsort"),
        (np.ones((2, 3)), [0.0, 1.0], TypeError, "steps must be integers"),
        (np.ones((2, 3)), [0, 1, 2], ValueError, r"shape \(n_steps,\) = \(2,\)"),
        (np.ones(3), [0], ValueError, "2-D array"),
    ],
)
def test_flow_validates_inputs(profiles, steps, error, message):
    with pytest.raises(error, match=message):
        viz.flow(profiles, np.asarray(steps))


def test_flow_validates_reach_and_scale():
    with pytest.raises(ValueError, match="reach must have shape"):
        viz.flow(np.ones((2, 3)), np.array([0, 1]), reach=np.ones(3))
    with pytest.raises(ValueError, match=">= 0"):
        viz.flow(np.ones((2, 3)), np.array([0, 1]), reach=np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="'log', 'linear'"):
        viz.flow(np.ones((2, 3)), np.array([0, 1]), scale="sqrt")


# --- band histogram -----------------------------------------------------------


def test_band_histogram_one_line_per_band_with_fractions():
    data = np.zeros((2, 8, 3))
    data[:, :4] = 0.5  # first band: all values 0.5
    data[:, 4:] = -0.5
    data[0, 7, 0] = np.nan
    figure, ax = viz.band_histogram(data, bands=2, bins=4)
    stairs = ax.patches
    assert len(stairs) == 2
    first, second = (s.get_data() for s in stairs)
    np.testing.assert_allclose(first.edges, [-0.5, -0.25, 0.0, 0.25, 0.5])
    np.testing.assert_allclose(first.values, [0, 0, 0, 1.0])
    np.testing.assert_allclose(second.values, [1.0, 0, 0, 0])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["t 0-3", "t 4-7 [1 NaN]"]


def test_band_histogram_log_scale_bins_magnitudes():
    data = np.zeros((1, 4, 1))
    data[0, :, 0] = [1e-6, 1e-3, 1.0, 0.0]
    figure, ax = viz.band_histogram(data, bands=4, bins=8, scale="log")
    edges = ax.patches[0].get_data().edges
    np.testing.assert_allclose(edges[[0, -1]], [-8.0, 0.0])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[3] == "t 3-3 (1 below range)"


def test_band_histogram_validates_bands():
    with pytest.raises(ValueError, match="bands=9 is more than the 8 timesteps"):
        viz.band_histogram(np.zeros((1, 8, 1)), bands=9)
    with pytest.raises(TypeError, match="bins must be a positive integer"):
        viz.band_histogram(np.zeros((1, 8, 1)), bins=2.5)


# --- weight contributions -------------------------------------------------------


WEIGHTS = ["kernel", "recurrent_kernel", "bias"]
GATES = ["i", "f", "c", "o"]


def weight_data() -> np.ndarray:
    """(3 weights, 6 timesteps, 4 gates) of zeros with known cells."""
    data = np.zeros((3, 6, 4))
    data[0, 3, 1] = 2.0  # kernel, timestep 3, gate f: the largest norm
    data[1, 5, 0] = 1.0  # recurrent_kernel, timestep 5, gate i: half of it
    data[2, 0, 3] = np.nan  # bias, timestep 0, gate o
    data[2, 1, 2] = np.inf  # bias, timestep 1, gate c
    return data


def test_weight_contributions_one_panel_per_weight_gate_names_on_y():
    figure, axes = viz.weight_contributions(weight_data(), WEIGHTS, GATES)
    assert len(axes) == 3
    assert [ax.get_title() for ax in axes] == [
        "kernel",
        "recurrent_kernel",
        "bias [1 NaN, 1 +Inf]",
    ]
    for ax in axes:
        assert [t.get_text() for t in ax.get_yticklabels()] == GATES
        assert ax.get_ylabel() == "gate"
        assert ax.get_ylim() == (3.5, -0.5)  # first gate at the top
        assert ax.get_xlim() == (-0.5, 5.5)
    assert axes[-1].get_xlabel() == "timestep"
    assert figure.get_suptitle() == "weight update by timestep"
    assert figure.axes[-1].get_ylabel() == "weight-update norm"


def test_weight_contributions_cells_have_the_palette_colours():
    figure, axes = viz.weight_contributions(weight_data(), WEIGHTS, GATES)
    pixels = render(figure)
    # One linear scale shared by all panels, 0 to the largest finite norm (2).
    assert_color(pixel(figure, pixels, axes[0], 3, 1), colors.SEQUENTIAL_CMAP(1.0))
    assert_color(pixel(figure, pixels, axes[0], 3, 0), colors.SEQUENTIAL_CMAP(0.0))
    assert_color(
        pixel(figure, pixels, axes[1], 5, 0), colors.SEQUENTIAL_CMAP(0.5), 6 / 255
    )
    assert_color(pixel(figure, pixels, axes[2], 0, 3), colors.NAN_COLOR)
    assert_color(pixel(figure, pixels, axes[2], 1, 2), colors.POSINF_COLOR)


def test_weight_contributions_log_scale_and_last_timesteps():
    data = np.zeros((1, 5, 2))
    data[0, 2:, 0] = [1e-4, 1e-2, 1.0]
    figure, axes = viz.weight_contributions(
        data, ["kernel"], ["z", "h"], scale="log", max_timesteps=3, title="run"
    )
    pixels = render(figure)
    assert axes[0].get_xlim() == (1.5, 4.5)
    # log: 1e-2 sits halfway between 1e-4 and 1.
    assert_color(
        pixel(figure, pixels, axes[0], 3, 0), colors.SEQUENTIAL_CMAP(0.5), 6 / 255
    )
    assert_color(pixel(figure, pixels, axes[0], 2, 1), colors.SEQUENTIAL_CMAP(0.0))
    assert figure.get_suptitle() == "run · weight update by timestep"
    assert figure.axes[-1].get_ylabel() == "weight-update norm (log)"


@pytest.mark.parametrize(
    ("data", "weights", "gates", "message"),
    [
        (np.ones((3, 6, 4)), WEIGHTS[:2], GATES, r"weights must be 3 strings.*axis 0"),
        (np.ones((3, 6, 4)), WEIGHTS, "ifco", r"gates must be 4 strings.*axis 2"),
        (np.ones((3, 6, 4)), WEIGHTS, [1, 2, 3, 4], "gates must be 4 strings"),
        (-np.ones((3, 6, 4)), WEIGHTS, GATES, r"norms and must be >= 0; got -1"),
        (np.ones((6, 4)), WEIGHTS, GATES, r"3-D array \(weights, timesteps, gates\)"),
    ],
)
def test_weight_contributions_checks_data_and_names(data, weights, gates, message):
    with pytest.raises(ValueError, match=message):
        viz.weight_contributions(data, weights, gates)


def test_weight_contributions_checks_scale():
    with pytest.raises(ValueError, match="'log', 'linear'"):
        viz.weight_contributions(weight_data(), WEIGHTS, GATES, scale="auto")


# --- the quantity each view names ------------------------------------------------


def test_quantity_labels_are_the_tabs_and_cover_every_kind():
    labels = {kind: q.label for kind, q in quantities.QUANTITIES.items()}
    assert labels == {
        "gradients": "d loss / d output (later layers)",
        "state_gradients": "d loss / d state (through time)",
        "cell_state_gradients": "d loss / d cell state",
        "weight_contributions": "weight update by timestep",
        "input_gradients": "d loss / d model input (whole network)",
        "activations": "activations",
        "weights": "weights, gate by gate",
        "weight_gradients": "d loss / d weight, gate by gate",
        "gate_activations": "gate saturation (units near 0 / near 1)",
    }
    assert set(labels) == set(metadata.KINDS)


@pytest.mark.parametrize(
    "draw",
    [
        lambda kind: viz.heatmap(sequence_data(), kind=kind, title="r / t"),
        lambda kind: viz.channel_grid(sequence_data(), kind=kind, title="r / t"),
        lambda kind: viz.scatter0d(sequence_data()[:, -1], kind=kind, title="r / t"),
        lambda kind: viz.band_histogram(sequence_data(), kind=kind, title="r / t"),
        lambda kind: viz.flow(
            np.ones((2, 3)), np.array([0, 1]), kind=kind, title="r / t"
        ),
    ],
)
@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("gradients", "d loss / d output (later layers)"),
        ("state_gradients", "d loss / d state (through time)"),
        ("cell_state_gradients", "d loss / d cell state"),
    ],
)
def test_views_name_the_quantity_of_the_kind(draw, kind, label):
    figure, _ = draw(kind)
    assert figure.get_suptitle() == f"r / t · {label}"


def test_views_without_kind_or_title_have_no_title():
    figure, _ = viz.heatmap(sequence_data())
    assert figure.get_suptitle() == ""
    figure, _ = viz.heatmap(sequence_data(), kind="state_gradients")
    assert figure.get_suptitle() == "d loss / d state (through time)"


def test_flow_calls_the_reach_of_state_kinds_gradient_horizon():
    profiles, steps, reach = np.ones((2, 3)), np.array([0, 1]), np.array([1, 2])
    titles = {}
    for kind in ("state_gradients", "cell_state_gradients", "gradients", None):
        _, axes = viz.flow(profiles, steps, reach=reach, kind=kind)
        titles[kind] = axes[1].get_title()
    assert titles == {
        "state_gradients": "gradient horizon",
        "cell_state_gradients": "gradient horizon",
        "gradients": "gradient reach",
        None: "gradient reach",
    }


def test_flow_of_weight_contributions_names_weight_update_norms():
    figure, axes = viz.flow(
        np.ones((2, 3)), np.array([0, 1]), kind="weight_contributions"
    )
    assert axes[0].get_title() == "per-timestep weight-update norm"
    assert figure.axes[-1].get_ylabel() == "weight-update norm (log)"
    assert figure.get_suptitle() == "weight update by timestep"


@pytest.mark.parametrize(
    "draw",
    [
        lambda kind: viz.heatmap(sequence_data(), kind=kind),
        lambda kind: viz.channel_grid(sequence_data(), kind=kind),
        lambda kind: viz.scatter0d(sequence_data()[:, -1], kind=kind),
        lambda kind: viz.band_histogram(sequence_data(), kind=kind),
    ],
)
def test_per_sample_views_send_weight_contributions_to_their_view(draw):
    with pytest.raises(ValueError, match=r"viz\.weight_contributions\(data"):
        draw("weight_contributions")


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(ValueError, match="heatmap: kind must be one of 'gradients'"):
        viz.heatmap(sequence_data(), kind="gradient")


# --- input validation ---------------------------------------------------------


def test_integer_data_is_rejected_with_advice():
    with pytest.raises(
        TypeError, match=r"real floating-point.*int64.*dtype=np\.float32"
    ):
        viz.heatmap(np.zeros((1, 2, 3), dtype=np.int64))


def test_complex_data_is_rejected():
    with pytest.raises(TypeError, match="complex128"):
        viz.heatmap(np.zeros((1, 2, 3), dtype=complex))


def test_wrong_rank_names_the_expected_shape_and_the_other_view():
    with pytest.raises(
        ValueError,
        match=r"3-D array \(batch, timesteps, channels\).*"
        r"got shape \(2, 3\).*use scatter0d",
    ):
        viz.heatmap(np.zeros((2, 3)))


def test_empty_axis_is_rejected():
    with pytest.raises(ValueError, match="empty axis"):
        viz.heatmap(np.zeros((1, 0, 3)))


@pytest.mark.parametrize(
    ("samples", "error", "message"),
    [
        (2, ValueError, r"index 2 is out of range for data with batch=2"),
        ([0, -1], ValueError, r"index -1 is out of range.*\[0, 2\)"),
        ([0.5], TypeError, "samples must be integers"),
        (True, TypeError, "samples must be integers"),
        ([], ValueError, "samples is empty"),
    ],
)
def test_sample_indices_are_checked(samples, error, message):
    with pytest.raises(error, match=message):
        viz.heatmap(sequence_data(), samples=samples)


def test_mask_is_checked():
    with pytest.raises(TypeError, match="boolean.*np.asarray\\(mask, dtype=bool\\)"):
        viz.heatmap(sequence_data(), mask=np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"\(2, 5\) to match data; got \(5,\)"):
        viz.heatmap(sequence_data(), mask=np.ones(5, dtype=bool))


def test_max_timesteps_is_checked():
    with pytest.raises(ValueError, match="max_timesteps must be at least 1"):
        viz.heatmap(sequence_data(), max_timesteps=0)


def test_half_precision_inputs_are_accepted():
    figure, axes = viz.heatmap(sequence_data().astype(np.float16), samples=0)
    assert is_red(cell_color(figure, axes[0], 0, 0))
    ml_dtypes = pytest.importorskip("ml_dtypes")
    figure, axes = viz.heatmap(sequence_data().astype(ml_dtypes.bfloat16), samples=0)
    assert is_red(cell_color(figure, axes[0], 0, 0))


# --- no global state ------------------------------------------------------------


def test_import_touches_neither_pyplot_nor_tensorflow():
    code = (
        "import sys, tb_rnngrad.viz as v, numpy as np;"
        "v.heatmap(np.ones((1, 2, 2)));"
        "print('matplotlib.pyplot' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stdout.split() == ["False", "False"]


def test_figures_have_their_own_agg_canvas():
    figure, _ = viz.heatmap(sequence_data())
    assert isinstance(figure.canvas, FigureCanvasAgg)


@pytest.mark.parametrize("length", [20, 90, 110])
def test_a_long_figure_title_fits_the_figure_width(length):
    data = np.random.default_rng(0).standard_normal((2, 30, 4)).astype(np.float32)
    fig, _ = viz.heatmap(data, title="x" * length, kind="state_gradients")
    renderer = FigureCanvasAgg(fig).get_renderer()
    title = fig._suptitle
    assert title.get_window_extent(renderer).width <= fig.bbox.width
    assert (title.get_fontsize() == 12.0) == (length == 20)
    assert title.get_fontsize() >= 6.0


# --- norm history (no time axis) ----------------------------------------------


def test_norm_history_draws_norms_over_steps_and_says_there_is_no_time_axis():
    norms = np.array([[1.0], [np.nan], [1e-3], [np.inf]])
    figure, ax = viz.norm_history(norms, np.array([0, 5, 10, 20]), kind="gradients")
    [line, inf_marks, nan_marks] = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 5, 10, 20])
    np.testing.assert_array_equal(line.get_ydata(), [1.0, np.nan, 1e-3, np.nan])
    assert nan_marks.get_color() == colors.NAN_COLOR
    assert inf_marks.get_color() == colors.POSINF_COLOR
    assert ax.get_title() == (
        "no time axis: (batch, channels) data, one norm per step [1 NaN, 1 +Inf]"
    )
    assert ax.get_yscale() == "log"
    assert figure.get_suptitle() == "d loss / d output (later layers)"


def test_norm_history_of_a_zero_norm_is_linear_and_refuses_a_time_axis():
    _, ax = viz.norm_history(np.array([0.0, 2.0]), np.array([0, 1]))
    assert ax.get_yscale() == "linear"
    with pytest.raises(ValueError, match="one value per step.*use viz.flow"):
        viz.norm_history(np.ones((2, 3)), np.array([0, 1]))


def test_gate_activations_draw_as_weight_panels_named_by_their_kind():
    data = np.zeros((2, 5, 3), np.float32)
    data[0, :, 1] = 1.0
    fig, axes = viz.weight_contributions(
        data, ["near_0", "near_1"], ["i", "f", "o"], kind="gate_activations"
    )
    assert fig._suptitle.get_text() == "gate saturation (units near 0 / near 1)"
    assert [ax.get_title() for ax in axes] == ["near_0", "near_1"]
    with pytest.raises(ValueError, match="kind must be one of"):
        viz.weight_contributions(data, ["a", "b"], ["i", "f", "o"], kind="nope")
