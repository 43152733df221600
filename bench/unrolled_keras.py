"""The Keras rows of `bench_unrolled`: a decoder loop over a
`keras.layers.LSTMCell`, on the TensorFlow backend, in a process of its own.

    KERAS_BACKEND=tensorflow python -m bench.unrolled_keras --json out.json

Model (the Keras part of issue 22's benchmark, as it was written on branch
keras22): an LSTM encoder over 20 source steps, and a decoder that steps an
`LSTMCell` 20 times in a Python loop, with dot-product attention over the
encoder's outputs and a Dense head at every step (teacher forcing), mse.
Sides alternate in rotated order (`bench.timing`):

  (a) the cached capture pass (`get_capture`, as the logger runs it) of
      "gradients" and "state_gradients" on a 16-sample probe vs a bare
      `tf.function` forward+backward (the weights' gradients) on it;
  (b) one epoch of `model.fit` (batch 64, `--fit-samples` / 64 steps) with
      `GradientLogger(every_n_steps=100)` of those kinds vs without.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from bench.fit_sides import fit_once, fit_with_logger  # noqa: E402
from bench.timing import side_by_side  # noqa: E402
from tb_rnngrad import GradientLogger  # noqa: E402
from tb_rnngrad.capture import get_capture  # noqa: E402
from tb_rnngrad.capture.data import prepare_batch  # noqa: E402

STEPS, FEATURES, UNITS, PROBE, BATCH = 20, 8, 64, 16, 64
KINDS = ("gradients", "state_gradients")


class Decoder(keras.Model):
    """An LSTM encoder, and an attention decoder stepping an LSTMCell."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.LSTM(
            UNITS, return_sequences=True, return_state=True, name="encoder"
        )
        self.cell = keras.layers.LSTMCell(UNITS, name="decoder_cell")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, inputs):
        source, target = inputs
        memory, h, c = self.encoder(source)
        states, outputs = [h, c], []
        for t in range(target.shape[1]):
            scores = ops.softmax(ops.einsum("bu,btu->bt", states[0], memory))
            context = ops.einsum("bt,btu->bu", scores, memory)
            step = ops.concatenate([target[:, t], context], axis=-1)
            out, states = self.cell(step, states)
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


def make_data(samples: int, seed: int = 0) -> tuple[list, np.ndarray]:
    """([source, target inputs], the source's first feature reversed)."""
    rng = np.random.default_rng(seed)
    source = rng.standard_normal((samples, STEPS, FEATURES)).astype("float32")
    target = rng.standard_normal((samples, STEPS, FEATURES)).astype("float32")
    return [source, target], np.flip(source[..., :1], axis=1).copy()


def build(x: list) -> keras.Model:
    """The compiled decoder, its weights built."""
    keras.utils.set_random_seed(0)
    model = Decoder()
    model([v[:1] for v in x])
    model.compile(optimizer="adam", loss="mse")
    return model


def capture_sides(model: keras.Model, x: list, y: np.ndarray) -> dict:
    """(a): the cached capture pass, then the bare step (the reference)."""
    batch = prepare_batch(model, x, y)
    capture = get_capture(model, None, KINDS)
    xt, yt = [tf.constant(v) for v in x], tf.constant(y)

    @tf.function(autograph=False)
    def bare(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
        return tape.gradient(loss, model.trainable_variables)

    return {"capture": lambda: capture.run(batch), "bare": lambda: bare(xt, yt)}


def measure(reps: int, fit_reps: int, fit_samples: int) -> dict:
    """(a) and (b), each side's spreads and ratios to its reference."""
    x, y = make_data(fit_samples)
    model = build(x)
    probe = ([v[:PROBE] for v in x], y[:PROBE])
    found = {"capture": side_by_side(capture_sides(model, *probe), reps)}
    with tempfile.TemporaryDirectory(prefix="bench_unrolled_keras_") as log_dir:
        logger = GradientLogger(log_dir, data=probe, kinds=KINDS, every_n_steps=100)
        with_logger, shares = fit_with_logger(model, x, y, BATCH, logger)
        sides = {
            "with_logger": with_logger,
            "without": lambda: fit_once(model, x, y, BATCH),
        }
        found["fit"] = side_by_side(sides, fit_reps)
    found["fit"]["with_logger"]["logger_share"] = sorted(shares)[len(shares) // 2]
    found["fit_steps"] = fit_samples // BATCH
    found["keras"] = keras.__version__
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=25, help="rounds of (a)")
    parser.add_argument("--fit-reps", type=int, default=5, help="rounds of (b)")
    parser.add_argument("--fit-samples", type=int, default=6400, help="per fit")
    parser.add_argument("--json", required=True, help="write the figures here")
    args = parser.parse_args(argv)
    found = measure(args.reps, args.fit_reps, args.fit_samples)
    with open(args.json, "w", encoding="utf-8") as file:
        json.dump(found, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
