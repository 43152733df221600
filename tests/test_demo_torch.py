"""`python -m demo --framework torch` tells the Keras demo's story in PyTorch.

docs/guide.md's command trains 8 epochs (2,000 steps, about 2 minutes on 2 idle
cores). Here the demo runs its own code with `--epochs 3` (750 steps), which
already shows the outcome: the GRU and the LSTM have learned the adding
problem, the nn.RNN has not, and the logs show why (how far back the input
gradient and the LSTM's cell-state gradient reach).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tb_rnngrad.format import metadata
from tb_rnngrad.server.logdir import LogdirReader

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("simplernn", "gru", "lstm")
TIMESTEPS = 100
EPOCHS = 3  # 250 steps each, a record every 80 steps
LOGGED_STEPS = list(range(0, 250 * EPOCHS, 80))
LATE = LOGGED_STEPS[-3]  # the last three records

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(log directory, the demo's standard output)."""
    logdir = str(tmp_path_factory.mktemp("demo_torch"))
    command = [
        sys.executable, "-m", "demo", "--framework", "torch", "--epochs",
        str(EPOCHS), "--logdir", logdir, "--no-serve",
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        command, cwd=REPO, env=env, check=True, timeout=540, capture_output=True,
        text=True,
    )  # fmt: skip
    return logdir, done.stdout


def _run(model: str) -> str:
    return f"adding-{model}-torch"


def test_gated_models_learn_and_the_plain_rnn_does_not(demo):
    logdir, stdout = demo
    with open(os.path.join(logdir, "outcome.json"), encoding="utf-8") as file:
        outcome = json.load(file)
    assert set(outcome) == {_run(m) for m in MODELS}
    for model in ("gru", "lstm"):
        run = outcome[_run(model)]
        assert run["final_loss"] < 0.25 * run["baseline"], (model, run)
        assert run["verdict"] == "learned"
    simple = outcome[_run("simplernn")]
    assert simple["final_loss"] > 0.75 * simple["baseline"], simple
    assert simple["verdict"] == "did not learn"
    assert simple["baseline"] == pytest.approx(1 / 6, abs=0.01)
    for model, run in outcome.items():  # the printed table says the same
        line = next(x for x in stdout.splitlines() if x.startswith(model + " "))
        assert line.split()[1:3] == [
            f"{run['final_loss']:.4f}",
            f"{run['baseline']:.4f}",
        ]
        assert line.endswith(run["verdict"])


def _late_reach(source, model: str, tag: str) -> float:
    """Median reach of `tag` over the last three records (see test_demo)."""
    profiles = source.reader.read_profiles_of(
        source.ctx, "", f"{_run(model)}/rnngrad", tag
    )
    steps_reach = zip(profiles.steps, profiles.reach(), strict=True)
    return float(np.median([r for s, r in steps_reach if s >= LATE]))


def test_the_logs_show_why(demo):
    source = LogdirReader(demo[0])
    simple = _late_reach(source, "simplernn", "input_gradients/input")
    for model in ("gru", "lstm"):
        reach = _late_reach(source, model, "input_gradients/input")
        assert reach > 3 * simple, (model, reach, simple)
        assert reach >= TIMESTEPS // 2, (model, reach)  # back to the first mark
    state = _late_reach(source, "simplernn", "state_gradients/rnn")
    cell = _late_reach(source, "lstm", "state_gradients/rnn/cell")
    assert cell > 3 * state and cell >= TIMESTEPS // 2, (cell, state)
    steps = source.reader.list_steps(
        source.ctx, "", f"{_run('lstm')}/rnngrad", "input_gradients/input"
    )
    assert [s.step for s in steps] == LOGGED_STEPS


def test_every_kind_is_logged_with_pytorchs_weights_and_gates(demo):
    source = LogdirReader(demo[0])
    runs = source.reader.list_series(source.ctx, "")
    assert set(runs) == {f"{_run(m)}/rnngrad" for m in MODELS}
    gates = {"simplernn": ["h"], "gru": ["r", "z", "n"], "lstm": ["i", "f", "c", "o"]}
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    for model in MODELS:
        tags = runs[f"{_run(model)}/rnngrad"]
        expected = {
            "gradients/rnn",
            "state_gradients/rnn",
            "weight_contributions/rnn",
            "input_gradients/input",
        }
        expected |= {"state_gradients/rnn/cell"} if model == "lstm" else set()
        expected |= {f"{k}/rnn/{n}" for k in metadata.MATRIX_KINDS for n in names}
        assert set(tags) == expected, model
        kernel = tags["weights/rnn/weight_ih"]
        assert (kernel.weights, kernel.gates) == (("weight_ih",), tuple(gates[model]))
        assert tags["weight_contributions/rnn"].gates == tuple(gates[model])


def test_the_summary_writers_losses_sit_beside(demo):
    from tensorboard.backend.event_processing import event_accumulator

    for model in MODELS:
        events = event_accumulator.EventAccumulator(os.path.join(demo[0], _run(model)))
        events.Reload()
        for split in ("train", "validation"):
            losses = events.Scalars(f"epoch_loss/{split}")
            assert [e.step for e in losses] == list(range(EPOCHS))


def test_outcome_file_keeps_the_runs_of_an_earlier_demo(tmp_path):
    from demo import outcome

    logdir = str(tmp_path)
    outcome.write(logdir, [outcome.Outcome("adding-lstm", 0.01, 0.17)])
    outcome.write(
        logdir,
        [
            outcome.Outcome("adding-lstm-torch", 0.02, 0.17),
            outcome.Outcome("adding-lstm", 0.15, 0.17),
        ],
    )
    with open(os.path.join(logdir, "outcome.json"), encoding="utf-8") as file:
        found = json.load(file)
    assert found == {
        "adding-lstm": {
            "final_loss": 0.15,
            "baseline": 0.17,
            "verdict": "did not learn",
        },
        "adding-lstm-torch": {
            "final_loss": 0.02,
            "baseline": 0.17,
            "verdict": "learned",
        },
    }
