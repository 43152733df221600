"""The loggers' health check: on_problem and health_thresholds, in Keras and
PyTorch (where step() also returns the findings)."""

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
    with pytest.raises(ValueError, match="health_thresholds must be None .* a"):
        tb_rnngrad.GradientLogger(
            "logs", data=(np.zeros((2, 3, 1)),) * 2, on_problem="warn",
            health_thresholds=0.25,
        )  # fmt: skip


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


def _torch_step(logger, step):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = logger.step(step)
    return found, [str(w.message) for w in caught if w.category is RuntimeWarning]


def test_pytorch_step_returns_the_findings_and_warns(tmp_path):
    logger = _torch_setup(tmp_path, on_problem="warn")
    found, messages = _torch_step(logger, 0)
    assert found == True and found  # noqa: E712 (still the bool it was)
    (finding,) = found
    assert (finding.code, finding.layer, finding.step) == ("vanishing", "rnn", 0)
    assert finding.evidence["horizon"] == 0
    assert logger.findings == [finding] and not logger.should_stop
    (message,) = messages
    assert "vanishing in layer rnn at step 0: Gradient horizon 0 of 19" in message
    assert logger.step(3) is False
    logger.close()


def test_pytorch_stop_sets_should_stop_and_says_so(tmp_path):
    logger = _torch_setup(tmp_path, on_problem="stop")
    assert logger.should_stop is False
    _, messages = _torch_step(logger, 0)
    assert logger.should_stop is True
    assert [m for m in messages if "logger.should_stop is now True" in m]
    _, again = _torch_step(logger, 5)  # still logs; said once
    assert logger.logged_steps == [0, 5] and again == []
    logger.close()


def test_pytorch_without_on_problem_nothing_is_checked(tmp_path, monkeypatch):
    def fail(*args):
        raise AssertionError("checked")

    monkeypatch.setattr(monitor.HealthMonitor, "add", fail)
    logger = _torch_setup(tmp_path)
    first, messages = _torch_step(logger, 0)
    assert first == [] and first and logger.findings == [] and messages == []
    logger.close()


def test_pytorch_thresholds_and_bad_values(tmp_path):
    from tb_rnngrad.errors import CaptureError

    with pytest.raises(CaptureError, match='on_problem must be None, "warn"'):
        _torch_setup(tmp_path, on_problem="halt")
    with pytest.raises(CaptureError, match="health_thresholds must be None .* a"):
        _torch_setup(tmp_path, on_problem="warn", health_thresholds=0.01)
    custom = _torch_setup(
        tmp_path,
        on_problem="warn",
        health_thresholds=health.Thresholds(vanishing_fraction=0.01),
    )
    (found,), _ = _torch_step(custom, 0)
    assert found.evidence["fraction"] == 0.01
    custom.close()
