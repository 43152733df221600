"""The Keras row of `bench_unrolled`: a model whose `call` loops over a
`keras.layers.GRUCell`, capture against its bare step (TensorFlow backend).

    KERAS_BACKEND=tensorflow python -m bench.unrolled_keras --reps 15 --json out.json

Writes the sides' spreads and ratios (`capture_states` / `bare`), or
`{"unsupported": <the capture's message>}` while `tb_rnngrad.capture`
refuses such a model (issue 22: the branch that adds it enables this row).
"""

from __future__ import annotations

import argparse
import json
import sys

import keras
import numpy as np

from bench.timing import interleave, ratio, spread

SAMPLES, STEPS, SYMBOLS, UNITS = 16, 20, 10, 64
STATE_KINDS = ("gradients", "state_gradients")


class CellLoop(keras.Model):
    """Embedding, then a GRUCell stepped over the tokens in a Python loop,
    then a Dense head on each step's output (logits)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.embedding = keras.layers.Embedding(SYMBOLS + 1, UNITS, name="embedding")
        self.cell = keras.layers.GRUCell(UNITS, name="cell")
        self.head = keras.layers.Dense(SYMBOLS + 1, name="head")

    def call(self, tokens):
        embedded = self.embedding(tokens)
        state = keras.ops.zeros((keras.ops.shape(tokens)[0], UNITS))
        outputs = []
        for t in range(STEPS):
            output, state = self.cell(embedded[:, t], state)
            outputs.append(output)
        return self.head(keras.ops.stack(outputs, axis=1))


def build() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """The compiled model and a batch (tokens, their reversal)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, SYMBOLS + 1, (SAMPLES, STEPS)).astype("int32")
    model = CellLoop(name="cell_loop")
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model(x)  # builds the weights
    return model, x, x[:, ::-1].copy()


def bare_step(model: keras.Model, x: np.ndarray, y: np.ndarray):
    """TensorFlow's forward+backward of the compiled loss w.r.t. the weights,
    in a `tf.function` (as `bench_backends`; the Embedding's gradient made
    dense, as the optimizer would)."""
    import tensorflow as tf

    @tf.function
    def step(x, y) -> list:
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
        grads = tape.gradient(loss, model.trainable_variables)
        return [tf.convert_to_tensor(g) for g in grads]

    xs, ys = tf.constant(x), tf.constant(y)
    return lambda: [g.numpy() for g in step(xs, ys)]


def measure(reps: int) -> dict:
    """The capture and the bare step, rotated; or why it is not supported."""
    from tb_rnngrad.capture import CaptureError, capture

    model, x, y = build()
    try:
        capture(model, x, y, kinds=STATE_KINDS)
    except CaptureError as error:
        return {"unsupported": str(error)}
    sides = {
        "capture_states": lambda: capture(model, x, y, kinds=STATE_KINDS),
        "bare": bare_step(model, x, y),
    }
    raw = interleave(sides, reps)
    out = {
        name: {"ms": spread(t["wall"], 1e3), "cpu_ms": spread(t["cpu"], 1e3)}
        for name, t in raw.items()
    }
    out["capture_states"]["ratio"] = ratio(
        raw["capture_states"]["wall"], raw["bare"]["wall"]
    )
    out["capture_states"]["cpu_ratio"] = ratio(
        raw["capture_states"]["cpu"], raw["bare"]["cpu"]
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="rotated rounds")
    parser.add_argument("--json", required=True, help="write the figures here")
    args = parser.parse_args(argv)
    with open(args.json, "w", encoding="utf-8") as file:
        json.dump(measure(args.reps), file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
