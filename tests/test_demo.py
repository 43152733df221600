"""The demo, run as `make demo` runs it, tells its story.

GRU and LSTM learn the adding problem (held-out loss far under the baseline of
predicting the mean), the SimpleRNN does not, and the logs show why: the
LSTM's cell-state gradient reaches back to the marked positions while the
SimpleRNN's state gradient dies within a few steps, and so does the input
gradient.
"""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from tb_rnngrad.server.logdir import LogdirReader
from testkit.tensorboard_server import free_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("simplernn", "gru", "lstm")
TIMESTEPS = 100
# 16000 samples / 64 = 250 steps per epoch, 8 epochs, a record every 80 steps.
LOGGED_STEPS = list(range(0, 2001, 80))

# The demo's full default training takes about 2 minutes on 2 idle cores.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def demo_logdir(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("demo"))
    command = [sys.executable, "-m", "demo", "--logdir", logdir, "--no-serve"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run(command, cwd=REPO, env=env, check=True, timeout=840)
    return logdir


def _outcome(logdir: str) -> dict:
    with open(os.path.join(logdir, "outcome.json"), encoding="utf-8") as file:
        return json.load(file)


def _late_reach(source, model: str, tag: str = "input_gradients/sequence") -> float:
    """Median reach of `tag` over the last quarter of the logged steps.

    The median, because the SimpleRNN now and then swings into a step whose
    gradient explodes back through time (reach up to 99) before it vanishes
    again; the median over 7 records measures where it sits after training.
    """
    profiles = source.reader.read_profiles_of(
        source.ctx, "", f"adding-{model}/rnngrad", tag
    )
    late = [
        r for s, r in zip(profiles.steps, profiles.reach(), strict=True) if s >= 1500
    ]
    return float(np.median(late))


def test_gated_models_learn_and_simplernn_does_not(demo_logdir):
    outcome = _outcome(demo_logdir)
    assert set(outcome) == {f"adding-{m}" for m in MODELS}
    for model in ("gru", "lstm"):
        run = outcome[f"adding-{model}"]
        assert run["final_loss"] < 0.25 * run["baseline"], (model, run)
        assert run["verdict"] == "learned"
    simple = outcome["adding-simplernn"]
    assert simple["final_loss"] > 0.75 * simple["baseline"], simple
    assert simple["verdict"] == "did not learn"
    # Predicting the mean of a sum of two U(0, 1) values: variance 1/6.
    assert simple["baseline"] == pytest.approx(1 / 6, abs=0.01)


def test_gated_input_gradients_reach_over_3x_further_back(demo_logdir):
    source = LogdirReader(demo_logdir)
    runs = source.reader.list_series(source.ctx, "")
    assert set(runs) == {f"adding-{m}/rnngrad" for m in MODELS}
    common = {
        "gradients/rnn",
        "state_gradients/rnn",
        "weight_contributions/rnn",
        "input_gradients/sequence",
    }
    for run, tags in runs.items():
        cell = {"state_gradients/rnn/cell"} if "lstm" in run else set()
        names = ["kernel", "recurrent_kernel", "bias"]
        names += ["recurrent_bias"] if "gru" in run else []  # reset_after=True
        weights = {
            f"{kind}/rnn/{name}"
            for kind in ("weights", "weight_gradients")
            for name in names
        }
        assert set(tags) == common | cell | weights, run
    simple = _late_reach(source, "simplernn")
    for model in ("gru", "lstm"):
        reach = _late_reach(source, model)
        assert reach > 3 * simple, (model, reach, simple)
        # Back into the first half, where the first marked value is.
        assert reach >= TIMESTEPS // 2, (model, reach)
    steps = source.reader.list_steps(
        source.ctx, "", "adding-lstm/rnngrad", "input_gradients/sequence"
    )
    assert [s.step for s in steps] == LOGGED_STEPS


def test_lstm_cell_state_horizon_is_over_3x_the_simplernn_state_horizon(
    demo_logdir,
):
    source = LogdirReader(demo_logdir)
    simple = _late_reach(source, "simplernn", "state_gradients/rnn")
    cell = _late_reach(source, "lstm", "state_gradients/rnn/cell")
    assert cell > 3 * simple, (cell, simple)
    # Back into the first half, where the first marked value is.
    assert cell >= TIMESTEPS // 2, cell
    info = source.reader.list_series(source.ctx, "")["adding-lstm/rnngrad"]
    assert info["state_gradients/rnn/cell"].kind == "cell_state_gradients"
    weights = info["weight_contributions/rnn"]
    assert (weights.weights, weights.gates) == (
        ("kernel", "recurrent_kernel", "bias"),
        ("i", "f", "c", "o"),
    )


def test_keras_tensorboard_scalars_sit_beside(demo_logdir):
    for model in MODELS:
        for split in ("train", "validation"):
            assert os.listdir(os.path.join(demo_logdir, f"adding-{model}", split))


def test_serve_prints_the_url_once_tensorboard_answers_it(demo_logdir):
    port = free_port()
    code = f"from demo import serve; serve.serve({demo_logdir!r}, {port})"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        url = None
        for line in process.stdout:
            if "RNN Gradients tab:" in line:
                url = line.split()[3]
                break
        assert url == f"http://127.0.0.1:{port}/#rnngrad"
        listing = f"http://127.0.0.1:{port}/data/plugins_listing"
        with urllib.request.urlopen(listing, timeout=10) as response:  # no retry
            assert json.load(response)["rnngrad"]["enabled"] is True
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_health_reports_vanishing_for_the_simplernn_only(demo_logdir):
    from tb_rnngrad import health

    report = health.check_logdir(demo_logdir)
    assert report.runs["adding-gru/rnngrad"] == []
    assert report.runs["adding-lstm/rnngrad"] == []
    (found,) = report.runs["adding-simplernn/rnngrad"]
    assert (found.code, found.layer, found.tag) == (
        "vanishing",
        "rnn",
        "state_gradients/rnn",
    )
    source = LogdirReader(demo_logdir)
    late = sorted(
        source.reader.read_profiles_of(
            source.ctx, "", "adding-simplernn/rnngrad", "state_gradients/rnn"
        ).reach()[-5:]
    )
    assert found.evidence["horizon"] == late[2] < 0.25 * (TIMESTEPS - 1)
