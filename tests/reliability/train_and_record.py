"""Trains a tiny RNN, logging every step, and records reference gradients.

    python -m reliability.train_and_record LOGDIR REFDIR SECONDS

Run from `tests/` (as `tests/test_reliability_training.py` does). While
`model.fit` runs, `tb_rnngrad.GradientLogger(every_n_steps=1)` (kind
"gradients", which the reference covers) writes
`LOGDIR/rnngrad`, and a second callback placed after it computes
`tb_rnngrad.rnn_gradients` on the same probe batch at the same weights and
saves each layer's gradient as `REFDIR/<layer>/<step>.npy` (`np.save`, whose
bytes are what the `tensor` route must serve). Training stops once it has
logged for SECONDS seconds; `REFDIR/done.json` then lists the logged steps.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tb_rnngrad  # noqa: E402

TIMESTEPS, FEATURES, PROBE = 6, 3, 8
LAYERS = ("l1", "g2")


def build_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, FEATURES))
    hidden = keras.layers.LSTM(4, return_sequences=True, name="l1")(inputs)
    hidden = keras.layers.GRU(3, name="g2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def data(samples: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, TIMESTEPS, FEATURES)).astype("float32")
    return x, x[:, 0, :1] * 0.5  # the target depends on the first timestep


class Reference(keras.callbacks.Callback):
    """Saves `rnn_gradients` of the probe batch whenever the logger logs.

    The logger logs at train begin, at every batch begin (every_n_steps=1) and
    at train end, at step `optimizer.iterations`; this callback runs right
    after it at the same moments, so it sees the same weights.
    """

    def __init__(self, refdir: str, probe, seconds: float) -> None:
        super().__init__()
        self.refdir = refdir
        self.probe = probe
        self.seconds = seconds
        self.deadline = None
        self.saved: list[int] = []

    def _save(self) -> None:
        step = int(self.model.optimizer.iterations.numpy())
        if self.saved and self.saved[-1] == step:
            return
        grads = tb_rnngrad.rnn_gradients(self.model, *self.probe)
        for key in LAYERS:
            path = os.path.join(self.refdir, key, f"{step}.npy")
            np.save(path + ".tmp.npy", grads[key])
            os.replace(path + ".tmp.npy", path)
        self.saved.append(step)

    def on_train_begin(self, logs=None) -> None:
        self.deadline = time.monotonic() + self.seconds
        self._save()

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self._save()
        if time.monotonic() > self.deadline:
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        self._save()


def main(logdir: str, refdir: str, seconds: float) -> None:
    for key in LAYERS:
        os.makedirs(os.path.join(refdir, key), exist_ok=True)
    model = build_model()
    x, y = data()
    probe = (x[:PROBE], y[:PROBE])
    logger = tb_rnngrad.GradientLogger(
        logdir, data=probe, every_n_steps=1, kinds=("gradients",)
    )
    reference = Reference(refdir, probe, seconds)
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=10**6,
        callbacks=[logger, reference],
        verbose=0,
    )
    with open(os.path.join(refdir, "done.json"), "w") as done:
        json.dump(
            {"logged_steps": logger.logged_steps, "saved_steps": reference.saved},
            done,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
