"""`python -m demo --task translate`: the seq2seq learns to reverse, and its
logs show the decoder's GRU, called once per target step, beside the encoder's.

The demo runs its own code with `--epochs 3` (750 steps, a record every 250):
the model already reverses held-out sequences far above chance, and the logs,
read through TensorBoard's data providers, hold every kind of `encoder.gru`
and `decoder.gru`, the decoder's calls stacked along time, with its state
gradient reaching back across every target step.
"""

import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from demo import reversal, translate_outcome
from demo.seq2seq import Seq2Seq, nll_loss
from demo.translate import RUN
from tb_rnngrad.server.reader import Reader
from testkit.providers import PROVIDER_KINDS, start_provider, wait_for

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENGTH, HIDDEN, PROBE = 12, 64, 16
EPOCHS, EVERY = 3, 250  # 250 steps per epoch
LOGGED_STEPS = [0, 250, 500, 750]
KEYS = ("encoder.gru", "decoder.gru")
SERIES = f"{RUN}/rnngrad"

pytestmark = pytest.mark.timeout(600)


# The task and the model, in-process.


def test_the_target_is_the_source_backwards():
    pairs = reversal.reversal(50, LENGTH, 10, seed=3)
    assert pairs.source.shape == pairs.target.shape == (50, LENGTH)
    np.testing.assert_array_equal(pairs.target, pairs.source[:, ::-1])
    assert pairs.source.min() == 1 and pairs.source.max() == 10  # SOS unused
    assert pairs.vocabulary == 11
    same = reversal.reversal(50, LENGTH, 10, seed=3)
    np.testing.assert_array_equal(same.source, pairs.source)


def test_accuracies():
    target = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    predicted = np.array([[1, 2, 3, 4], [5, 6, 0, 0]])
    assert reversal.token_accuracy(predicted, target) == 0.75
    assert reversal.sequence_accuracy(predicted, target) == 0.5
    assert reversal.chance_accuracy(10) == 0.1


def _model() -> tuple[Seq2Seq, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    pairs = reversal.reversal(4, LENGTH, 10, seed=0)
    model = Seq2Seq(pairs.vocabulary, 8, LENGTH).eval()
    return model, torch.from_numpy(pairs.source), torch.from_numpy(pairs.target)


def test_the_decoder_gru_runs_once_per_target_step_with_teacher_forcing():
    model, source, target = _model()
    calls = []
    model.decoder.gru.register_forward_hook(
        lambda module, args, out: calls.append(tuple(args[0].shape))
    )
    encoder_calls = []
    model.encoder.gru.register_forward_hook(
        lambda module, args, out: encoder_calls.append(tuple(args[0].shape))
    )
    log_probs = model(source, target)
    assert log_probs.shape == (4, LENGTH, 11)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(4, LENGTH))
    assert calls == [(4, 1, 16)] * LENGTH  # [embedding, context], one step each
    assert encoder_calls == [(4, LENGTH, 8)]
    # Teacher forcing: target token i is the input of step i + 1, so changing
    # it changes the outputs after step i and none before.
    changed = target.clone()
    changed[:, 5] = target[:, 5] % 10 + 1
    other = model(source, changed)
    torch.testing.assert_close(other[:, :6], log_probs[:, :6])
    assert (other[:, 6:] - log_probs[:, 6:]).abs().amax() > 1e-4


def test_greedy_decoding_feeds_back_its_own_predictions():
    model, source, target = _model()
    model.train()
    predicted = model.translate(source)
    assert model.training  # restored
    assert predicted.shape == (4, LENGTH)
    # Teacher forcing with its own predictions gives the same predictions.
    again = model.eval()(source, predicted).argmax(-1)
    torch.testing.assert_close(again, predicted)
    loss = nll_loss(model(source, target), target)
    assert loss.ndim == 0 and loss.item() == pytest.approx(np.log(11), rel=0.2)


@pytest.mark.parametrize(
    "accuracy, verdict",
    [(0.95, "learned"), (0.9, "learned"), (0.5, "partly")] + [(0.19, "did not learn")],
)
def test_the_verdict(accuracy, verdict):
    found = translate_outcome.TranslateOutcome(
        "r", [1.0], 0.1, accuracy, 0.0, 0.1, LENGTH, [0], {"gradients/rnn": 4}
    )
    assert found.verdict == verdict
    lines = found.report().splitlines()
    assert lines[-1].startswith(f"Verdict: {verdict} (")
    assert lines[-2] == "  gradients/rnn: 4 of 11 steps back"


def test_the_options_of_the_translate_task():
    from demo.__main__ import parse_args, translate_config

    args = parse_args(["--task", "translate", "--timesteps", "8", "--epochs", "2"])
    config = translate_config(args)
    assert (config.length, config.epochs, config.seed) == (8, 2, 0)
    assert config.every_n_steps == 100 and config.hidden == HIDDEN
    assert translate_config(parse_args(["--task", "translate"])).length == LENGTH
    adding = parse_args([])
    assert adding.task == "adding" and adding.epochs is None  # TrainConfig's 8


