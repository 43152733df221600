"""Each rnngrad run's latest loss, read from its own scalars (`losses` route)."""

from __future__ import annotations

import pytest
from tensorboard import context
from tensorboard.compat.proto import summary_pb2

from tb_rnngrad.server.losses import latest_losses
from testkit.data import write_run
from testkit.providers import start_provider, wait_for


def _scalar(tag, value):
    return summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
    )


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("losses")
    # Keras 3: P/train and P/validation; the last step wins, not the last written.
    write_run(
        logdir / "keras" / "train",
        [(s, _scalar("epoch_loss", 1.0 / (s + 1))) for s in (0, 2, 1)],
    )
    write_run(logdir / "keras" / "validation", [(0, _scalar("epoch_loss", 0.75))])
    # PyTorch demo: P holds epoch_loss/train and epoch_loss/validation.
    write_run(
        logdir / "torch",
        [(3, _scalar("epoch_loss/train", 0.25)), (3, _scalar("mine", 9.0))],
    )
    # A NaN loss is no latest loss.
    write_run(
        logdir / "nan" / "train",
        [(0, _scalar("epoch_loss", 0.5)), (1, _scalar("epoch_loss", float("nan")))],
    )
    provider, _ = start_provider("multiplexer", str(logdir))
    ctx = context.RequestContext()
    wait_for(lambda: len(provider.list_runs(ctx, experiment_id="")) >= 4)
    return provider, ctx


def test_latest_loss_of_each_layout(provider):
    provider, ctx = provider
    runs = ["keras/rnngrad", "torch/rnngrad", "nan/rnngrad", "none/rnngrad"]
    got = latest_losses(provider, ctx, "", runs)
    assert got["keras/rnngrad"] == {
        "train": {
            "run": "keras/train",
            "tag": "epoch_loss",
            "step": 2,
            "value": pytest.approx(1 / 3),
        },
        "validation": {
            "run": "keras/validation",
            "tag": "epoch_loss",
            "step": 0,
            "value": 0.75,
        },
    }
    assert got["torch/rnngrad"] == {
        "train": {"run": "torch", "tag": "epoch_loss/train", "step": 3, "value": 0.25}
    }
    assert got["nan/rnngrad"]["train"]["step"] == 0
    assert got["none/rnngrad"] == {}


def test_a_named_tag(provider):
    provider, ctx = provider
    got = latest_losses(provider, ctx, "", ["torch/rnngrad"], tag="mine")
    assert got == {
        "torch/rnngrad": {
            "named": {"run": "torch", "tag": "mine", "step": 3, "value": 9.0}
        }
    }
