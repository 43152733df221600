"""The loggers' health check: Keras's on_problem, PyTorch's step() findings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tb_rnngrad import health
from tb_rnngrad.health import monitor
from testkit import health_zoo


def _fit(tmp_path, name, epochs=3, **options):
    import keras

    import tb_rnngrad

    keras.utils.set_random_seed(0)
    case = {**health_zoo.ZOO, **health_zoo.HEALTHY}[name]
    model, (x, y) = case.build()
    model.compile(optimizer=keras.optimizers.Adam(case.learning_rate), loss="mse")
    logger = tb_rnngrad.GradientLogger(
        str(tmp_path), data=(x[:16], y[:16]), every_n_steps=3,
        kinds=("state_gradients",), **options,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(
            x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=[logger]
        )
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    return logger, history, messages


def test_stop_ends_training_at_the_first_problem(tmp_path):
    logger, history, messages = _fit(tmp_path, "zero_recurrent", on_problem="stop")
    assert len(history.epoch) == 1  # stopped in the first epoch
    assert logger.logged_steps == [0]
    (found,) = logger.findings
    assert (found.code, found.layer, found.step) == ("vanishing", "rnn", 0)
    (message,) = [m for m in messages if "vanishing" in m]
    assert "vanishing in layer rnn at step 0: Gradient horizon 0 of 23" in message


def test_warn_warns_once_per_problem_and_trains_on(tmp_path):
    logger, history, messages = _fit(tmp_path, "zero_recurrent", on_problem="warn")
    assert len(history.epoch) == 3
    assert len([m for m in messages if "vanishing in layer rnn" in m]) == 1
    assert logger.logged_steps[-1] == 24


def test_a_healthy_run_gets_no_warning(tmp_path):
    logger, _, messages = _fit(tmp_path, "healthy_gru", epochs=1, on_problem="warn")
    assert logger.findings == [] and not [m for m in messages if "health" in m]


def test_without_on_problem_nothing_is_checked(tmp_path, monkeypatch):
    def fail(*args):
        raise AssertionError("checked")

    monkeypatch.setattr(monitor.HealthMonitor, "add", fail)
    logger, _, _ = _fit(tmp_path, "zero_recurrent", epochs=1)
    assert logger.findings == []


def test_a_failing_health_check_never_stops_training(tmp_path, monkeypatch):
    def fail(*args):
        raise ValueError("boom")

    monkeypatch.setattr(monitor.HealthMonitor, "add", fail)
    logger, history, messages = _fit(tmp_path, "zero_recurrent", on_problem="stop")
    assert len(history.epoch) == 3
    (message,) = [m for m in messages if "health check" in m]
    assert "health check of step 0 failed (ValueError: boom)" in message
    assert logger.logged_steps[-1] == 24


def test_on_problem_says_what_it_takes():
    import tb_rnngrad

    with pytest.raises(ValueError, match='on_problem must be None, "warn" or "stop"'):
        tb_rnngrad.GradientLogger("logs", data=(np.zeros((2, 3, 1)),) * 2,
                                  on_problem="halt")  # fmt: skip


def _torch_setup(tmp_path, **options):
    torch = pytest.importorskip("torch")
    from tb_rnngrad.pytorch import GradientLogger

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.RNN(1, 8, batch_first=True)
            self.head = torch.nn.Linear(8, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.rnn.weight_hh_l0.zero_()  # no recurrence: the horizon is 0
    x = torch.randn(8, 20, 1)
    y = torch.randn(8, 1)
    logger = GradientLogger(
        str(tmp_path), net, torch.nn.MSELoss(), (x, y), every_n_steps=5,
        kinds=("state_gradients",), **options,
    )  # fmt: skip
    return logger


def test_pytorch_step_returns_the_findings(tmp_path):
    logger = _torch_setup(tmp_path)
    found = logger.step(0)
    assert found == True and found  # noqa: E712 (still the bool it was)
    (finding,) = found
    assert (finding.code, finding.layer, finding.step) == ("vanishing", "rnn", 0)
    assert finding.evidence["horizon"] == 0
    assert logger.step(3) is False
    logger.close()


def test_pytorch_health_off_and_bad_value(tmp_path):
    from tb_rnngrad.errors import CaptureError

    logger = _torch_setup(tmp_path, health=False)
    first = logger.step(0)
    assert first == [] and first
    logger.close()
    with pytest.raises(CaptureError, match="health must be True, False or a"):
        _torch_setup(tmp_path, health="yes")
    custom = _torch_setup(tmp_path, health=health.Thresholds(vanishing_fraction=0.01))
    (found,) = custom.step(0)
    assert found.evidence["fraction"] == 0.01
    custom.close()
