"""Runs broken on purpose (and healthy ones), trained for real with Keras.

Each `Case` builds a small model and its data with a known cause of trouble;
`train` fits it with `tb_rnngrad.GradientLogger` into `<logdir>/<name>`, so
the health report is read from real event files. Seeds make them repeatable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import numpy as np

TIMESTEPS = 24
SAMPLES = 256
BATCH = 32
KINDS = (
    "gradients",
    "activations",
    "state_gradients",
    "weights",
    "weight_gradients",
    "gate_activations",
)


@dataclasses.dataclass(frozen=True)
class Case:
    """A run of the zoo: how to build it and what the report must say."""

    build: Callable[[], tuple]
    expected: frozenset[str]
    cause: str
    learning_rate: float = 1e-2
    optimizer: str = "adam"


def _data(timesteps: int = TIMESTEPS, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, timesteps, 1)).astype("float32")
    # The target needs the first timestep: gradient must reach back to it.
    y = (x[:, 0, 0] + x[:, timesteps // 2, 0]).astype("float32")[:, None]
    return x, y


def _model(cell, timesteps: int = TIMESTEPS, after=None):
    import keras

    inputs = keras.Input((timesteps, 1), name="sequence")
    hidden = cell(inputs)
    for layer in after or ():
        hidden = layer(hidden)
    outputs = keras.layers.Dense(1, name="head")(hidden)
    return keras.Model(inputs, outputs)


def _bias(units: int, gates: int, values: dict[int, float]):
    """A bias initializer: zero, except `{column: value}`."""

    def init(shape, dtype=None):
        bias = np.zeros(shape, "float32")
        for column, value in values.items():
            bias[column] = value
        return bias

    return init


def _small_recurrent():
    import keras

    init = keras.initializers.Orthogonal(gain=0.1, seed=1)
    return _model(
        keras.layers.SimpleRNN(16, recurrent_initializer=init, name="rnn")
    ), _data()


def _zero_recurrent():
    import keras

    return _model(
        keras.layers.SimpleRNN(16, recurrent_initializer="zeros", name="rnn")
    ), _data()


def _large_recurrent():
    import keras

    init = keras.initializers.Orthogonal(gain=1.6, seed=1)
    cell = keras.layers.SimpleRNN(
        16, activation="linear", recurrent_initializer=init, name="rnn"
    )
    return _model(cell), _data()


def _closed_forget_gate():
    import keras

    units = 16
    bias = _bias(units, 4, {c: -12.0 for c in range(units, 2 * units)})
    cell = keras.layers.LSTM(
        units, unit_forget_bias=False, bias_initializer=bias, name="rnn"
    )
    return _model(cell), _data()


def _nan_in_data():
    import keras

    x, y = _data()
    x[2, 5, 0] = np.nan
    return _model(keras.layers.LSTM(16, name="rnn")), (x, y)


def _nan_in_targets():
    import keras

    x, y = _data()
    y[3, 0] = np.nan
    return _model(keras.layers.GRU(16, name="rnn")), (x, y)


def _nan_weight():
    import keras

    model = _model(keras.layers.LSTM(8, name="rnn"))
    kernel = model.get_layer("rnn").cell.recurrent_kernel
    values = keras.ops.convert_to_numpy(kernel).copy()
    values[0, 8 + 3] = np.nan  # column 3 of the forget gate (i, f, c, o)
    kernel.assign(values)
    return model, _data()


def _dead_relu():
    import keras

    units = 16
    bias = _bias(units, 1, {c: -20.0 for c in range(8)})
    cell = keras.layers.SimpleRNN(
        units, return_sequences=True, bias_initializer=bias, name="rnn"
    )
    after = [keras.layers.ReLU(name="relu"), keras.layers.GRU(8, name="top")]
    return _model(cell, after=after), _data()


def _diverging():
    import keras

    return _model(keras.layers.SimpleRNN(16, activation="relu", name="rnn")), _data()


def _healthy(kind: str, timesteps: int = TIMESTEPS):
    import keras

    def build():
        layer = getattr(keras.layers, kind)(16, name="rnn")
        return _model(layer, timesteps), _data(timesteps)

    return build


def _healthy_bidirectional():
    import keras

    layer = keras.layers.Bidirectional(keras.layers.LSTM(8, name="rnn"), name="bi")
    return _model(layer), _data()


ZOO = {
    "small_recurrent": Case(
        _small_recurrent,
        frozenset({"vanishing"}),
        "SimpleRNN with recurrent weights of gain 0.1",
    ),
    "zero_recurrent": Case(
        _zero_recurrent,
        frozenset({"vanishing"}),
        "SimpleRNN with zero recurrent weights",
        learning_rate=1e-4,
    ),
    "large_recurrent": Case(
        _large_recurrent,
        frozenset({"exploding"}),
        "linear SimpleRNN with recurrent weights of gain 1.6",
        learning_rate=1e-5,
    ),
    "closed_forget_gate": Case(
        _closed_forget_gate,
        frozenset({"vanishing", "saturated_gates"}),
        "LSTM whose forget gate starts closed (bias -12)",
        learning_rate=1e-3,
    ),
    "nan_in_data": Case(_nan_in_data, frozenset({"nonfinite"}), "a NaN in the inputs"),
    "nan_in_targets": Case(
        _nan_in_targets, frozenset({"nonfinite"}), "a NaN in the targets"
    ),
    "nan_weight": Case(
        _nan_weight, frozenset({"nonfinite"}), "a NaN in the forget gate's weights"
    ),
    "dead_relu": Case(
        _dead_relu,
        frozenset({"dead_units"}),
        "half the units stuck below zero before a ReLU",
    ),
    "diverging_lr": Case(
        _diverging,
        frozenset({"nonfinite"}),
        "a ReLU SimpleRNN trained with SGD at learning rate 5",
        learning_rate=5.0,
        optimizer="sgd",
    ),
}

HEALTHY = {
    "healthy_lstm": Case(_healthy("LSTM"), frozenset(), "LSTM"),
    "healthy_gru": Case(_healthy("GRU"), frozenset(), "GRU"),
    "healthy_short_simplernn": Case(
        _healthy("SimpleRNN", 6), frozenset(), "SimpleRNN on 6 timesteps"
    ),
    "healthy_bidirectional": Case(
        _healthy_bidirectional, frozenset(), "Bidirectional LSTM"
    ),
}


def train(logdir: str, name: str, case: Case, epochs: int = 3) -> str:
    """Fits `case` with a `GradientLogger` into `<logdir>/<name>`; returns it."""
    import keras

    import tb_rnngrad

    keras.utils.set_random_seed(0)
    model, (x, y) = case.build()
    optimizer = (
        keras.optimizers.SGD(case.learning_rate)
        if case.optimizer == "sgd"
        else keras.optimizers.Adam(case.learning_rate)
    )
    model.compile(optimizer=optimizer, loss="mse")
    path = os.path.join(logdir, name)
    logger = tb_rnngrad.GradientLogger(
        path, data=(x[:16], y[:16]), every_n_steps=3, kinds=KINDS
    )
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[logger])
    return path
