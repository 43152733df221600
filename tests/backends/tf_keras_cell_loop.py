"""A tf_keras subclassed model stepping a GRUCell: the capture's gradients
against a tape of the loop written out (run by tests/test_keras_unrolled.py
in its own interpreter, so tf_keras stays out of that session). Prints "ok".
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras

from tb_rnngrad.capture import capture

BATCH, STEPS, FEATURES, UNITS = 3, 5, 2, 4


class TfKerasLoop(tf_keras.Model):
    def __init__(self):
        super().__init__()
        self.cell = tf_keras.layers.GRUCell(UNITS, name="cell")
        self.head = tf_keras.layers.Dense(1, name="head")

    def call(self, x):
        states = [tf.zeros((tf.shape(x)[0], UNITS))]
        outputs = []
        for t in range(x.shape[1]):
            out, states = self.cell(x[:, t], states)
            outputs.append(self.head(out))
        return tf.stack(outputs, axis=1)


def main() -> None:
    tf_keras.utils.set_random_seed(12)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype("float32")
    y = rng.standard_normal((BATCH, STEPS, 1)).astype("float32")
    model = TfKerasLoop()
    model(x)
    model.compile(loss="mse")
    result = capture(model, x, y, kinds=("gradients", "activations"))

    probes = [tf.zeros((BATCH, UNITS)) for _ in range(STEPS)]
    with tf.GradientTape() as tape:
        tape.watch(probes)
        states, outputs = [tf.zeros((BATCH, UNITS))], []
        for t in range(STEPS):
            _, (h,) = model.cell.call(tf.constant(x[:, t]), states)
            states = [h + probes[t]]
            outputs.append(model.head(states[0]))
        loss = tf.reduce_mean(tf.square(tf.stack(outputs, 1) - y))
    expected = np.stack(tape.gradient(loss, probes), axis=1)
    assert result.layers["cell"].call_timesteps == (1,) * STEPS
    np.testing.assert_allclose(result.gradients["cell"], expected, atol=1e-7)
    print("ok")


if __name__ == "__main__":
    main()
