"""One backend's half of tests/test_keras_unrolled_backends.py.

    KERAS_BACKEND=<tensorflow|jax|torch> python tests/backends/unrolled.py OUT

Builds four models with NumPy-drawn weights (a loop over an LSTMCell, a
GRUCell loop reset half-way, an LSTM decoder called once per step from an
encoder's state, a shared LSTM on two inputs), captures every kind on one
batch and saves the arrays as `{<model>/<kind>/<key>[/<weight>]: array}` in
OUT/<backend>.npz, and the entries' call_timesteps and each CaptureError's
message in OUT/<backend>.json.
"""

from __future__ import annotations

import json
import os
import sys

import keras
import numpy as np
from keras import ops

from tb_rnngrad.capture import CaptureError, capture

BATCH, STEPS, FEATURES, UNITS = 3, 4, 2, 4
KINDS = (
    "gradients",
    "activations",
    "state_gradients",
    "weight_contributions",
    "weights",
    "weight_gradients",
)


class CellLoop(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cell = keras.layers.LSTMCell(UNITS, name="cell")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        states = self.cell.get_initial_state(batch_size=ops.shape(x)[0])
        outputs = []
        for t in range(x.shape[1]):
            out, states = self.cell(x[:, t], states)
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


class ResetLoop(keras.Model):
    """A GRUCell loop whose state is scaled between steps (one recurrence)
    and started afresh at step 2 (a second one)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cell = keras.layers.GRUCell(UNITS, name="cell")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        batch = ops.shape(x)[0]
        outputs = []
        for t in range(x.shape[1]):
            if t in (0, 2):
                states = self.cell.get_initial_state(batch_size=batch)
            out, states = self.cell(x[:, t], [0.5 * s for s in states])
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


class StepDecoder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.LSTM(UNITS, return_state=True, name="encoder")
        self.decoder = keras.layers.LSTM(UNITS, return_state=True, name="decoder")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, inputs):
        source, target = inputs
        _, h, c = self.encoder(source)
        outputs = []
        for t in range(target.shape[1]):
            out, h, c = self.decoder(target[:, t : t + 1], initial_state=[h, c])
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


def _siamese() -> keras.Model:
    shared = keras.layers.LSTM(UNITS, name="shared")
    first = keras.Input((STEPS, FEATURES), name="first")
    second = keras.Input((STEPS, FEATURES), name="second")
    merged = keras.layers.Concatenate()([shared(first), shared(second)])
    return keras.Model([first, second], keras.layers.Dense(1, name="head")(merged))


def _with_weights(model: keras.Model, x, seed: int) -> keras.Model:
    """Built on `x`, compiled, with weights drawn by NumPy (the same on every
    backend)."""
    model(x)
    rng = np.random.default_rng(seed)
    model.set_weights(
        [0.5 * rng.standard_normal(w.shape).astype("float32") for w in model.weights]
    )
    model.compile(loss="mse")
    return model


def _cases():
    rng = np.random.default_rng(0)

    def draw(*shape):
        return rng.standard_normal(shape).astype("float32")

    x = draw(BATCH, STEPS, FEATURES)
    yield "cell_loop", CellLoop(), x, draw(BATCH, STEPS, 1)
    yield "reset", ResetLoop(), draw(BATCH, STEPS, FEATURES), draw(BATCH, STEPS, 1)
    pair = [draw(BATCH, STEPS, FEATURES), draw(BATCH, 3, FEATURES)]
    yield "decoder", StepDecoder(), pair, draw(BATCH, 3, 1)
    pair = [draw(BATCH, STEPS, FEATURES), draw(BATCH, STEPS, FEATURES)]
    yield "siamese", _siamese(), pair, draw(BATCH, 1)


def main(out: str) -> None:
    backend = keras.backend.backend()
    arrays, errors, layers = {}, {}, {}
    for seed, (name, model, x, y) in enumerate(_cases()):
        model = _with_weights(model, x, seed)
        try:
            result = capture(model, x, y, kinds=KINDS)
        except CaptureError as error:
            errors[name] = str(error)
            continue
        arrays[f"{name}/loss"] = np.float32(result.loss)
        for kind in ("gradients", "activations", "state_gradients"):
            for key, value in getattr(result, kind).items():
                arrays[f"{name}/{kind}/{key}"] = value
        for kind in ("weight_contributions", "weights", "weight_gradients"):
            for key, by_name in getattr(result, kind).items():
                for weight, value in by_name.items():
                    arrays[f"{name}/{kind}/{key}/{weight}"] = value
        layers[name] = {k: list(v.call_timesteps) for k, v in result.layers.items()}
    np.savez(os.path.join(out, f"{backend}.npz"), **arrays)
    with open(os.path.join(out, f"{backend}.json"), "w") as f:
        json.dump({"errors": errors, "layers": layers}, f)


if __name__ == "__main__":
    main(sys.argv[1])
