"""The "weights" and "weight_gradients" kinds and `describe_weights`: values
against the model's variables and `tape.gradient` of its compiled loss, and
the gate split against each cell's own math."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import tb_rnngrad  # noqa: E402
from tb_rnngrad import records  # noqa: E402
from tb_rnngrad.capture import CaptureError, capture, describe_weights  # noqa: E402
from tb_rnngrad.format.weight_layout import WeightRow  # noqa: E402

KINDS = ("gradients", "weights", "weight_gradients")


def _data(seed=0, batch=6, steps=5, features=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features)).astype("float32")
    return x, rng.standard_normal((batch, 1)).astype("float32")


def _model(*recurrent) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, 3))
    hidden = inputs
    for layer in recurrent:
        hidden = layer(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="sgd", loss="mse")
    return model


def _mixed() -> keras.Model:
    return _model(
        keras.layers.Bidirectional(
            keras.layers.GRU(4, return_sequences=True), name="bi"
        ),
        keras.layers.GRU(3, reset_after=False, return_sequences=True, name="gru0"),
        keras.layers.SimpleRNN(2, return_sequences=True, name="rnn"),
        keras.layers.LSTM(2, name="lstm"),
    )


def _cells(model):
    bi = model.get_layer("bi")
    return {
        "bi/forward": bi.forward_layer.cell,
        "bi/backward": bi.backward_layer.cell,
        "gru0": model.get_layer("gru0").cell,
        "rnn": model.get_layer("rnn").cell,
        "lstm": model.get_layer("lstm").cell,
    }


def _split(name, array):
    """A cell weight as the capture names it (a two-row bias as two)."""
    if name == "bias" and array.ndim == 2:
        return {"bias": array[0], "recurrent_bias": array[1]}
    return {name: array}


def test_weights_and_gradients_equal_the_variables_and_tape_gradient():
    model = _mixed()
    x, y = _data()
    result = capture(model, x, y, kinds=KINDS)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
    cells = _cells(model)
    variables = [
        v for c in cells.values() for v in (c.kernel, c.recurrent_kernel, c.bias)
    ]
    grads = dict(
        zip((id(v) for v in variables), tape.gradient(loss, variables), strict=True)
    )
    assert set(result.weights) == set(result.weight_gradients) == set(cells)
    for key, cell in cells.items():
        expected_values, expected_grads = {}, {}
        for name in ("kernel", "recurrent_kernel", "bias"):
            variable = getattr(cell, name)
            expected_values.update(_split(name, variable.numpy()))
            expected_grads.update(_split(name, grads[id(variable)].numpy()))
        assert list(result.weights[key]) == list(expected_values)
        for name, value in expected_values.items():
            np.testing.assert_array_equal(result.weights[key][name], value)
            np.testing.assert_allclose(
                result.weight_gradients[key][name],
                expected_grads[name],
                rtol=1e-5,
                atol=1e-7,
            )
            assert np.any(expected_grads[name] != 0)
    assert result.gates["lstm"] == ("i", "f", "c", "o")
    assert result.gates["bi/backward"] == ("z", "r", "h")
    assert result.gates["rnn"] == ("h",)
    assert result.loss == pytest.approx(float(loss), rel=1e-6)


def test_weights_follow_training_and_only_requested_kinds_are_filled():
    model = _model(keras.layers.LSTM(2, name="lstm"))
    x, y = _data()
    before = capture(model, x, y, kinds=("weights",))
    assert before.weight_gradients == {} and before.gradients == {}
    model.fit(x, y, epochs=1, verbose=0)
    after = capture(model, x, y, kinds=("weights",))
    kernel = model.get_layer("lstm").cell.kernel.numpy()
    np.testing.assert_array_equal(after.weights["lstm"]["kernel"], kernel)
    assert not np.array_equal(before.weights["lstm"]["kernel"], kernel)


def test_a_non_recurrent_layer_named_gets_a_note_not_weights():
    inputs = keras.Input((5, 3))
    conv = keras.layers.Conv1D(2, 1, name="conv")(inputs)
    hidden = keras.layers.LSTM(2, name="lstm")(conv)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse")
    result = capture(model, *_data(), layers=["conv", "lstm"], kinds=KINDS)
    assert set(result.weights) == {"lstm"}
    assert any("'conv'" in note and "not recurrent" in note for note in result.notes)


def test_records_are_one_matrix_per_cell_and_weight():
    model = _model(keras.layers.GRU(4, name="gru"))
    result = capture(model, *_data(), kinds=KINDS)
    found = {r.tag: r for r in records.records(result, ("weights", "weight_gradients"))}
    assert sorted(found) == sorted(
        f"{kind}/gru/{name}"
        for kind in ("weights", "weight_gradients")
        for name in ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
    )
    bias = found["weights/gru/recurrent_bias"]
    assert bias.data.shape == (1, 12) and bias.weights == ("recurrent_bias",)
    assert bias.gates == ("z", "r", "h") and bias.layer.layer_class == "GRU"
    np.testing.assert_array_equal(
        bias.data[0], model.get_layer("gru").cell.bias.numpy()[1]
    )


# -- describe_weights and the gate split against the cell math ----------------


def _blocks(table, key, weight):
    return {r.gate: r for r in table if r.layer == key and r.weight == weight}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _pre(table, key, cell, x, h):
    """{gate: (input part, recurrent part)} of the pre-activations, each cut
    from the weights by the columns `describe_weights` gives."""
    weights = {n: getattr(cell, n).numpy() for n in ("kernel", "recurrent_kernel")}
    bias = cell.bias.numpy()
    biases = _split("bias", bias)
    out = {}
    for gate, row in _blocks(table, key, "kernel").items():
        a, b = row.columns
        rec = _blocks(table, key, "recurrent_kernel")[gate].columns
        assert rec == (a, b) == _blocks(table, key, "bias")[gate].columns
        inp = x @ weights["kernel"][:, a:b] + biases["bias"][a:b]
        recurrent = h @ weights["recurrent_kernel"][:, a:b]
        if "recurrent_bias" in biases:
            recurrent = recurrent + biases["recurrent_bias"][a:b]
        out[gate] = (inp, recurrent)
    return out


def test_gate_columns_drive_each_cells_own_gates():
    """Each cell's output rebuilt from the blocks `describe_weights` names
    equals Keras's own cell step (LSTM, GRU both reset_after, SimpleRNN, the
    two halves of a Bidirectional layer)."""
    model = _mixed()
    table = describe_weights(model)
    rng = np.random.default_rng(1)
    for key, cell in _cells(model).items():
        units = cell.units
        x = rng.standard_normal((4, cell.kernel.shape[0])).astype("float32")
        h = rng.standard_normal((4, units)).astype("float32")
        c = rng.standard_normal((4, units)).astype("float32")
        pre = _pre(table, key, cell, x, h)
        if key == "lstm":
            (i, f, g, o) = (sum(pre[n]) for n in "ifco")
            c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            expected = _sigmoid(o) * np.tanh(c_new)
            actual, _ = cell(x, [h, c], training=False)
        elif key == "rnn":
            expected = np.tanh(sum(pre["h"]))
            actual, _ = cell(x, [h], training=False)
        else:
            z, r = _sigmoid(sum(pre["z"])), _sigmoid(sum(pre["r"]))
            inp, recurrent = pre["h"]
            if cell.reset_after:
                candidate = np.tanh(inp + r * recurrent)
            else:
                a, b = _blocks(table, key, "recurrent_kernel")["h"].columns
                candidate = np.tanh(
                    inp + (r * h) @ cell.recurrent_kernel.numpy()[:, a:b]
                )
            expected = z * h + (1 - z) * candidate
            actual, _ = cell(x, [h], training=False)
        np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-5, atol=1e-6)


def test_setting_the_forget_block_saturates_the_forget_gate():
    """The "f" block of an LSTM kernel is the forget gate: with the others
    zero and f large, c_t = c_{t-1} (forget gate 1, input gate 0.5 * tanh 0)."""
    model = _model(keras.layers.LSTM(3, name="lstm"))
    cell = model.get_layer("lstm").cell
    rows = _blocks(describe_weights(model), "lstm", "bias")
    bias = np.zeros(cell.bias.shape, "float32")
    a, b = rows["f"].columns
    bias[a:b] = 50.0
    cell.kernel.assign(np.zeros(cell.kernel.shape))
    cell.recurrent_kernel.assign(np.zeros(cell.recurrent_kernel.shape))
    cell.bias.assign(bias)
    c = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    x = np.ones((2, 3), "float32")
    _, (_, c_new) = cell(x, [np.zeros((2, 3), "float32"), c], training=False)
    np.testing.assert_allclose(np.asarray(c_new), c, rtol=1e-6)


def test_describe_weights_table():
    model = _model(
        keras.layers.Bidirectional(
            keras.layers.LSTM(2, return_sequences=True), name="bi"
        ),
        keras.layers.GRU(3, name="gru"),
    )
    table = tb_rnngrad.describe_weights(model)
    assert isinstance(table, list) and all(isinstance(r, WeightRow) for r in table)
    assert table[0] == WeightRow("bi/forward", "forward", "kernel", "i", (3, 2), (0, 2))
    assert _blocks(table, "bi/backward", "recurrent_kernel")["o"] == WeightRow(
        "bi/backward", "backward", "recurrent_kernel", "o", (2, 2), (6, 8)
    )
    assert _blocks(table, "gru", "recurrent_bias")["h"] == WeightRow(
        "gru", "", "recurrent_bias", "h", (3,), (6, 9)
    )
    assert len(table) == 2 * 3 * 4 + 4 * 3
    lines = str(table).splitlines()
    assert lines[0].split() == [
        "layer",
        "direction",
        "weight",
        "gate",
        "shape",
        "columns",
    ]
    assert lines[1].split() == [
        "bi/forward",
        "forward",
        "kernel",
        "i",
        "(3,",
        "2)",
        "0:2",
    ]
    assert lines[-1].split() == ["gru", "-", "recurrent_bias", "h", "(3)", "6:9"]
    starts = [lines[0].index(word) for word in ("direction", "weight", "gate")]
    for line in lines[1:]:  # aligned: every column starts where its header does
        assert all(line[s - 2 : s] == "  " and line[s] != " " for s in starts)


def test_describe_weights_needs_a_built_model():
    model = keras.Sequential([keras.layers.LSTM(2)])
    with pytest.raises(CaptureError, match="not built"):
        describe_weights(model)
