"""One backend's half of tests/test_backends.py.

    KERAS_BACKEND=<tensorflow|jax|torch> python tests/backends/scenario.py OUT
    python tests/backends/scenario.py OUT --tf-keras

Builds `train.build`'s model (fixed weights), captures every kind this Keras
and backend support on one batch, and on JAX and PyTorch also computes the
same quantities independently, in that backend's own autodiff (`jax.grad`,
`torch.autograd.grad`) over a hand-written LSTM recurrence and Keras's GRU
and Dense layers. Then runs `train.main` (GradientLogger in fit) into
OUT/<name>/. Saves `{capture/...: array, reference/...: array}` in
OUT/<name>.npz and facts (is TensorFlow imported) in OUT/<name>.json.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np
import train

from tb_rnngrad.capture import CaptureError, capture, support
from tb_rnngrad.result import KINDS


def _flat(result: Any) -> dict[str, np.ndarray]:
    """The capture result's arrays under `capture/<kind>/<key>[/<weight>]`."""
    out = {"capture/loss": np.float32(result.loss)}
    for kind in ("gradients", "activations", "input_gradients", "state_gradients"):
        for key, value in getattr(result, kind).items():
            out[f"capture/{kind}/{key}"] = value
    for kind in (
        "weight_contributions",
        "weights",
        "weight_gradients",
        "gate_activations",
    ):
        for key, by_name in getattr(result, kind).items():
            for name, value in by_name.items():
                out[f"capture/{kind}/{key}/{name}"] = value
    return out


class _Autodiff:
    """The backend's arrays, activations and gradient function."""

    def __init__(self, backend: str) -> None:
        if backend == "jax":
            import jax
            import jax.numpy as jnp

            self.array, self.sigmoid, self.tanh = jnp.asarray, jax.nn.sigmoid, jnp.tanh
            self.zeros = jnp.zeros
            self._jax = jax
        else:
            import torch

            self.array = lambda a: torch.tensor(np.asarray(a))
            self.sigmoid, self.tanh = torch.sigmoid, torch.tanh
            self.zeros = lambda shape: torch.zeros(shape)
            self._torch = torch
        self.backend = backend

    def grad(self, fn: Any, *args: Any) -> list[np.ndarray]:
        """d fn(*args) / d each arg, as NumPy arrays."""
        if self.backend == "jax":
            found = self._jax.grad(fn, argnums=tuple(range(len(args))))(*args)
            return [np.asarray(g) for g in found]
        leaves = [a.detach().clone().requires_grad_(True) for a in args]
        found = self._torch.autograd.grad(fn(*leaves), leaves)
        return [g.detach().numpy() for g in found]

    def numpy(self, value: Any) -> np.ndarray:
        if self.backend == "jax":
            return np.asarray(value)
        return value.detach().numpy()


