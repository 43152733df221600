"""Benchmark: capturing a Keras decoder loop (issue 22), side by side.

Run from the repository root:

    python -m bench.bench_unrolled            # about two minutes on 2 cores
    python -m bench.bench_unrolled --quick    # a smoke run
    python -m bench.bench_unrolled --json out.json

Model: an LSTM encoder over 20 source steps, and a decoder that steps an
`LSTMCell` 20 times in a Python loop, with dot-product attention over the
encoder's outputs and a Dense head at every step (teacher forcing), mse.
Sides alternate in rotated order (bench.timing):

  (a) `capture` of "gradients" and "state_gradients" (encoder and decoder
      cell) on a 16-sample probe batch vs a bare tf.function forward+backward
      (the weights' gradients) on the same batch; target <= 1.5x;
  (b) one epoch of `model.fit` (batch 64) with GradientLogger(every_n_steps=
      100) of those kinds vs without; target <= 1.03x.
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from bench.fit_sides import fit_once, fit_with_logger  # noqa: E402
from bench.timing import Recorder, interleave, ratio, summarize  # noqa: E402
from tb_rnngrad import GradientLogger  # noqa: E402
from tb_rnngrad.capture import get_capture  # noqa: E402
from tb_rnngrad.capture.data import prepare_batch  # noqa: E402

STEPS, FEATURES, UNITS, PROBE = 20, 8, 64, 16
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


def _data(samples: int, seed: int = 0) -> tuple[list, np.ndarray]:
    rng = np.random.default_rng(seed)
    source = rng.standard_normal((samples, STEPS, FEATURES)).astype("float32")
    target = rng.standard_normal((samples, STEPS, FEATURES)).astype("float32")
    return [source, target], np.flip(source[..., :1], axis=1).copy()


def _model(x) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = Decoder()
    model([v[:1] for v in x])
    model.compile(optimizer="adam", loss="mse")
    return model


def _capture_sides(model: keras.Model, x, y) -> dict:
    batch = prepare_batch(model, x, y)
    capture = get_capture(model, None, KINDS)
    xt, yt = [tf.constant(v) for v in x], tf.constant(y)

    @tf.function(autograph=False)
    def bare(x, y):
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
        return tape.gradient(loss, model.trainable_variables)

    return {"capture": lambda: capture.run(batch), "bare": lambda: bare(xt, yt)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--fit-reps", type=int, default=5)
    parser.add_argument("--fit-samples", type=int, default=6400)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.quick:
        args.reps, args.fit_reps, args.fit_samples = 3, 1, 640
    recorder = Recorder("bench_unrolled", args.quick, vars(args))

    x, y = _data(args.fit_samples)
    model = _model(x)
    probe = ([v[:PROBE] for v in x], y[:PROBE])
    raw = interleave(_capture_sides(model, *probe), args.reps, warmup=2)
    recorder["capture"] = summarize(raw)
    found = ratio(raw["capture"]["cpu"], raw["bare"]["cpu"])
    recorder["capture_ratio_cpu"] = found
    recorder["capture_ratio_wall"] = ratio(raw["capture"]["wall"], raw["bare"]["wall"])
    recorder.check(
        "capture (gradients, state_gradients) / bare fwd+bwd, 20-step decoder loop",
        found["median"],
        "<=",
        1.5,
        "x",
    )

    with tempfile.TemporaryDirectory() as log_dir:
        logger = GradientLogger(log_dir, data=probe, kinds=KINDS, every_n_steps=100)
        with_logger, shares = fit_with_logger(model, x, y, 64, logger)
        raw = interleave(
            {"with_logger": with_logger, "without": lambda: fit_once(model, x, y, 64)},
            args.fit_reps,
            warmup=1,
        )
    recorder["fit"] = summarize(raw)
    recorder["logger_share"] = shares
    found = ratio(raw["with_logger"]["wall"], raw["without"]["wall"])
    recorder["fit_ratio_wall"] = found
    recorder["fit_ratio_cpu"] = ratio(raw["with_logger"]["cpu"], raw["without"]["cpu"])
    recorder.check(
        "fit with GradientLogger(every_n_steps=100) / fit without",
        found["median"],
        "<=",
        1.03,
        "x",
    )
    recorder.write(args.json)


if __name__ == "__main__":
    main()
