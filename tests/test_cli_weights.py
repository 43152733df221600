"""`tb-rnngrad export --view weights` on logged weight matrices."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import image

from tb_rnngrad import cli, summary
from tb_rnngrad.cli import export as cli_export
from tb_rnngrad.viz import colors
from testkit.data import write_run

STEPS = (0, 10, 20)
GATES = ("z", "r", "h")
BI = {"name": "bi", "layer_class": "GRU", "units": 2, "bidirectional": True}
TAG = "weights/bi/backward/recurrent_kernel"


def _kernel(step: int) -> np.ndarray:
    """(2, 6): column c of row r holds (c - 3 + r) * (1 + step / 10) / 8; (1, 2)
    is NaN at step 20."""
    m = (np.arange(6)[None, :] - 3 + np.arange(2)[:, None]) * (1 + step / 10) / 8
    m = m.astype(np.float32)
    if step == 20:
        m[1, 2] = np.nan
    return m


@pytest.fixture
def logdir(tmp_path):
    layer = {**BI, "direction": "backward"}
    write_run(
        tmp_path / "run",
        (
            (
                step,
                summary.weights_pb(
                    TAG,
                    _kernel(step),
                    weight="recurrent_kernel",
                    gates=GATES,
                    layer=layer,
                ),
            )
            for step in STEPS
        ),
    )
    return str(tmp_path)


@pytest.fixture
def saved(monkeypatch):
    figures = []
    save = cli_export._save

    def keep(fig, path):
        figures.append((fig, str(path)))
        save(fig, path)

    monkeypatch.setattr(cli_export, "_save", keep)
    return figures


def _export(logdir, out, *more, view="weights"):
    argv = ["export", logdir, "--run", "run", "--tag", TAG, "--view", view]
    return cli.main([*argv, *more, "-o", str(out)])


def test_export_draws_the_gate_heatmaps_and_histograms(logdir, tmp_path, saved, capsys):
    out = tmp_path / "w.png"
    assert _export(logdir, out) == 0
    hist = tmp_path / "w_histogram.png"
    assert capsys.readouterr().out.split() == [str(out), str(hist)]
    (heat, heat_path), (stack, stack_path) = saved
    assert (heat_path, stack_path) == (str(out), str(hist))
    axes = heat.axes[:3]
    assert [ax.get_title() for ax in axes] == [
        "gate z (bwd)",
        "gate r (bwd) [1 NaN]",
        "gate h (bwd)",
    ]
    assert axes[0].get_ylabel() == "unit"
    assert heat.get_suptitle() == f"run / {TAG} / step 20 · weights, gate by gate"
    pixels = image.imread(out)

    def at(ax, x, y):
        px, py = ax.transData.transform((x, y))
        return pixels[int(pixels.shape[0] - py), int(px), :3]

    np.testing.assert_allclose(at(axes[1], 0, 1), colors.NAN_COLOR[:3], atol=3 / 255)
    # the largest |w| at step 20 is row 1, column 5: (5 - 3 + 1) * 3 / 8
    np.testing.assert_allclose(
        at(axes[2], 1, 1), colors.DIVERGING_CMAP(1.0)[:3], atol=3 / 255
    )
    assert [ax.get_title() for ax in stack.axes] == [f"gate {g} (bwd)" for g in GATES]
    assert [len(ax.collections) for ax in stack.axes] == [3, 3, 3]


def test_all_steps_writes_each_step_and_the_histograms(logdir, tmp_path):
    out = tmp_path / "all"
    assert _export(logdir, out, "--all-steps") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["histogram.png"] + [f"step_{s:09d}.png" for s in STEPS]


@pytest.mark.parametrize("view", ["heatmap", "grid", "0d", "flow"])
def test_other_views_say_to_use_weights(logdir, tmp_path, capsys, view):
    assert _export(logdir, tmp_path / "x.png", view=view) == 1
    assert capsys.readouterr().err == (
        f"tb-rnngrad: error: --view {view} cannot draw tag {TAG!r}: it holds "
        "weights (weights, gate by gate), a weight matrix (2, 6) without samples "
        "or a time axis: use --view weights\n"
    )
