"""A shortened demo run tells the expected story: LSTM reaches further back."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tb_rnngrad.server.logdir import LogdirReader
from testkit.tensorboard_server import free_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def demo_logdir(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("demo"))
    command = [
        sys.executable, "-m", "demo", "--logdir", logdir, "--tasks", "adding",
        "--models", "simplernn", "lstm", "--samples", "528", "--timesteps", "50",
        "--epochs", "3", "--every-n-steps", "8", "--no-serve",
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run(command, cwd=REPO, env=env, check=True, timeout=600)
    return logdir


def _last_reach(source, run: str, tag: str) -> int:
    profiles = source.reader.read_profiles_of(source.ctx, "", run, tag)
    return profiles.reach()[-1]


def test_lstm_gradient_reaches_further_back_than_simplernn(demo_logdir):
    source = LogdirReader(demo_logdir)
    runs = source.reader.list_series(source.ctx, "")
    assert set(runs) == {"adding-simplernn/rnngrad", "adding-lstm/rnngrad"}
    for tags in runs.values():
        assert set(tags) == {
            "gradients/rnn_1",
            "gradients/rnn_2",
            "input_gradients/sequence",
        }
    lstm = _last_reach(source, "adding-lstm/rnngrad", "gradients/rnn_1")
    simple = _last_reach(source, "adding-simplernn/rnngrad", "gradients/rnn_1")
    assert lstm > simple
    # 528 samples - 16 held out for probing = 8 steps of 64 per epoch, 3 epochs.
    steps = source.reader.list_steps(
        source.ctx, "", "adding-lstm/rnngrad", "gradients/rnn_1"
    )
    assert [s.step for s in steps] == [0, 8, 16, 24]


def test_keras_tensorboard_scalars_sit_beside(demo_logdir):
    for model in ("simplernn", "lstm"):
        assert os.listdir(os.path.join(demo_logdir, f"adding-{model}", "train"))


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
