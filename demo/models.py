"""The three recurrent models the demo compares, in Keras (keyed by
`demo.config.MODEL_NAMES`)."""

from __future__ import annotations

import keras

LAYERS = {
    "simplernn": keras.layers.SimpleRNN,
    "gru": keras.layers.GRU,
    "lstm": keras.layers.LSTM,
}


def build(
    model_name: str,
    input_shape: tuple[int, int],
    units: int,
    learning_rate: float,
    clipnorm: float,
    seed: int,
) -> keras.Model:
    """One recurrent layer ("rnn") returning its last output, then a Dense head.

    Compiled with mse and Adam (gradient norm clipped to `clipnorm`); weights
    initialised from `seed`.
    """
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape, name="sequence")
    hidden = LAYERS[model_name](units, name="rnn")(inputs)
    outputs = keras.layers.Dense(1, name="head")(hidden)
    model = keras.Model(inputs, outputs, name=model_name)
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=clipnorm)
    model.compile(optimizer=optimizer, loss="mse")
    return model
