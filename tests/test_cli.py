"""The tb-rnngrad command line on real event files."""

import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from matplotlib import image

from tb_rnngrad import cli, summary
from tb_rnngrad.cli import export as cli_export
from tb_rnngrad.format import stats
from tb_rnngrad.viz import colors

RUN = "lstm <b>run</b>\x1b[31m"
PLAIN_RUN = "plain"
STEPS = (0, 10, 20)
LSTM = {"name": "lstm", "layer_class": "LSTM", "units": 4}
WEIGHTS = ["kernel", "recurrent_kernel", "bias"]
GATES = ["i", "f", "c", "o"]


def _data(step: int, decades: float = 5) -> np.ndarray:
    rng = np.random.default_rng(step)
    decay = np.logspace(-decades, 0, 12)[:, None]
    return (rng.standard_normal((3, 12, 4)) * decay).astype(np.float32)


def _weight_data() -> np.ndarray:
    """(weights, timesteps, gates) zeros with two known cells."""
    data = np.zeros((3, 12, 4), dtype=np.float32)
    data[0, 5, 1] = 2.0  # kernel, timestep 5, gate f: the largest norm
    data[1, 11, 0] = 1.0  # recurrent_kernel, timestep 11, gate i
    return data


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    with tf.summary.create_file_writer(str(root / RUN)).as_default():
        for step in STEPS:
            summary.gradients("gradients/lstm", _data(step), step, layer=LSTM)
            summary.gradients("gradients/last", _data(step)[:, -1], step)
            for pb in (
                summary.state_gradients_pb("state/lstm", _data(step, 3), layer=LSTM),
                summary.cell_state_gradients_pb(
                    "cell/lstm", _data(step, 1), layer=LSTM
                ),
                summary.weight_contributions_pb(
                    "weights/lstm",
                    _weight_data(),
                    weights=WEIGHTS,
                    gates=GATES,
                    layer=LSTM,
                ),
            ):
                tf.summary.experimental.write_raw_pb(pb.SerializeToString(), step)
    with tf.summary.create_file_writer(str(root / PLAIN_RUN)).as_default():
        summary.gradients("gradients/gru", _data(0), 0)
    return str(root)


def _reach(data: np.ndarray) -> str:
    return str(stats.reach(stats.profile(data)[0], 0.01))


def _export(logdir, tag, view, out, *more, run=RUN):
    argv = ["export", logdir, "--run", run, "--tag", tag, "--view", view]
    return cli.main([*argv, *more, "-o", str(out)])


@pytest.fixture
def saved(monkeypatch):
    """The figures the exporter saves, in order (still written to disk)."""
    figures = []
    save = cli_export._save

    def keep(fig, path):
        figures.append(fig)
        save(fig, path)

    monkeypatch.setattr(cli_export, "_save", keep)
    return figures


def test_summary_lists_kinds_and_the_reach_or_horizon_of_each_tag(logdir, capsys):
    assert cli.main(["summary", logdir]) == 0
    lines = capsys.readouterr().out.splitlines()
    cells = [re.split(r"\s{2,}", line) for line in lines]
    assert cells[0] == [
        "run",
        "tag",
        "kind",
        "layer",
        "steps",
        "last step",
        "reach",
        "horizon",
    ]
    rows = {(row[0], row[1]): row[2:] for row in cells[2:]}
    run = "lstm <b>run</b>\\x1b[31m"  # untrusted names: control characters escaped
    assert rows == {
        (run, "cell/lstm"): [
            "cell_state_gradients",
            "LSTM",
            "3",
            "20",
            "-",
            _reach(_data(20, 1)),
        ],
        (run, "gradients/last"): ["gradients", "?", "3", "20", "-", "-"],
        (run, "gradients/lstm"): [
            "gradients",
            "LSTM",
            "3",
            "20",
            _reach(_data(20)),
            "-",
        ],
        (run, "state/lstm"): [
            "state_gradients",
            "LSTM",
            "3",
            "20",
            "-",
            _reach(_data(20, 3)),
        ],
        (run, "weights/lstm"): [
            "weight_contributions",
            "LSTM",
            "3",
            "20",
            _reach(_weight_data()),
            "-",
        ],
        (PLAIN_RUN, "gradients/gru"): [
            "gradients",
            "?",
            "1",
            "0",
            _reach(_data(0)),
            "-",
        ],
    }
    # The horizons differ, so each number is the one of its own tag.
    horizons = {_reach(_data(20, d)) for d in (1, 3, 5)}
    assert len(horizons) == 3
    assert "\x1b" not in "".join(lines)


