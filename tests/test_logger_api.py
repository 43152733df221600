"""One logger API: the Keras and PyTorch `GradientLogger` take the same
arguments, log state gradients by default (gradients alone, with a note, where
they cannot be captured), and accept the old forms with a DeprecationWarning
that names the new one, logging the same thing."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import tb_rnngrad  # noqa: E402
from tb_rnngrad import health  # noqa: E402
from tb_rnngrad import pytorch as tp  # noqa: E402
from tb_rnngrad.capture import capture  # noqa: E402
from testkit.events import Events  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES, STEPS, FEATURES, UNITS = 24, 12, 3, 5
SHARED = (
    "every_n_steps", "layers", "kinds", "max_samples", "max_bytes_per_step",
    "subdir", "on_problem", "health_thresholds",
)  # fmt: skip


def _keras_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, STEPS, FEATURES)).astype("float32")
    return x, x[:, :3, :1].sum(axis=1)


def _readme_model() -> keras.Model:
    """The README's model: one LSTM returning its last output, then Dense."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((STEPS, FEATURES)),
            keras.layers.LSTM(UNITS, name="lstm"),
            keras.layers.Dense(1, name="head"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


class _TorchNet(nn.Module):
    """The same model in PyTorch."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.head = nn.Linear(UNITS, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def _torch_setup():
    torch.manual_seed(0)
    x, y = (torch.from_numpy(a) for a in _keras_data())
    return _TorchNet(), nn.MSELoss(), x, y


def _run_torch(logger, steps=(0, 2)):
    for step in steps:
        logger.step(step)
    logger.close()


def _logged(path) -> dict[str, dict[int, np.ndarray]]:
    events = Events(str(path))
    return {
        tag: {step: values[0] for step, values in events.read(tag).items()}
        for tag in events.tags()
    }


def _assert_same_logs(a, b):
    first, second = _logged(a), _logged(b)
    assert sorted(first) == sorted(second)
    for tag in first:
        assert sorted(first[tag]) == sorted(second[tag]), tag
        for step in first[tag]:
            np.testing.assert_array_equal(first[tag][step], second[tag][step])


def _parameters(cls) -> list[inspect.Parameter]:
    return list(inspect.signature(cls.__init__).parameters.values())


def test_both_loggers_share_names_order_and_defaults():
    keras_params = _parameters(tb_rnngrad.GradientLogger)
    torch_params = _parameters(tp.GradientLogger)
    assert [p.name for p in keras_params[:3]] == ["self", "log_dir", "data"]
    assert [p.name for p in torch_params[:5]] == [
        "self", "log_dir", "module", "loss_fn", "data",
    ]  # fmt: skip
    shared_keras = [(p.name, p.kind, p.default) for p in keras_params[3:]]
    shared_torch = [(p.name, p.kind, p.default) for p in torch_params[5:]]
    assert [name for name, _, _ in shared_keras] == list(SHARED)
    assert shared_torch == [*shared_keras, shared_torch[-1]]
    assert shared_torch[-1][0] == "batch_first"
    defaults = dict((name, default) for name, _, default in shared_keras)
    assert defaults["every_n_steps"] == 100 and defaults["max_samples"] == 16
    assert defaults["kinds"] is None and defaults["on_problem"] is None


def test_keras_default_logs_state_gradients_with_a_time_axis(tmp_path):
    model = _readme_model()
    x, y = _keras_data()
    logger = tb_rnngrad.GradientLogger(tmp_path, data=(x, y), every_n_steps=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no fallback note
        model.fit(x, y, batch_size=4, epochs=1, callbacks=[logger], verbose=0)
    assert logger.kinds == ("gradients", "state_gradients")
    logged = _logged(tmp_path)
    assert sorted(logged) == [
        "gradients/lstm", "state_gradients/lstm", "state_gradients/lstm/cell",
    ]  # fmt: skip
    assert logger.logged_steps == sorted(logged["state_gradients/lstm"]) == [0, 3, 6]
    expected = capture(model, x[:16], y[:16], kinds=("state_gradients",))
    for key in ("lstm", "lstm/cell"):
        tensor = logged[f"state_gradients/{key}"][6]
        assert tensor.shape == (16, STEPS, UNITS)  # max_samples=16, time axis
        np.testing.assert_allclose(
            tensor, expected.state_gradients[key], rtol=1e-5, atol=1e-7
        )
    assert logged["gradients/lstm"][6].shape == (16, UNITS)  # no time axis


def test_torch_default_logs_state_gradients_with_a_time_axis(tmp_path):
    net, loss_fn, x, y = _torch_setup()
    logger = tp.GradientLogger(str(tmp_path), net, loss_fn, (x, y), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _run_torch(logger)
    assert logger.kinds == ("gradients", "state_gradients")
    logged = _logged(tmp_path)
    assert sorted(logged) == [
        "gradients/lstm", "state_gradients/lstm", "state_gradients/lstm/cell",
    ]  # fmt: skip
    expected = tp.capture(net, loss_fn, x[:16], y[:16], kinds=("state_gradients",))
    for key in ("lstm", "lstm/cell"):
        tensor = logged[f"state_gradients/{key}"][2]
        assert tensor.shape == (16, STEPS, UNITS)  # max_samples=16, time axis
        np.testing.assert_allclose(
            tensor, expected.state_gradients[key], rtol=1e-5, atol=1e-7
        )


def test_torch_max_samples_cuts_inputs_targets_and_time_major_batches(tmp_path):
    from tb_rnngrad.pytorch.probe_batch import first_samples

    net, loss_fn, x, y = _torch_setup()
    logger = tp.GradientLogger(
        str(tmp_path), net, loss_fn, (x, y), max_samples=5, kinds=("gradients",)
    )
    _run_torch(logger, steps=(0,))
    (tensor,) = Events(str(tmp_path)).read("gradients/lstm")[0]
    expected = tp.rnn_gradients(net, loss_fn, x[:5], y[:5])["lstm"]
    np.testing.assert_array_equal(tensor, expected)
    time_major = x.transpose(0, 1)  # (timesteps, batch, features)
    h0 = torch.zeros(1, SAMPLES, UNITS)
    (cut, cut_h0), cut_y = first_samples(((time_major, h0), y), 5, False)
    assert torch.equal(cut, time_major[:, :5]) and torch.equal(cut_h0, h0[:, :5])
    assert torch.equal(cut_y, y[:5])
    with pytest.raises(tp.CaptureError, match="max_samples=5 cannot cut a object"):
        first_samples((x, object()), 5, True)


def test_keras_default_falls_back_to_gradients_with_one_note(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, FEATURES))
    hidden = keras.layers.Conv1D(4, 3, padding="same", name="conv")(inputs)
    hidden = keras.layers.LSTM(UNITS, name="lstm")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _keras_data()
    logger = tb_rnngrad.GradientLogger(tmp_path, (x, y), 3, layers="conv")
    with pytest.warns(UserWarning) as caught:
        model.fit(x, y, batch_size=4, epochs=2, callbacks=[logger], verbose=0)
    (note,) = [str(w.message) for w in caught if "not the default" in str(w.message)]
    assert "logging ['gradients'] only, not the default" in note
    assert "'conv' (Conv1D) is not recurrent" in note
    assert "kinds=('gradients',)" in note
    assert logger.kinds == ("gradients",)
    assert Events(str(tmp_path)).tags() == ["gradients/conv"]


def test_tf_keras_default_logs_gradients_with_a_note(tmp_path):
    script = textwrap.dedent(
        f"""
        import warnings
        import numpy as np
        import tf_keras
        import tb_rnngrad

        model = tf_keras.Sequential([
            tf_keras.layers.LSTM(3, input_shape=(4, 2), name="lstm"),
            tf_keras.layers.Dense(1),
        ])
        model.compile(optimizer="sgd", loss="mse")
        x, y = np.ones((8, 4, 2), "float32"), np.ones((8, 1), "float32")
        logger = tb_rnngrad.GradientLogger({str(tmp_path)!r}, (x, y))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x, y, epochs=1, callbacks=[logger], verbose=0)
        print(logger.kinds)
        print([str(w.message) for w in caught if w.category is UserWarning])
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    kinds, notes = done.stdout.strip().splitlines()[-2:]
    assert kinds == "('gradients',)"
    assert "not supported on tf_keras (Keras 2)" in notes
    assert Events(str(tmp_path)).tags() == ["gradients/lstm"]


