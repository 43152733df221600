"""The tab and the matplotlib exports draw with one palette (frontend/palette.json).

`tb_rnngrad.viz.colors` reads the file; the tab's colours are evaluated through
Node (`tests/js/palette_probe.mjs`) and compared with the exports' at the same
points: both maps, the special colours, the sample colours and the log ranges.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import colors as mcolors

from tb_rnngrad.viz import colors

REPO = Path(__file__).resolve().parents[1]
PALETTE = json.loads((REPO / "frontend" / "palette.json").read_text(encoding="utf-8"))
#: Value lists whose flow-view log range both sides compute.
FLOW_CASES = [
    [1e-3, 10.0, math.nan, 0.0, math.inf],
    [5.0, 5.0],
    [0.0, 0.0],
    [1e-30, 1.0],
    [2e-7, 3e-2, 4.5],
    [],
]


def rgb255(rgba) -> list[int]:
    return [round(c * 255) for c in rgba[:3]]


def js_number(value: float) -> str:
    """`value` as JavaScript's Number() reads it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


@pytest.fixture(scope="module")
def tab():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the tab's side runs in node)")
    cases = json.dumps([[js_number(v) for v in case] for case in FLOW_CASES])
    done = subprocess.run(
        [node, str(REPO / "tests" / "js" / "palette_probe.mjs")],
        input=cases,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_viz_reads_the_palette_file():
    assert colors.PALETTE_FILE.read_text(encoding="utf-8") == (
        REPO / "frontend" / "palette.json"
    ).read_text(encoding="utf-8")
    special = PALETTE["special"]
    assert colors.NAN_COLOR == mcolors.to_rgba(special["nan"])
    assert colors.POSINF_COLOR == mcolors.to_rgba(special["pos_inf"])
    assert colors.NEGINF_COLOR == mcolors.to_rgba(special["neg_inf"])
    assert colors.MASKED_COLOR == mcolors.to_rgba(special["masked"])
    assert colors.DIVERGING_CMAP(0.0) == mcolors.to_rgba(PALETTE["diverging"][0])
    assert colors.DIVERGING_CMAP(0.5) == (1.0, 1.0, 1.0, 1.0)
    assert colors.SEQUENTIAL_CMAP(1.0) == mcolors.to_rgba(PALETTE["sequential"][-1])
    assert colors.LOG_DECADES_DEFAULT == PALETTE["log_decades"]["signed"]


def test_sequential_map_is_viridis_within_3_levels():
    from matplotlib import colormaps

    x = np.linspace(0.0, 1.0, 1001)
    ours = colors.SEQUENTIAL_CMAP(x)[:, :3]
    assert np.abs(ours - colormaps["viridis"](x)[:, :3]).max() <= 3 / 255


def test_tab_and_exports_draw_the_same_maps(tab):
    # Diverging: the colour at each of the exports' 257 LUT positions.
    exports = colors.DIVERGING_CMAP(np.arange(257))[:, :3] * 255
    assert np.abs(np.asarray(tab["diverging"]) - exports).max() <= 0.5 + 1e-9
    # Sequential: the tab's LUT entry by entry (both 256 entries on 0..1).
    exports = colors.SEQUENTIAL_CMAP(np.arange(256))[:, :3] * 255
    assert np.abs(np.asarray(tab["sequential"]) - exports).max() <= 0.5 + 1e-9


def test_tab_and_exports_draw_the_same_special_and_sample_colours(tab):
    special = tab["special"]
    assert special["nan"] == rgb255(colors.NAN_COLOR)
    assert special["posInf"] == rgb255(colors.POSINF_COLOR)
    assert special["negInf"] == rgb255(colors.NEGINF_COLOR)
    assert special["masked"] == rgb255(colors.MASKED_COLOR)
    for position, hex_colour in enumerate(tab["samples"]):
        assert mcolors.to_rgba(hex_colour) == colors.sample_color(position), position


def test_tab_and_exports_use_the_same_log_ranges(tab):
    signed = colors.diverging_scale("log", abs_max=1.0, vmin=None, vmax=None)
    assert tab["signedLoLog"] == pytest.approx(math.log10(signed.log_floor))
    for values, drawn in zip(FLOW_CASES, tab["flowRanges"], strict=True):
        norm = colors.norm_scale("log", values=np.asarray(values, dtype=float)).norm
        assert [drawn["loLog"], drawn["hiLog"]] == pytest.approx(
            [math.log10(norm.vmin), math.log10(norm.vmax)], abs=1e-9
        ), values
