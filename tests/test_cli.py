"""The tb-rnngrad command line on real event files."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from matplotlib import image

from tb_rnngrad import cli, summary
from tb_rnngrad.format import stats

RUN = "lstm <b>run</b>\x1b[31m"
STEPS = (0, 10, 20)


def _data(step: int) -> np.ndarray:
    rng = np.random.default_rng(step)
    decay = np.logspace(-5, 0, 12)[:, None]
    return (rng.standard_normal((3, 12, 4)) * decay).astype(np.float32)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    with tf.summary.create_file_writer(str(root / RUN)).as_default():
        for step in STEPS:
            summary.gradients(
                "gradients/lstm",
                _data(step),
                step,
                layer={"name": "lstm", "layer_class": "LSTM", "units": 4},
            )
            summary.gradients("gradients/last", _data(step)[:, -1], step)
    return str(root)


def test_summary_lists_runs_tags_layers_steps_and_reach(logdir, capsys):
    assert cli.main(["summary", logdir]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "run",
        "tag",
        "kind",
        "layer",
        "steps",
        "last",
        "step",
        "reach",
    ]
    rows = {line.split("  ")[1].strip(): line for line in lines[2:]}
    reach = stats.reach(stats.profile(_data(20))[0], 0.01)
    assert rows["gradients/lstm"].split()[-4:] == ["LSTM", "3", "20", str(reach)]
    assert rows["gradients/last"].split()[-3:] == ["3", "20", "-"]
    # Untrusted names are shown literally, with control characters escaped.
    assert "lstm <b>run</b>\\x1b[31m" in lines[2]
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


@pytest.mark.parametrize(
    "view, tag", [("flow", "gradients/lstm"), ("0d", "gradients/last")]
)
def test_export_flow_and_0d(logdir, tmp_path, view, tag):
    out = tmp_path / f"{view}.png"
    argv = ["export", logdir, "--run", RUN, "--tag", tag, "--view", view]
    assert cli.main([*argv, "-o", str(out)]) == 0
    assert out.stat().st_size > 1000


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--run", "nope", "--tag", "t"], "no run 'nope'; runs with rnngrad data: "),
        (["--run", RUN, "--tag", "t"], "its tags: 'gradients/last', 'gradients/lstm'"),
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
    real_find_spec = cli.importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a),
    )
    argv = ["export", logdir, "--run", RUN, "--tag", "gradients/lstm"]
    assert cli.main([*argv, "-o", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tb-rnngrad: error: ")
    assert "pip install 'tb-rnngrad[viz]'" in err
    assert not (tmp_path / "x.png").exists()
