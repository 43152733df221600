"""The demo-sized Keras model and data of the capture benchmarks, without
TensorFlow (so `bench_backends` builds it on every Keras backend).

Input (16 samples, 200 timesteps, 8 features) -> LSTM(64,
return_sequences=True) -> LSTM(64) -> Dense(1), mse, Adam.
"""

from __future__ import annotations

import keras
import numpy as np

SAMPLES, TIMESTEPS, FEATURES, UNITS = 16, 200, 8, 64


def build_model() -> keras.Model:
    """The demo-sized stacked LSTM."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, FEATURES), name="sequence")
    hidden = keras.layers.LSTM(UNITS, return_sequences=True, name="lstm_1")(inputs)
    hidden = keras.layers.LSTM(UNITS, name="lstm_2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="adam", loss="mse")
    return model


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`samples` random sequences and targets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, TIMESTEPS, FEATURES)).astype("float32")
    return x, rng.standard_normal((samples, 1)).astype("float32")
