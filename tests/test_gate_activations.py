"""The "gate_activations" kind on Keras: each gate's near-0 and near-1
fractions against the gates recomputed in NumPy from the layer's own output
sequence and weights, with masks, both GRU bias layouts and Bidirectional
halves; SimpleRNN gets a note, tf_keras a clear refusal."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tb_rnngrad.capture import CaptureError, capture  # noqa: E402
from tb_rnngrad.format.gate_saturation import NEAR_0, NEAR_1  # noqa: E402

STEPS, FEATURES, BATCH = 6, 3, 8


def _data(seed=0, padded=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype("float32")
    if padded:  # right padding: sample b keeps its first STEPS - b % 4 steps
        for b in range(BATCH):
            x[b, STEPS - b % 4 :] = 0.0
    return x


def _targets(model):
    shape = (BATCH, *model.output_shape[1:])
    return np.random.default_rng(9).standard_normal(shape).astype("float32")


def _model(layer, masked=False) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, FEATURES))
    hidden = keras.layers.Masking(0.0)(inputs) if masked else inputs
    hidden = layer(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(1)  # weights large enough that gates saturate
    for variable in layer.weights:
        variable.assign(3.0 * rng.standard_normal(variable.shape).astype("float32"))
    return model


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _reference(cell, x, h, mask, blocks, columns):
    """Fractions from NumPy: gates from x_t, h_{t-1} (h_0 = 0) and weights."""
    previous = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    bias = cell.bias.numpy()
    bias = bias.sum(axis=0) if bias.ndim == 2 else bias
    pre = x @ kernel + previous @ recurrent + bias
    units = cell.units
    pre = pre.reshape(*pre.shape[:2], blocks, units)[:, :, columns]
    gates = _sigmoid(pre)
    real = np.ones(x.shape[:2]) if mask is None else mask.astype(float)
    samples = np.maximum(real.sum(axis=0), 1.0)[:, None]
    return {
        band: (near.mean(axis=-1) * real[..., None]).sum(axis=0) / samples
        for band, near in (("near_0", gates < NEAR_0), ("near_1", gates > NEAR_1))
    }


def _sequence(model, layer_name, x):
    """The layer's output sequence (its h_t) as Keras computes it."""
    return keras.Model(model.inputs, model.get_layer(layer_name).output)(x).numpy()


@pytest.mark.parametrize("masked", [False, True])
def test_lstm_fractions_match_numpy(masked):
    x = _data(padded=masked)
    layer = keras.layers.LSTM(5, return_sequences=True, name="lstm")
    model = _model(layer, masked)
    y = _targets(model)
    result = capture(model, x, y, kinds=("gate_activations",))
    mask = (x != 0).any(-1) if masked else None
    expected = _reference(
        layer.cell, x, _sequence(model, "lstm", x), mask, 4, [0, 1, 3]
    )
    assert result.activation_gates["lstm"] == ("i", "f", "o")
    for band in ("near_0", "near_1"):
        found = result.gate_activations["lstm"][band]
        assert found.shape == (STEPS, 3) and found.dtype == np.float32
        np.testing.assert_allclose(found, expected[band], atol=1e-6, err_msg=band)
    near = result.gate_activations["lstm"]
    assert 0 < near["near_0"].max() and 0 < near["near_1"].max()  # not trivial


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_fractions_match_numpy(reset_after):
    x = _data(seed=2)
    layer = keras.layers.GRU(
        4, return_sequences=True, reset_after=reset_after, name="gru"
    )
    model = _model(layer)
    y = _targets(model)
    result = capture(model, x, y, kinds=("gate_activations", "gradients"))
    expected = _reference(layer.cell, x, _sequence(model, "gru", x), None, 3, [0, 1])
    assert result.activation_gates["gru"] == ("z", "r")
    for band, value in expected.items():
        np.testing.assert_allclose(
            result.gate_activations["gru"][band], value, atol=1e-6
        )


def test_bidirectional_halves_in_input_time():
    x = _data(seed=3)
    layer = keras.layers.Bidirectional(
        keras.layers.LSTM(3, return_sequences=True), name="bi"
    )
    model = _model(layer)
    y = _targets(model)
    result = capture(model, x, y, kinds=("gate_activations",))
    halves = _sequence(model, "bi", x)  # concat: forward units first
    forward = _reference(
        layer.forward_layer.cell, x, halves[..., :3], None, 4, [0, 1, 3]
    )
    # The backward half reads the input reversed; its h_{t-1} is h at t + 1.
    flipped = halves[:, ::-1, 3:]
    backward = _reference(
        layer.backward_layer.cell, x[:, ::-1], flipped, None, 4, [0, 1, 3]
    )
    for band in ("near_0", "near_1"):
        np.testing.assert_allclose(
            result.gate_activations["bi/forward"][band], forward[band], atol=1e-6
        )
        np.testing.assert_allclose(
            result.gate_activations["bi/backward"][band],
            backward[band][::-1],
            atol=1e-6,
        )


def test_simple_rnn_has_no_gates_and_says_so():
    x = _data()
    model = _model(keras.layers.SimpleRNN(4, name="rnn"))
    y = _targets(model)
    result = capture(model, x, y, kinds=("gate_activations", "gradients"))
    assert result.gate_activations == {} and result.activation_gates == {}
    assert any("'rnn'" in n and "no sigmoid gates" in n for n in result.notes)
    assert "rnn" in result.gradients


def test_a_dense_layer_is_refused_with_the_kinds_named():
    x = _data()
    model = _model(keras.layers.LSTM(4, return_sequences=True, name="lstm"))
    y = _targets(model)
    with pytest.raises(CaptureError, match="'gate_activations'.*exist only for"):
        capture(model, x, y, layers=["head"], kinds=("gate_activations",))


class CellLoop(keras.Model):
    """An LSTMCell called once per timestep: one recurrence unrolled by hand."""

    def __init__(self):
        super().__init__()
        self.cell = keras.layers.LSTMCell(4, name="cell")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        h = keras.ops.zeros((keras.ops.shape(x)[0], 4))
        states, outputs = [h, h], []
        for t in range(x.shape[1]):
            out, states = self.cell(x[:, t], states)
            outputs.append(out)
        self.sequence = keras.ops.stack(outputs, axis=1)
        return self.head(out)


def test_a_cell_in_a_loop_stacks_its_calls_along_time():
    keras.utils.set_random_seed(0)
    model = CellLoop()
    x = _data(seed=4)
    model(x)
    rng = np.random.default_rng(1)
    for variable in model.cell.weights:
        variable.assign(3.0 * rng.standard_normal(variable.shape).astype("float32"))
    model.compile(optimizer="sgd", loss="mse")
    y = np.random.default_rng(9).standard_normal((BATCH, 1)).astype("float32")
    result = capture(model, x, y, kinds=("gate_activations",))
    model(x)
    h = keras.ops.convert_to_numpy(model.sequence)
    expected = _reference(model.cell, x, h, None, 4, [0, 1, 3])
    for band, value in expected.items():
        np.testing.assert_allclose(
            result.gate_activations["cell"][band], value, atol=1e-6
        )
