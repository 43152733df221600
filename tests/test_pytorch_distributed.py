"""`tb_rnngrad.pytorch.GradientLogger` under data-parallel training: only rank 0
of a `torch.distributed` job writes, and a DistributedDataParallel or
DataParallel wrapper logs the tags and values of the model inside it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from demo.torch_models import Model
from tb_rnngrad.pytorch import (
    CaptureError,
    GradientLogger,
    recurrent_modules,
    rnn_gradients,
)
from testkit import torch_ddp
from testkit.events import Events, assert_same_runs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """OUT_DIR of `testkit.torch_ddp`: two ranks on gloo, trained and logged."""
    out = tmp_path_factory.mktemp("ddp")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", GLOO_SOCKET_IFNAME="lo")
    ranks = [
        subprocess.Popen(
            [sys.executable, "-m", "testkit.torch_ddp", str(out), str(rank)],
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for rank in range(torch_ddp.WORLD)
    ]
    for rank in ranks:
        _, stderr = rank.communicate(timeout=150)
        assert rank.returncode == 0, stderr
    return out


def _report(out, rank: int) -> dict:
    return json.loads((out / f"rank_{rank}.json").read_text())


def _model_at(weights, step: int) -> Model:
    net = torch_ddp.model()
    net.load_state_dict(
        {name: torch.from_numpy(weights[f"{step}/{name}"]) for name in net.state_dict()}
    )
    return net


def test_only_rank_0_writes(ddp_run):
    first, second = _report(ddp_run, 0), _report(ddp_run, 1)
    assert first["logged"] == [0, 2, 4]
    assert first["returned"] == [True, False, True, False, True, False]
    assert second["logged"] == []
    assert second["returned"] == [False] * (torch_ddp.STEPS + 1)
    files = [
        os.path.relpath(os.path.join(root, name), ddp_run / "logs")
        for root, _, names in os.walk(ddp_run / "logs")
        for name in names
    ]
    assert len(files) == 1, files
    assert files[0].startswith(os.path.join("rnngrad", "events.out.tfevents."))
    assert f".{first['pid']}." in files[0]  # written by rank 0's process


def _output_gradient(net: Model, x, y) -> np.ndarray:
    """d(loss)/d(rnn output) by plain autograd, the output kept by a hook."""
    kept = []
    hook = net.rnn.register_forward_hook(lambda m, a, out: kept.append(out[0]))
    net.eval()
    try:
        out = net(x)
        kept[0].retain_grad()
        nn.MSELoss()(out, y).backward()
    finally:
        hook.remove()
    return kept[0].grad.numpy()


def test_ddp_logs_the_gradients_of_the_weights_at_each_step(ddp_run):
    weights = np.load(ddp_run / "weights.npz")
    x, y = torch_ddp.data()
    probe = (x[: torch_ddp.PROBE], y[: torch_ddp.PROBE])
    events = Events(str(ddp_run / "logs"))
    assert events.tags() == [
        "gradients/rnn",
        "state_gradients/rnn",
        "state_gradients/rnn/cell",
        *(f"weight_gradients/rnn/{w}" for w in ("bias_hh", "bias_ih")),
        *(f"weight_gradients/rnn/{w}" for w in ("weight_hh", "weight_ih")),
    ]
    logged = events.read("gradients/rnn")
    assert sorted(logged) == [0, 2, 4]
    for step in (0, 2, 4):
        expected = _output_gradient(_model_at(weights, step), *probe)
        np.testing.assert_allclose(logged[step][0], expected, rtol=1e-5, atol=1e-9)
    assert not np.allclose(logged[0][0], logged[4][0])  # the weights did change


def test_ddp_run_and_an_unwrapped_run_of_the_same_weights_are_identical(ddp_run):
    weights = np.load(ddp_run / "weights.npz")
    x, y = torch_ddp.data()
    probe = (x[: torch_ddp.PROBE], y[: torch_ddp.PROBE])
    net = torch_ddp.model()
    plain = GradientLogger(
        ddp_run / "plain", net, nn.MSELoss(), probe, kinds=torch_ddp.KINDS
    )
    for step in (0, 2, 4):
        net.load_state_dict(_model_at(weights, step).state_dict())
        plain.log(step)
    plain.close()
    events = Events(str(ddp_run))
    assert_same_runs(events, "logs/rnngrad", "plain/rnngrad")


def _probe():
    torch.manual_seed(1)
    return torch.randn(6, 9, 2), torch.randn(6, 1)


STATE_KINDS = ("gradients", "state_gradients", "weight_contributions")


@pytest.mark.parametrize(
    ("wrapped_layers", "plain_layers", "kinds"),
    [
        (None, None, STATE_KINDS),
        ("rnn", "rnn", STATE_KINDS),
        ("module.rnn", "rnn", STATE_KINDS),
        (["module.rnn"], ["rnn"], ("gradients", "activations")),
    ],
    ids=str,
)
def test_a_data_parallel_wrapper_logs_what_its_model_logs(
    tmp_path, wrapped_layers, plain_layers, kinds
):
    torch.manual_seed(0)
    net = Model("gru", 2, 3)
    for run, module, layers in (
        ("wrapped", nn.DataParallel(net), wrapped_layers),
        ("plain", net, plain_layers),
    ):
        with GradientLogger(
            tmp_path / run, module, nn.MSELoss(), _probe(), kinds=kinds, layers=layers
        ) as logger:
            logger.log(3)
    events = Events(str(tmp_path))
    assert_same_runs(events, "wrapped/rnngrad", "plain/rnngrad")
    assert all("module" not in tag for tag in events.tags("wrapped/rnngrad"))


def test_wrapped_keys_are_those_of_the_model_inside():
    net = Model("lstm", 2, 3)
    assert recurrent_modules(nn.DataParallel(net)) == ["rnn"]
    assert recurrent_modules(nn.DataParallel(nn.LSTM(2, 3))) == ["lstm"]
    wrapped = nn.DataParallel(nn.DataParallel(net))
    found = rnn_gradients(wrapped, nn.MSELoss(), *_probe(), layers="module.module.rnn")
    expected = rnn_gradients(net, nn.MSELoss(), *_probe(), layers="rnn")
    assert list(found) == ["rnn"]
    np.testing.assert_array_equal(found["rnn"], expected["rnn"])
    with pytest.raises(CaptureError, match="'module.nope'.*recurrent modules: 'rnn'"):
        GradientLogger("unused", nn.DataParallel(net), nn.MSELoss(), _probe(),
                       layers="module.nope")  # fmt: skip