def test_torch_default_falls_back_for_a_module_without_states(tmp_path):
    _, loss_fn, x, y = _torch_setup()
    layer = nn.TransformerEncoderLayer(UNITS, 1, 8, batch_first=True)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(FEATURES, UNITS)
            self.encoder = layer
            self.head = nn.Linear(UNITS, 1)

        def forward(self, inputs):
            return self.head(self.encoder(self.proj(inputs))[:, -1])

    logger = tp.GradientLogger(
        str(tmp_path), Encoder(), loss_fn, (x, y), layers="encoder"
    )
    with pytest.warns(UserWarning, match="not the default") as caught:
        _run_torch(logger, steps=(0, 100))
    notes = [str(w.message) for w in caught if "not the default" in str(w.message)]
    assert len(notes) == 1 and "'encoder' (TransformerEncoderLayer)" in notes[0]
    assert logger.kinds == ("gradients",)
    assert Events(str(tmp_path)).tags() == ["gradients/encoder"]


def test_keras_old_positional_layers_warns_and_logs_the_same(tmp_path):
    x, y = _keras_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = tb_rnngrad.GradientLogger(tmp_path / "new", (x, y), 2, layers="lstm")
    with pytest.warns(DeprecationWarning) as caught:
        old = tb_rnngrad.GradientLogger(tmp_path / "old", (x, y), "lstm", 2)
        line = inspect.currentframe().f_lineno - 1
    (warned,) = caught
    assert "third positional argument is deprecated; pass it as layers=" in str(
        warned.message
    )
    assert (warned.filename, warned.lineno) == (__file__, line)  # the caller's
    with pytest.warns(DeprecationWarning, match="pass it as layers="):
        three = tb_rnngrad.GradientLogger(tmp_path / "three", (x, y), None)
    assert (three.layers, three.every_n_steps) == (None, 100)
    for logger in (new, old):
        assert (logger.layers, logger.every_n_steps) == ("lstm", 2)
        _readme_model().fit(x, y, batch_size=8, epochs=2, callbacks=[logger], verbose=0)
    _assert_same_logs(tmp_path / "new", tmp_path / "old")
    with pytest.raises(TypeError, match="got layers twice"):
        tb_rnngrad.GradientLogger(tmp_path, (x, y), "lstm", layers="lstm")