def test_export_heatmap_of_one_step(logdir, tmp_path, capsys):
    out = tmp_path / "h.png"
    argv = ["export", logdir, "--run", RUN, "--tag", "gradients/lstm"]
    assert cli.main([*argv, "--step", "10", "-o", str(out)]) == 0
    pixels = image.imread(out)
    assert pixels.ndim == 3 and pixels.shape[0] > 200
    # A mostly white heatmap with red and blue cells in it.
    rgb = pixels[..., :3].reshape(-1, 3)
    assert np.any((rgb[:, 0] > 0.6) & (rgb[:, 2] < 0.3))
    assert np.any((rgb[:, 2] > 0.6) & (rgb[:, 0] < 0.3))


def test_export_all_steps_writes_one_png_per_step(logdir, tmp_path, capsys):
    out = tmp_path / "all"
    argv = ["export", logdir, "--run", RUN, "--tag", "gradients/lstm", "--all-steps"]
    assert cli.main([*argv, "--view", "grid", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"step_{s:09d}.png" for s in STEPS]
    assert "3/3" in capsys.readouterr().err


def _png_pixel(path, fig, ax, x, y) -> np.ndarray:
    """RGB of data point (x, y) of `ax` in the PNG the exporter wrote."""
    pixels = image.imread(path)
    px, py = ax.transData.transform((x, y))  # the saved figure's own layout
    return pixels[int(pixels.shape[0] - py), int(px), :3]


def test_export_weights_draws_gates_per_weight_in_palette_colours(
    logdir, tmp_path, saved
):
    out = tmp_path / "w.png"
    assert _export(logdir, "weights/lstm", "weights", out) == 0
    [fig] = saved
    axes = fig.axes[:3]
    assert [ax.get_title() for ax in axes] == WEIGHTS
    for ax in axes:
        assert [t.get_text() for t in ax.get_yticklabels()] == GATES
    assert fig.get_suptitle() == (
        "lstm <b>run</b>\\x1b[31m / weights/lstm / step 20 · weight update by timestep"
    )
    assert fig.axes[-1].get_ylabel() == "weight-update norm"  # --scale auto: linear
    hottest = _png_pixel(out, fig, axes[0], 5, 1)  # kernel, timestep 5, gate f
    half = _png_pixel(out, fig, axes[1], 11, 0)  # recurrent_kernel, 11, gate i
    zero = _png_pixel(out, fig, axes[2], 0, 0)
    np.testing.assert_allclose(hottest, colors.SEQUENTIAL_CMAP(1.0)[:3], atol=3 / 255)
    np.testing.assert_allclose(half, colors.SEQUENTIAL_CMAP(0.5)[:3], atol=6 / 255)
    np.testing.assert_allclose(zero, colors.SEQUENTIAL_CMAP(0.0)[:3], atol=3 / 255)


def test_export_weights_log_scale_and_all_steps(logdir, tmp_path, saved):
    out = tmp_path / "all"
    assert _export(logdir, "weights/lstm", "weights", out, "--all-steps") == 0
    assert sorted(p.name for p in out.iterdir()) == [f"step_{s:09d}.png" for s in STEPS]
    assert (
        _export(logdir, "weights/lstm", "weights", tmp_path / "l.png", "--scale", "log")
        == 0
    )
    assert saved[-1].axes[-1].get_ylabel() == "weight-update norm (log)"


@pytest.mark.parametrize(
    "tag, view, label",
    [
        ("state/lstm", "heatmap", "d loss / d state (through time)"),
        ("state/lstm", "grid", "d loss / d state (through time)"),
        ("cell/lstm", "heatmap", "d loss / d cell state"),
        ("gradients/lstm", "heatmap", "d loss / d output (later layers)"),
        ("gradients/last", "0d", "d loss / d output (later layers)"),
    ],
)
def test_export_titles_name_the_quantity(logdir, tmp_path, saved, tag, view, label):
    assert _export(logdir, tag, view, tmp_path / "x.png") == 0
    run = "lstm <b>run</b>\\x1b[31m"
    assert saved[0].get_suptitle() == f"{run} / {tag} / step 20 · {label}"


@pytest.mark.parametrize(
    "tag, reach_title, value",
    [
        ("state/lstm", "gradient horizon", "gradient"),
        ("cell/lstm", "gradient horizon", "gradient"),
        ("gradients/lstm", "gradient reach", "gradient"),
        ("weights/lstm", "gradient reach", "weight-update"),
    ],
)
def test_export_flow_of_every_kind(logdir, tmp_path, saved, tag, reach_title, value):
    assert _export(logdir, tag, "flow", tmp_path / "f.png") == 0
    image_ax, reach_ax = saved[0].axes[:2]
    assert reach_ax.get_title() == reach_title
    assert image_ax.get_title() == f"per-timestep {value} norm"
    if tag == "state/lstm":
        expected = [int(_reach(_data(step, 3))) for step in STEPS]
        np.testing.assert_array_equal(reach_ax.get_lines()[0].get_xdata(), expected)


def test_wrong_view_errors_say_which_view_to_use(logdir, tmp_path, capsys):
    run = "'lstm <b>run</b>\\x1b[31m'"
    cases = [
        (
            (RUN, "gradients/lstm", "weights"),
            "--view weights draws weight contributions (weights, timesteps, gates) "
            "and weight matrices (weights, weight_gradients); "
            "tag 'gradients/lstm' holds gradients (d loss / d output (later layers)): "
            f"use --view heatmap, grid or flow, or pick a weight_contributions tag of "
            f"run {run}: 'weights/lstm'",
        ),
        (
            (RUN, "gradients/last", "weights"),
            "--view weights draws weight contributions (weights, timesteps, gates) "
            "and weight matrices (weights, weight_gradients); "
            "tag 'gradients/last' holds gradients (d loss / d output (later layers)): "
            f"use --view 0d or flow, or pick a weight_contributions tag of run {run}: "
            "'weights/lstm'",
        ),
        (
            (PLAIN_RUN, "gradients/gru", "weights"),
            "--view weights draws weight contributions (weights, timesteps, gates) "
            "and weight matrices (weights, weight_gradients); "
            "tag 'gradients/gru' holds gradients (d loss / d output (later layers)): "
            "use --view heatmap, grid or flow, or log weight contributions (run "
            "'plain' has none): kinds=(..., \"weight_contributions\") in capture or "
            "GradientLogger",
        ),
        (
            (RUN, "weights/lstm", "heatmap"),
            "--view heatmap draws one step's values per sample; tag 'weights/lstm' "
            "holds weight_contributions (weight update by timestep), shape (weights, "
            "timesteps, gates) (3, 12, 4): use --view weights or flow",
        ),
        (
            (RUN, "state/lstm", "0d"),
            "--view 0d needs (batch, channels) data; tag 'state/lstm' has shape "
            "(3, 12, 4): use --view heatmap, grid or flow",
        ),
    ]
    for (run_name, tag, view), message in cases:
        out = tmp_path / "x.png"
        assert _export(logdir, tag, view, out, run=run_name) == 1
        assert capsys.readouterr().err == f"tb-rnngrad: error: {message}\n"
        assert not out.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--run", "nope", "--tag", "t"], "no run 'nope'; runs with rnngrad data: "),
        (
            ["--run", RUN, "--tag", "t"],
            "its tags: 'cell/lstm', 'gradients/last', 'gradients/lstm', 'state/lstm', "
            "'weights/lstm'",
        ),
        (
            ["--run", RUN, "--tag", "gradients/lstm", "--step", "5"],
            "logged steps: 0, 10, 20",
        ),
        (
            ["--run", RUN, "--tag", "gradients/lstm", "--view", "0d"],
            "use --view heatmap",
        ),
        (["--run", RUN, "--tag", "gradients/last", "--view", "grid"], "use --view 0d"),
        (
            ["--run", RUN, "--tag", "gradients/lstm", "--samples", "7"],
            "the batch has 3",
        ),
    ],
)
def test_bad_arguments_say_what_exists(logdir, tmp_path, capsys, argv, message):
    code = cli.main(["export", logdir, *argv, "-o", str(tmp_path / "x.png")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("tb-rnngrad: error: ")
    assert message in err


def test_missing_logdir_and_usage_errors(tmp_path, capsys):
    assert cli.main(["summary", str(tmp_path / "absent")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", str(tmp_path), "--view", "pie", "-o", "x"])
    assert exit_info.value.code == 2


def test_console_script_is_installed(logdir):
    result = subprocess.run(
        [sys.executable, "-m", "tb_rnngrad.cli", "summary", logdir],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "gradients/lstm" in result.stdout


def test_export_without_matplotlib_says_what_to_install(
    logdir, tmp_path, capsys, monkeypatch
):
    real_find_spec = cli_export.importlib.util.find_spec
    monkeypatch.setattr(
        cli_export.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a),
    )
    argv = ["export", logdir, "--run", RUN, "--tag", "gradients/lstm"]
    assert cli.main([*argv, "-o", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tb-rnngrad: error: ")
    assert "pip install 'tb-rnngrad[viz]'" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("command", ["summary", "export"])
def test_reading_local_logs_loads_no_tensorflow(logdir, tmp_path, command):
    argv = ["summary", logdir]
    if command == "export":
        out = str(tmp_path / "flow.png")
        argv = ["export", logdir, "--run", RUN, "--tag", "state/lstm"]
        argv += ["--view", "flow", "-o", out]
    code = (
        "import sys; from tb_rnngrad import cli; "
        f"code = cli.main({argv!r}); "
        "print('loaded:', sorted(m for m in ('tensorflow', 'keras') "
        "if m in sys.modules)); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
    assert "oneDNN" not in done.stderr and "absl" not in done.stderr


BIGRU = {
    "name": "bigru",
    "layer_class": "GRU",
    "units": 32,
    "bidirectional": True,
    "merge_mode": "concat",
}


def _masked_mask() -> np.ndarray:
    """(2, 6) mask: the last two timesteps of both samples are padding."""
    mask = np.ones((2, 6), dtype=bool)
    mask[:, 4:] = False
    return mask


@pytest.fixture(scope="module")
def wide_logdir(tmp_path_factory):
    """A Bidirectional layer of 64 channels, masked; a 130-channel tag; a
    (batch, channels) tag over 3 steps and a 1-step tag."""
    root = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(0)
    with tf.summary.create_file_writer(str(root / "wide")).as_default():
        for step in (0, 100):
            data = rng.standard_normal((2, 6, 64)).astype(np.float32)
            data[:, 4:] = 0.0
            summary.gradients(
                "gradients/bigru", data, step, layer=BIGRU, mask=_masked_mask()
            )
        for step in (0, 5, 9):
            huge = np.ones((1, 3, 130), np.float32)
            summary.gradients("gradients/huge", huge, step)
        for step in (0, 10, 20):
            last = np.full((2, 4), 0.5 * (step + 10), np.float32)
            summary.gradients("gradients/last", last, step)
        summary.gradients("gradients/once", np.ones((1, 3, 2), np.float32), 7)
    return str(root)


def test_export_grid_draws_all_64_channels_of_a_bidirectional_layer(
    wide_logdir, tmp_path, saved, capsys
):
    assert (
        _export(wide_logdir, "gradients/bigru", "grid", tmp_path / "g.png", run="wide")
        == 0
    )
    [fig] = saved
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 64
    assert titles[:2] == ["fwd 0", "fwd 1"]
    assert titles[-1] == "bwd 31 (ch 63)"
    assert "not drawn" not in fig.get_suptitle()
    assert "not drawn" not in capsys.readouterr().err


def test_export_grid_names_the_channels_it_leaves_out(
    wide_logdir, tmp_path, saved, capsys
):
    assert (
        _export(wide_logdir, "gradients/huge", "grid", tmp_path / "g.png", run="wide")
        == 0
    )
    note = "channels 64-129 not drawn: at most 64 charts; choose with --channels"
    assert note in saved[0].get_suptitle()
    assert note in capsys.readouterr().err
    assert len([ax for ax in saved[0].axes if ax.get_title()]) == 64


def test_export_grid_channels_option(wide_logdir, tmp_path, saved, capsys):
    out = tmp_path / "g.png"
    assert (
        _export(
            wide_logdir,
            "gradients/huge",
            "grid",
            out,
            "--channels",
            "0-1,128-129",
            run="wide",
        )
        == 0
    )
    titles = [ax.get_title() for ax in saved[0].axes if ax.get_title()]
    assert titles == ["ch 0", "ch 1", "ch 128", "ch 129"]
    assert "not drawn" not in capsys.readouterr().err
    assert (
        _export(
            wide_logdir,
            "gradients/huge",
            "grid",
            out,
            "--channels",
            "0,130-131",
            run="wide",
        )
        == 1
    )
    assert "--channels 130-131 out of range: the tag has 130 channels (0-129)" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        _export(
            wide_logdir, "gradients/huge", "grid", out, "--channels", "a-b", run="wide"
        )
    assert "'a-b' is not a list of channel ranges; write e.g. 0-31" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("view", ["heatmap", "grid"])
def test_export_draws_masked_timesteps_in_the_palette_grey(
    wide_logdir, tmp_path, saved, view
):
    out = tmp_path / f"{view}.png"
    assert _export(wide_logdir, "gradients/bigru", view, out, run="wide") == 0
    [fig] = saved
    ax = fig.axes[0]  # heatmap: sample 0; grid: fwd 0
    y = 10 if view == "heatmap" else ax.get_ylim()[0] * 0.9  # clear of lines
    masked = _png_pixel(out, fig, ax, 5, y)
    np.testing.assert_allclose(masked, colors.MASKED_COLOR[:3], atol=2 / 255)
    valid = _png_pixel(out, fig, ax, 1, y)
    assert np.abs(valid - colors.MASKED_COLOR[:3]).max() > 0.1


def test_export_flow_of_two_steps_spans_them(wide_logdir, tmp_path, saved):
    out = tmp_path / "f.png"
    assert _export(wide_logdir, "gradients/bigru", "flow", out, run="wide") == 0
    assert saved[0].axes[0].get_ylim() == (100, 0), "first step on top, as the tab"
    np.testing.assert_array_equal(saved[0].axes[0].get_yticks(), [0, 100])


def test_export_flow_rows_run_as_in_the_tab(tmp_path, saved):
    """The first logged step is the top row and timestep 0 the left column, as
    in the tab's flow view: read back from the PNG's pixels."""
    root = tmp_path / "logs"
    with tf.summary.create_file_writer(str(root / "r")).as_default():
        for step, hot in ((0, 0), (10, 7)):
            data = np.full((1, 8, 1), 1e-3, np.float32)
            data[0, hot] = 1.0  # step 0: timestep 0 hot; step 10: timestep 7
            summary.gradients("g", data, step)
    out = tmp_path / "f.png"
    assert _export(str(root), "g", "flow", out, run="r") == 0
    ax = saved[0].axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("timestep", "training step")
    pixels = image.imread(out)[:, :, :3]
    bbox = ax.get_window_extent()
    top = int(pixels.shape[0] - bbox.y1) + 3  # just inside the image's top edge
    left, right = int(bbox.x0) + 3, int(bbox.x1) - 3
    hot = np.array(colors.SEQUENTIAL_CMAP(1.0)[:3])
    cold = np.array(colors.SEQUENTIAL_CMAP(0.0)[:3])
    np.testing.assert_allclose(pixels[top, left], hot, atol=3 / 255)  # step 0, t 0
    np.testing.assert_allclose(pixels[top, right], cold, atol=3 / 255)
    bottom = int(pixels.shape[0] - bbox.y0) - 3
    np.testing.assert_allclose(pixels[bottom, right], hot, atol=3 / 255)  # step 10
    np.testing.assert_allclose(pixels[bottom, left], cold, atol=3 / 255)


def test_export_all_steps_names_the_left_out_channels_once(
    wide_logdir, tmp_path, saved, capsys
):
    out = tmp_path / "all"
    argv = ("gradients/huge", "grid", out, "--all-steps")
    assert _export(wide_logdir, *argv, run="wide") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        f"step_{s:09d}.png" for s in (0, 5, 9)
    ]
    note = "channels 64-129 not drawn: at most 64 charts; choose with --channels"
    assert capsys.readouterr().err.count(note) == 1
    assert all(note in fig.get_suptitle() for fig in saved)


def test_export_flow_of_data_without_a_time_axis_is_a_line(
    wide_logdir, tmp_path, saved
):
    out = tmp_path / "f.png"
    assert _export(wide_logdir, "gradients/last", "flow", out, run="wide") == 0
    [ax] = saved[0].axes
    assert ax.get_title() == "no time axis: (batch, channels) data, one norm per step"
    assert ax.get_xlabel() == "training step"
    [line] = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 10, 20])
    # (2, 4) values of 0.5 * (step + 10): norm sqrt(8) times that.
    np.testing.assert_allclose(
        line.get_ydata(), np.sqrt(8) * np.array([5.0, 10.0, 15.0]), rtol=1e-6
    )
    assert ax.get_yscale() == "log"
