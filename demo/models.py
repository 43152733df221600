"""The four recurrent models the demo compares."""

from __future__ import annotations

import keras

from demo.tasks import Task

MODEL_NAMES = ("simplernn", "lstm", "gru", "bigru")


def build(model_name: str, task: Task, units: int = 32, seed: int = 0) -> keras.Model:
    """Two stacked recurrent layers of one kind, then a Dense head.

    The first layer ("rnn_1") returns its sequence, so its logged gradient
    shows how far back the second layer carries gradient; the input gradient
    shows how far back the whole network reaches.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=task.x.shape[1:], name="sequence")
    hidden = _recurrent(model_name, units, True, "rnn_1")(inputs)
    hidden = _recurrent(model_name, units, task.return_sequences, "rnn_2")(hidden)
    outputs = keras.layers.Dense(
        task.output_units, activation=task.output_activation, name="head"
    )(hidden)
    model = keras.Model(inputs, outputs, name=f"{task.name}_{model_name}")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=task.loss)
    return model


def _recurrent(model_name: str, units: int, sequences: bool, name: str):
    if model_name == "simplernn":
        return keras.layers.SimpleRNN(units, return_sequences=sequences, name=name)
    if model_name == "lstm":
        return keras.layers.LSTM(units, return_sequences=sequences, name=name)
    if model_name == "gru":
        return keras.layers.GRU(units, return_sequences=sequences, name=name)
    if model_name == "bigru":
        inner = keras.layers.GRU(units // 2, return_sequences=sequences)
        return keras.layers.Bidirectional(inner, name=name)
    raise ValueError(f"unknown model {model_name!r}; expected one of {MODEL_NAMES}")