# The demo, as a user runs it.


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(log directory, the demo's standard output)."""
    logdir = str(tmp_path_factory.mktemp("demo_translate"))
    command = [
        sys.executable, "-m", "demo", "--task", "translate", "--epochs",
        str(EPOCHS), "--every-n-steps", str(EVERY), "--logdir", logdir,
        "--no-serve",
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        command, cwd=REPO, env=env, check=True, timeout=540, capture_output=True,
        text=True,
    )  # fmt: skip
    return logdir, done.stdout


def _outcome(logdir: str) -> dict:
    with open(os.path.join(logdir, "outcome.json"), encoding="utf-8") as file:
        return json.load(file)[RUN]


def test_the_model_learns_to_reverse(demo):
    logdir, stdout = demo
    found = _outcome(logdir)
    chance = found["chance"]
    assert chance == 0.1
    assert found["token_accuracy"] >= 0.9 > 8 * chance, found
    assert found["sequence_accuracy"] >= 0.5, found  # 12 tokens right in a row
    assert found["verdict"] == "learned"
    losses = found["train_losses"]
    assert len(losses) == EPOCHS and losses[-1] < 0.5 * losses[0], losses
    assert losses[0] < np.log(10)  # below a uniform guess from the first epoch
    # The printed losses and figures are those of the outcome.
    printed = re.findall(r"^Epoch (\d+)/3 - loss: ([\d.]+) ", stdout, re.M)
    assert printed == [(str(i + 1), f"{x:.4f}") for i, x in enumerate(losses)]
    assert (
        f"Held-out token accuracy (greedy decoding): {found['token_accuracy']:.4f} "
        f"(chance 0.1000)" in stdout
    )
    assert "Verdict: learned" in stdout
    assert found["logged_steps"] == LOGGED_STEPS
    # The story, on the probe batch after training: the decoder's state
    # gradient reaches its first step; through the attention, the encoder's
    # output gradient reaches (nearly) the first source position, which the
    # last target step copies (the logs say the same: see below).
    reach = found["reach"]
    assert set(reach) == {"state_gradients/decoder.gru", "gradients/encoder.gru"}
    assert reach["state_gradients/decoder.gru"] == LENGTH - 1
    assert reach["gradients/encoder.gru"] >= LENGTH - 3
    assert "  state_gradients/decoder.gru: 11 of 11 steps back" in stdout


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def reader(request, demo):
    """A `Reader` over the demo's logs, through each of TensorBoard's data
    providers (the Python multiplexer and the Rust data server)."""
    provider, _ = start_provider(request.param, demo[0])
    found = Reader(provider)

    def loaded():
        listing = found.list_series(_ctx(), "").get(SERIES, {})
        series = listing.get("state_gradients/decoder.gru")
        return series is not None and series.max_step == LOGGED_STEPS[-1]

    assert wait_for(loaded), "the data provider did not load the logs in time"
    return found


def _ctx():
    from tensorboard import context

    return context.RequestContext()


def _tensor(reader: Reader, tag: str, step: int) -> np.ndarray:
    return np.load(io.BytesIO(reader.read_tensor(_ctx(), "", SERIES, tag, step)))


def test_every_kind_of_both_grus_is_logged(reader):
    tags = reader.list_series(_ctx(), "")[SERIES]
    expected = {
        f"{kind}/{key}"
        for kind in (
            "gradients", "activations", "state_gradients", "weight_contributions",
        )
        for key in KEYS
    }  # fmt: skip
    expected |= {
        f"{kind}/{key}/{name}"
        for kind in ("weights", "weight_gradients")
        for key in KEYS
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    }
    assert set(tags) == expected
    for key in KEYS:  # side by side: the same layout, the same gates
        for kind in ("gradients", "activations", "state_gradients"):
            assert tags[f"{kind}/{key}"].shape == (PROBE, LENGTH, HIDDEN), (kind, key)
        assert tags[f"weight_contributions/{key}"].gates == ("r", "z", "n")
    decoder = tags["state_gradients/decoder.gru"]
    assert decoder.call_timesteps == (1,) * LENGTH  # one call per target step
    steps = reader.list_steps(_ctx(), "", SERIES, "state_gradients/decoder.gru")
    assert [s.step for s in steps] == LOGGED_STEPS


def test_the_decoders_state_gradient_reaches_back_across_every_target_step(
    reader, demo
):
    profiles = reader.read_profiles_of(
        _ctx(), "", SERIES, "state_gradients/decoder.gru"
    )
    assert profiles.steps == LOGGED_STEPS
    assert profiles.reach() == [LENGTH - 1] * len(LOGGED_STEPS)
    last = LOGGED_STEPS[-1]
    state = _tensor(reader, "state_gradients/decoder.gru", last)
    output = _tensor(reader, "gradients/decoder.gru", last)
    # After the last call the state is used by the output layer only; before
    # it, also by the next call and its attention query: more than the output.
    np.testing.assert_allclose(state[:, -1], output[:, -1], rtol=1e-4, atol=1e-7)
    norms = np.linalg.norm(state, axis=-1)  # (samples, target steps)
    assert (norms[:, 0] > 0.01 * norms.max()).all(), norms[:, 0]
    # The encoder's output gradient, through the attention: from the start,
    # the first source positions get some; after training, the demo's own
    # figure (from a capture on the probe) is the logs'.
    encoder = reader.read_profiles_of(_ctx(), "", SERIES, "gradients/encoder.gru")
    assert min(encoder.reach()) >= LENGTH - 3, encoder.reach()
    assert encoder.reach()[-1] == _outcome(demo[0])["reach"]["gradients/encoder.gru"]