def _lstm(ad: _Autodiff, x: Any, kernel: Any, recurrent: Any, bias: Any, eps: dict):
    """Keras's LSTM (implementation 2) by hand: h_t, c_t and z_t get `eps`
    added (zeros), whose gradients are d/dh_t, d/dc_t and dz_t."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = c = ad.zeros((batch, units))
    outputs = []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ recurrent + bias + eps["z"][t]
        i = ad.sigmoid(z[:, :units])
        f = ad.sigmoid(z[:, units : 2 * units])
        c = f * c + i * ad.tanh(z[:, 2 * units : 3 * units]) + eps["c"][t]
        h = ad.sigmoid(z[:, 3 * units :]) * ad.tanh(c) + eps["h"][t]
        outputs.append(h)
    return outputs


def _references(model: Any, backend: str, x: np.ndarray, y: np.ndarray) -> dict:
    """Every captured quantity of the LSTM (and the GRU's output gradient),
    computed independently in the backend's autodiff."""
    ad = _Autodiff(backend)
    lstm, gru, head = (model.get_layer(n) for n in ("lstm", "gru", "head"))
    xs, ys = ad.array(x), ad.array(y)
    weights = [ad.array(v.numpy()) for v in lstm.cell.weights]
    units, steps, batch = lstm.cell.units, x.shape[1], x.shape[0]
    zero = {
        "h": ad.zeros((steps, batch, units)),
        "c": ad.zeros((steps, batch, units)),
        "z": ad.zeros((steps, batch, 4 * units)),
    }

    def mse(prediction: Any) -> Any:
        return ((prediction - ys) ** 2).mean()

    def stack(outputs: list) -> Any:
        return outputs[0][:, None] if len(outputs) == 1 else _stack(ad, outputs)

    def loss(kernel, recurrent, bias, eps_h, eps_c, eps_z):
        eps = {"h": eps_h, "c": eps_c, "z": eps_z}
        sequence = stack(_lstm(ad, xs, kernel, recurrent, bias, eps))
        return mse(head(gru(sequence)))

    grads = ad.grad(loss, *weights, zero["h"], zero["c"], zero["z"])
    sequence = _stack(ad, _lstm(ad, xs, *weights, zero))
    out = {
        "reference/activations/lstm": ad.numpy(sequence),
        "reference/weight_gradients/lstm/kernel": grads[0],
        "reference/weight_gradients/lstm/recurrent_kernel": grads[1],
        "reference/weight_gradients/lstm/bias": grads[2],
        "reference/state_gradients/lstm": np.transpose(grads[3], (1, 0, 2)),
        "reference/state_gradients/lstm/cell": np.transpose(grads[4], (1, 0, 2)),
    }
    (out["reference/gradients/lstm"],) = ad.grad(lambda s: mse(head(gru(s))), sequence)
    out_gru = gru(sequence)
    (out["reference/gradients/gru"],) = ad.grad(lambda s: mse(head(s)), out_gru)
    (out["reference/input_gradients/seq"],) = ad.grad(lambda s: mse(model(s)), xs)
    dz = grads[5]  # (steps, batch, 4 units): the pre-activation gradients
    h_before = np.concatenate(
        [
            np.zeros((1, batch, units), "float32"),
            np.transpose(ad.numpy(sequence), (1, 0, 2))[:-1],
        ]
    )
    factors = {
        "kernel": np.transpose(x, (1, 0, 2)),
        "recurrent_kernel": h_before,
        "bias": None,
    }
    for name, left in factors.items():
        terms = dz.sum(axis=1) if left is None else np.einsum("tbi,tbj->tij", left, dz)
        blocks = terms.reshape(steps, -1, 4, units)
        norms = np.sqrt((blocks**2).sum(axis=(1, 3)))
        out[f"reference/weight_contributions/lstm/{name}"] = norms
    return out


def _stack(ad: _Autodiff, outputs: list) -> Any:
    if ad.backend == "jax":
        return ad._jax.numpy.stack(outputs, axis=1)
    return ad._torch.stack(outputs, dim=1)


def _errors(keras: Any, model: Any, x: np.ndarray, y: np.ndarray, platform: str):
    """The CaptureError messages of what this platform does not support."""
    found = {}
    unsupported = [k for k in KINDS if k not in support.KINDS_BY_PLATFORM[platform]]
    if unsupported:
        try:
            capture(model, x, y, kinds=unsupported)
        except CaptureError as error:
            found["unsupported_kinds"] = str(error)
    if platform in ("keras/jax", "keras/torch"):
        custom = _custom_cell_model(keras)
        try:
            capture(custom, x, y, kinds=("weight_contributions",))
        except CaptureError as error:
            found["custom_cell_weight_contributions"] = str(error)
    return found


def _custom_cell_model(keras: Any) -> Any:
    """A keras.layers.RNN over a cell of our own (no bias-probe path)."""

    class Cell(keras.layers.Layer):
        state_size = 2

        def build(self, input_shape: Any) -> None:
            self.kernel = self.add_weight(shape=(input_shape[-1], 2))
            self.recurrent_kernel = self.add_weight(shape=(2, 2))

        def call(self, inputs: Any, states: Any) -> Any:
            ops = keras.ops
            h = ops.tanh(
                ops.matmul(inputs, self.kernel)
                + ops.matmul(states[0], self.recurrent_kernel)
            )
            return h, [h]

    inputs = keras.Input((train.STEPS, train.FEATURES))
    hidden = keras.layers.RNN(Cell(), name="custom")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(loss="mse")
    return model


def main(out: str, tf_keras: bool) -> None:
    if tf_keras:
        import tf_keras as keras

        name, platform = "tf_keras", "tf_keras/tensorflow"
    else:
        import keras

        name = keras.backend.backend()
        platform = f"keras/{name}"
    model = train.build(keras)
    x, y = train.data()
    x, y = x[: train.BATCH], y[: train.BATCH]
    arrays = _flat(capture(model, x, y, kinds=support.KINDS_BY_PLATFORM[platform]))
    if name in ("jax", "torch"):
        arrays.update(_references(model, name, x, y))
    np.savez(os.path.join(out, f"{name}.npz"), **arrays)
    logger = train.main(keras, os.path.join(out, name))
    facts = {
        "logged_steps": logger.logged_steps,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "errors": _errors(keras, model, x, y, platform),
    }
    with open(os.path.join(out, f"{name}.json"), "w") as file:
        json.dump(facts, file)


if __name__ == "__main__":
    main(sys.argv[1], "--tf-keras" in sys.argv[2:])
