"""One training script for every Keras: a model, a probe batch, and
`tb_rnngrad.GradientLogger` in `fit`.

It runs unchanged under each Keras 3 backend, and through its twin
`train_tf_keras.py` under tf_keras (Keras 2):

    KERAS_BACKEND=jax python tests/backends/train.py LOGDIR/jax
    python tests/backends/train_tf_keras.py LOGDIR/tf_keras

The weights are fixed (not drawn by the backend), so every run starts from
the same model and logs the same numbers.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

import tb_rnngrad

STEPS, FEATURES, BATCH = 5, 3, 4
KINDS = ("gradients", "input_gradients", "weights", "weight_gradients")


def data() -> tuple[np.ndarray, np.ndarray]:
    """16 sequences and their targets."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, STEPS, FEATURES)).astype("float32")
    return x, x[:, :2, 0].sum(axis=1, keepdims=True)


def build(keras: Any) -> Any:
    """LSTM -> GRU -> Dense, compiled, with weights drawn by NumPy."""
    inputs = keras.Input((STEPS, FEATURES), name="seq")
    hidden = keras.layers.LSTM(4, return_sequences=True, name="lstm")(inputs)
    hidden = keras.layers.GRU(3, name="gru")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    rng = np.random.default_rng(1)
    model.set_weights(
        [
            (rng.standard_normal(w.shape) * 0.5).astype("float32")
            for w in model.get_weights()
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def main(keras: Any, logdir: str) -> Any:
    """Trains 4 steps with the logger (every 2 steps); returns the logger."""
    model = build(keras)
    x, y = data()
    logger = tb_rnngrad.GradientLogger(
        logdir, data=(x[:BATCH], y[:BATCH]), every_n_steps=2, kinds=KINDS
    )
    model.fit(
        x, y, batch_size=BATCH, epochs=1, shuffle=False, callbacks=[logger], verbose=0
    )
    return logger


if __name__ == "__main__":
    import keras

    print(main(keras, sys.argv[1]).logged_steps)