def test_torch_old_keywords_warn_and_log_the_same(tmp_path):
    net, loss_fn, x, y = _torch_setup()
    new = tp.GradientLogger(
        log_dir=str(tmp_path / "new"), module=net, loss_fn=loss_fn, data=(x, y),
        on_problem="warn",
        health_thresholds=health.Thresholds(vanishing_fraction=0.01),
    )  # fmt: skip
    with pytest.warns(DeprecationWarning) as caught:
        old = tp.GradientLogger(
            log_dir_or_writer=str(tmp_path / "old"), module=net, loss_fn=loss_fn,
            probe=(x, y), health=health.Thresholds(vanishing_fraction=0.01),
        )  # fmt: skip
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert [w.filename for w in caught] == [__file__] * 3  # the caller's
    assert "log_dir_or_writer=...) is deprecated; pass log_dir=" in messages[0]
    assert "probe=...) is deprecated; pass data=" in messages[1]
    assert 'pass on_problem="warn" and health_thresholds=' in messages[2]
    assert (old.on_problem, old._watch is not None) == ("warn", True)
    with pytest.warns(DeprecationWarning, match=r"health=False\) is deprecated"):
        off = tp.GradientLogger(
            str(tmp_path / "off"), net, loss_fn, (x, y), health=False
        )
    assert off.on_problem is None and off._watch is None
    for logger in (new, old):
        _run_torch(logger, steps=(0, 100))
        assert [f.code for f in logger.findings] == [f.code for f in new.findings]
    _assert_same_logs(tmp_path / "new", tmp_path / "old")
    with pytest.raises(TypeError, match="got both probe= and data="):
        tp.GradientLogger("d", net, loss_fn, data=(x, y), probe=(x, y))
    with pytest.raises(tp.CaptureError, match="health must be True, False or a"):
        tp.GradientLogger("d", net, loss_fn, (x, y), health="yes")
