"""State gradients and per-timestep weight terms against independent computations.

State gradients: each recurrent cell is re-implemented in plain TF ops with
the layer's own weights and unrolled in Python the way Keras runs it
(go_backwards, masking that carries the state); a zero probe is added to
every state at every step (to c_t before h_t = o_t * tanh(c_t) reads it), and
`tape.gradient` w.r.t. each probe is the reference d(loss)/d(h_t).

Weight terms: summed over timesteps they must equal `tape.gradient(loss,
weight)` of the model's own loss, and the captured norms must be the norms of
their gate column blocks. Models are tiny and run in float64.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tb_rnngrad.capture import (  # noqa: E402
    CaptureError,
    capture,
    get_capture,
    weight_terms,
)
from tb_rnngrad.capture.gates import weights_of  # noqa: E402

RTOL, ATOL = 1e-5, 1e-12
BATCH, STEPS, FEATURES = 3, 5, 2
ALL = ("gradients", "state_gradients", "weight_contributions")


@pytest.fixture(autouse=True)
def float64():
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    keras.utils.set_random_seed(7)
    yield
    keras.config.set_floatx(floatx)
    keras.config.set_dtype_policy(policy)


def _x(seed=0, shape=(BATCH, STEPS, FEATURES)):
    return np.random.default_rng(seed).standard_normal(shape)


def _mse(y, p):
    return tf.reduce_mean(tf.reduce_mean(tf.square(tf.cast(y, p.dtype) - p), axis=-1))


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


# Cells in plain TF. A step maps (x_t, states, probes) to the new states, with
# each probe added to its state as soon as the state exists.


def _w(variable):
    return tf.convert_to_tensor(variable)


def simple_step(cell):
    kernel, recurrent, bias = map(_w, (cell.kernel, cell.recurrent_kernel, cell.bias))

    def step(x, states, probes):
        return [tf.tanh(x @ kernel + states[0] @ recurrent + bias) + probes[0]]

    return step


def lstm_step(cell):
    kernel, recurrent, bias = map(_w, (cell.kernel, cell.recurrent_kernel, cell.bias))

    def step(x, states, probes):
        i, f, g, o = tf.split(x @ kernel + states[0] @ recurrent + bias, 4, axis=-1)
        c = tf.sigmoid(f) * states[1] + tf.sigmoid(i) * tf.tanh(g) + probes[1]
        return [tf.sigmoid(o) * tf.tanh(c) + probes[0], c]

    return step


def gru_step(cell):
    kernel, recurrent, bias = map(_w, (cell.kernel, cell.recurrent_kernel, cell.bias))
    u = cell.units

    def step(x, states, probes):
        h = states[0]
        if cell.reset_after:
            mx, mh = x @ kernel + bias[0], h @ recurrent + bias[1]
            z = tf.sigmoid(mx[:, :u] + mh[:, :u])
            r = tf.sigmoid(mx[:, u : 2 * u] + mh[:, u : 2 * u])
            candidate = tf.tanh(mx[:, 2 * u :] + r * mh[:, 2 * u :])
        else:
            mx = x @ kernel + bias
            z = tf.sigmoid(mx[:, :u] + h @ recurrent[:, :u])
            r = tf.sigmoid(mx[:, u : 2 * u] + h @ recurrent[:, u : 2 * u])
            candidate = tf.tanh(mx[:, 2 * u :] + (r * h) @ recurrent[:, 2 * u :])
        return [z * h + (1 - z) * candidate + probes[0]]

    return step


def stacked_step(steps, counts):
    """Cells in a stack: each takes the previous one's probed h_t as input."""

    def step(x, states, probes):
        new, start = [], 0
        for inner, count in zip(steps, counts, strict=True):
            part = slice(start, start + count)
            made = inner(x, states[part], probes[part])
            new, x, start = new + made, made[0], start + count
        return new

    return step


def unroll(
    step, x, init, probes, *, mask=None, backwards=False, zero_output=False, output=0
):
    """Keras's RNN loop by hand. `probes[t]` (input time) go to the states of
    step t; a masked step carries the previous states (plus its probes).
    Returns (outputs in loop order, final states); the output is state
    `output` (a stack's last h_t)."""
    states, outputs = list(init), []
    steps = range(x.shape[1])
    for t in reversed(steps) if backwards else steps:
        new = step(x[:, t], states, probes[t])
        if mask is not None:
            m = mask[:, t, None]
            new = [
                tf.where(m, n, s + p)
                for n, s, p in zip(new, states, probes[t], strict=True)
            ]
        out = new[output]
        if mask is not None and zero_output:
            out = tf.where(m, out, tf.zeros_like(out))
        states = new
        outputs.append(out)
    return tf.stack(outputs, axis=1), states


def reference(run, widths):
    """d(loss)/d(probes): `widths` is {name: [width of each state]}, `run`
    maps {name: probes[t][j]} to the loss. Returns {name: [(batch, steps, w)]}."""
    probes = {
        name: [[tf.zeros((BATCH, w), tf.float64) for w in ws] for _ in range(STEPS)]
        for name, ws in widths.items()
    }
    with tf.GradientTape() as tape:
        tape.watch(probes)
        loss = run(probes)
    grads = tape.gradient(loss, probes)
    return {
        name: [np.stack([g[t][j] for t in range(STEPS)], 1) for j in range(len(ws))]
        for name, ws in widths.items()
        for g in [grads[name]]
    }


def zeros(*widths):
    return [tf.zeros((BATCH, w), tf.float64) for w in widths]


# Weight terms against the weight gradient.


def check_weight_terms(model, x, y, cells, sample_weight=None):
    """Captures all kinds; checks that the raw terms summed over timesteps are
    the weight gradients and that the norms are those of their gate blocks.
    Returns (raw terms, result)."""
    capturer = get_capture(model, kinds=ALL)
    result = capturer(x, y, sample_weight)
    terms = capturer.timestep_terms(x, y, sample_weight)
    with tf.GradientTape(persistent=True) as tape:
        y_pred = model(x, training=False)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
    for key, cell in cells.items():
        weights = weights_of(cell)
        variables = list(weights.values())
        grads = dict(zip(weights, tape.gradient(loss, variables), strict=True))
        got = dict(terms[key])
        if "recurrent_bias" in got:
            got["bias"] = np.stack([got["bias"], got.pop("recurrent_bias")], axis=1)
        assert sorted(got) == sorted(grads)
        for name, term in got.items():
            assert term.shape == (x.shape[1], *grads[name].shape)
            _close(term.sum(axis=0), grads[name].numpy())
        gates = len(result.gates[key])
        for name, norms in result.weight_contributions[key].items():
            term = terms[key][name]
            blocks = term.reshape(len(term), -1, gates, term.shape[-1] // gates)
            _close(norms, np.sqrt((blocks**2).sum(axis=(1, 3))))
    return terms, result


# One layer, each cell type.


def test_lstm_last_output_state_and_cell_gradients():
    lstm = keras.layers.LSTM(8, name="lstm")  # recurrent norms from Gram matrices
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(lstm(inputs)))
    model.compile(loss="mse")
    x, y = _x(), _x(1, (BATCH, 1))

    _, result = check_weight_terms(model, x, y, {"lstm": lstm.cell})

    def run(p):
        outputs, _ = unroll(lstm_step(lstm.cell), x, zeros(8, 8), p["l"])
        return _mse(y, dense(outputs[:, -1]))

    (h, c) = reference(run, {"l": [8, 8]})["l"]
    assert sorted(result.state_gradients) == ["lstm", "lstm/cell"]
    _close(result.state_gradients["lstm"], h)
    _close(result.state_gradients["lstm/cell"], c)
    # Gradient reaches every step although only the last output is used.
    assert np.all(np.abs(h[:, 0]) > 0)
    assert result.gates == {"lstm": ("i", "f", "c", "o")}


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_sequence_output(reset_after, monkeypatch):
    monkeypatch.setattr(weight_terms, "_CHUNK_ELEMENTS", 64)  # chunks of 1-2 steps
    gru = keras.layers.GRU(2, return_sequences=True, reset_after=reset_after)
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(gru(inputs)))
    model.compile(loss="mse")
    x, y = _x(2), _x(3, (BATCH, STEPS, 1))
    weights = np.random.default_rng(4).uniform(size=(BATCH, STEPS))

    cells = {gru.name: gru.cell}
    _, result = check_weight_terms(model, x, y, cells, weights)

    def run(p):
        outputs, _ = unroll(gru_step(gru.cell), x, zeros(2), p["g"])
        per_step = tf.reduce_mean(tf.square(y - dense(outputs)), axis=-1)
        return tf.reduce_mean(per_step * weights)

    (h,) = reference(run, {"g": [2]})["g"]
    _close(result.state_gradients[gru.name], h)
    expected = {"bias", "kernel", "recurrent_kernel"}
    expected |= {"recurrent_bias"} if reset_after else set()
    assert set(result.weight_contributions[gru.name]) == expected
    assert result.gates[gru.name] == ("z", "r", "h")


def test_simple_rnn_go_backwards_is_aligned_to_input_time():
    rnn = keras.layers.SimpleRNN(
        3, go_backwards=True, return_sequences=True, unroll=True
    )
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(rnn(inputs)))
    model.compile(loss="mse")
    x, y = _x(5), _x(6, (BATCH, STEPS, 1))

    _, result = check_weight_terms(model, x, y, {rnn.name: rnn.cell})

    def run(p):
        outputs, _ = unroll(simple_step(rnn.cell), x, zeros(3), p["r"], backwards=True)
        return _mse(y, dense(outputs))

    (h,) = reference(run, {"r": [3]})["r"]
    _close(result.state_gradients[rnn.name], h)
    assert result.gates[rnn.name] == ("h",)


class BiasedCell(keras.layers.Layer):
    """h_t = tanh(x W + h_{t-1} U + b), with Keras's weight names."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units))
        self.bias = self.add_weight(shape=(self.units,), initializer="normal")

    def call(self, inputs, states):
        h = keras.ops.tanh(
            inputs @ self.kernel + states[0] @ self.recurrent_kernel + self.bias
        )
        return h, [h]


def test_custom_cell_and_stacked_cells():
    custom = keras.layers.RNN(BiasedCell(3), return_sequences=True, name="custom")
    stacked = [keras.layers.SimpleRNNCell(2), keras.layers.LSTMCell(2)]
    stack = keras.layers.RNN(keras.layers.StackedRNNCells(stacked), name="stack")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(stack(custom(inputs))))
    model.compile(loss="mse")
    x, y = _x(7), _x(8, (BATCH, 1))

    cells = {"custom": custom.cell, "stack/stacked_0": stacked[0]}
    cells["stack/stacked_1"] = stacked[1]
    _, result = check_weight_terms(model, x, y, cells)

    def run(p):
        h1, _ = unroll(simple_step(custom.cell), x, zeros(3), p["custom"])
        step = stacked_step([simple_step(stacked[0]), lstm_step(stacked[1])], [1, 2])
        h2, _ = unroll(step, h1, zeros(2, 2, 2), p["stack"], output=1)
        return _mse(y, dense(h2[:, -1]))

    expected = reference(run, {"custom": [3], "stack": [2, 2, 2]})
    assert sorted(result.state_gradients) == [
        "custom",
        "stack/stacked_0",
        "stack/stacked_1",
        "stack/stacked_1/cell",
    ]
    _close(result.state_gradients["custom"], expected["custom"][0])
    h0, h1, c1 = expected["stack"]
    _close(result.state_gradients["stack/stacked_0"], h0)
    _close(result.state_gradients["stack/stacked_1"], h1)
    _close(result.state_gradients["stack/stacked_1/cell"], c1)
    assert result.gates == {
        "custom": ("all",),
        "stack/stacked_0": ("h",),
        "stack/stacked_1": ("i", "f", "c", "o"),
    }


# Masking, Bidirectional, returned states, nested models.


def _masked_mean(per_step, mask):
    mask = tf.cast(mask, per_step.dtype)
    return tf.reduce_sum(per_step * mask) / tf.reduce_sum(mask)


def test_masked_steps_carry_the_state_and_add_no_weight_terms():
    x = _x(11)
    x[0, 3:] = 0  # trailing padding
    x[1, 1] = 0  # a gap
    x[1:, 4] = 0  # the last step is padding everywhere
    mask = np.any(x != 0, axis=-1)
    lstm = keras.layers.LSTM(3, return_state=True, name="lstm")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    output, h, c = lstm(keras.layers.Masking()(inputs))
    model = keras.Model(inputs, dense(keras.layers.Concatenate()([output, h, c])))
    model.compile(loss="mse")
    y = _x(12, (BATCH, 1))

    terms, result = check_weight_terms(model, x, y, {"lstm": lstm.cell})

    def run(p):
        step = lstm_step(lstm.cell)
        outputs, (h, c) = unroll(step, x, zeros(3, 3), p["l"], mask=mask)
        return _mse(y, dense(tf.concat([outputs[:, -1], h, c], axis=-1)))

    h, c = reference(run, {"l": [3, 3]})["l"]
    _close(result.state_gradients["lstm"], h)
    _close(result.state_gradients["lstm/cell"], c)
    # The padding of sample 0 carries its state to the returned one: the
    # gradient passes through the masked steps, unchanged from step to step
    # for c (nothing else reads the carried c).
    assert np.all(np.abs(h[0, 3:]) > 0)
    np.testing.assert_allclose(c[0, 3], c[0, 4])
    for name, term in terms["lstm"].items():
        assert not np.any(term[4])  # masked in every sample: no term
        if name != "recurrent_kernel":  # (whose first term is zero: h_0 = 0)
            assert np.all(np.abs(term[:4]).sum(axis=tuple(range(1, term.ndim))) > 0)


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_halves_in_input_time(merge_mode):
    # reset_after=False: weight terms as VJPs of the recorded steps.
    reset_after = merge_mode == "concat"
    x = _x(13)
    x[0, 4] = 0
    x[1, 0] = 0
    mask = np.any(x != 0, axis=-1)
    gru = keras.layers.GRU(2, return_sequences=True, reset_after=reset_after)
    bi = keras.layers.Bidirectional(gru, merge_mode=merge_mode, name="bi")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    merged = bi(keras.layers.Masking()(inputs))
    if merge_mode is None:
        merged = keras.layers.Concatenate()(merged)
    model = keras.Model(inputs, dense(merged))
    model.compile(loss="mse")
    y = _x(14, (BATCH, STEPS, 1))
    halves = {
        "bi/forward": bi.forward_layer.cell,
        "bi/backward": bi.backward_layer.cell,
    }

    _, result = check_weight_terms(model, x, y, halves)

    def run(p):
        kwargs = {"mask": mask, "zero_output": True}  # as Bidirectional sets it
        forward, _ = unroll(
            gru_step(halves["bi/forward"]), x, zeros(2), p["f"], **kwargs
        )
        backward, _ = unroll(
            gru_step(halves["bi/backward"]),
            x,
            zeros(2),
            p["b"],
            backwards=True,
            **kwargs,
        )
        joined = tf.concat([forward, tf.reverse(backward, [1])], axis=-1)
        per_step = tf.reduce_mean(tf.square(y - dense(joined)), axis=-1)
        return _masked_mean(per_step, mask)

    expected = reference(run, {"f": [2], "b": [2]})
    assert sorted(result.state_gradients) == ["bi/backward", "bi/forward"]
    _close(result.state_gradients["bi/forward"], expected["f"][0])
    _close(result.state_gradients["bi/backward"], expected["b"][0])
    assert sorted(result.weight_contributions) == ["bi/backward", "bi/forward"]


def test_returned_states_inside_a_nested_model():
    lstm = keras.layers.LSTM(3, return_sequences=True, return_state=True, name="enc")
    inner_in = keras.Input((STEPS, FEATURES))
    inner = keras.Model(inner_in, lstm(inner_in), name="inner")
    per_step, from_state = keras.layers.Dense(1), keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    sequence, h, c = inner(inputs)
    outputs = [per_step(sequence), from_state(keras.layers.Concatenate()([h, c]))]
    model = keras.Model(inputs, outputs)
    model.compile(loss="mse")
    x, y = _x(15), [_x(16, (BATCH, STEPS, 1)), _x(17, (BATCH, 1))]

    _, result = check_weight_terms(model, x, y, {"enc": lstm.cell})

    def run(p):
        outputs, (h, c) = unroll(lstm_step(lstm.cell), x, zeros(3, 3), p["l"])
        state_loss = _mse(y[1], from_state(tf.concat([h, c], axis=-1)))
        return _mse(y[0], per_step(outputs)) + state_loss

    h, c = reference(run, {"l": [3, 3]})["l"]
    _close(result.state_gradients["enc"], h)
    _close(result.state_gradients["enc/cell"], c)


def test_mixed_precision_agrees_with_float32():
    def build(policy):
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy(policy)
        keras.utils.set_random_seed(3)
        inputs = keras.Input((STEPS, FEATURES))
        lstm = keras.layers.LSTM(4, name="lstm")
        head = keras.layers.Dense(1, dtype="float32")
        model = keras.Model(inputs, head(lstm(inputs)))
        model.compile(optimizer="sgd", loss="mse")
        return model

    x, y = _x(18).astype("float32"), _x(19, (BATCH, 1)).astype("float32")
    full = capture(build("float32"), x, y, kinds=ALL)
    mixed = capture(build("mixed_float16"), x, y, kinds=ALL)

    for key, expected in full.state_gradients.items():
        got = mixed.state_gradients[key]
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=2e-2 * np.abs(expected).max())
    for name, expected in full.weight_contributions["lstm"].items():
        got = mixed.weight_contributions["lstm"][name]
        np.testing.assert_allclose(got, expected, atol=2e-2 * np.abs(expected).max())


# Cells without Keras weight names, cells and layers that cannot be probed.


class PlainCell(keras.layers.Layer):
    """h_t = tanh(x A + h_{t-1} B), weights not named kernel / recurrent_kernel."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.a = self.add_weight(shape=(input_shape[-1], self.units))
        self.b = self.add_weight(shape=(self.units, self.units))

    def call(self, inputs, states):
        h = keras.ops.tanh(inputs @ self.a + states[0] @ self.b)
        return h, [h]


def test_cell_without_named_weights_gets_state_gradients_and_a_note():
    rnn = keras.layers.RNN(PlainCell(2), name="plain")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(rnn(inputs)))
    model.compile(loss="mse")
    x, y = _x(20), _x(21, (BATCH, 1))

    result = capture(model, x, y, kinds=ALL)

    def step(x_t, states, probes):
        return [tf.tanh(x_t @ _w(rnn.cell.a) + states[0] @ _w(rnn.cell.b)) + probes[0]]

    def run(p):
        outputs, _ = unroll(step, x, zeros(2), p["p"])
        return _mse(y, dense(outputs[:, -1]))

    _close(result.state_gradients["plain"], reference(run, {"p": [2]})["p"][0])
    assert result.weight_contributions == {} and result.gates == {}
    assert any("'plain'" in n and "no weight contributions" in n for n in result.notes)


def test_state_kinds_refuse_a_layer_that_is_not_recurrent():
    inputs = keras.Input((STEPS, FEATURES))
    conv = keras.layers.Conv1D(2, 3, padding="same", name="conv")
    model = keras.Model(inputs, keras.layers.GRU(1)(conv(inputs)))
    model.compile(loss="mse")
    with pytest.raises(
        CaptureError, match=r"'conv' \(Conv1D\) is not recurrent.*'gradients'"
    ):
        capture(model, _x(), _x(1, (BATCH, 1)), layers="conv", kinds=ALL)


def test_a_cell_whose_states_are_not_vectors_cannot_be_probed():
    inputs = keras.Input((STEPS, 4, FEATURES))
    conv_lstm = keras.layers.ConvLSTM1D(2, 3, padding="same", name="conv_lstm")
    model = keras.Model(
        inputs, keras.layers.Dense(1)(keras.layers.Flatten()(conv_lstm(inputs)))
    )
    model.compile(loss="mse")
    x = _x(22, (BATCH, STEPS, 4, FEATURES))
    with pytest.raises(
        CaptureError, match=r"^Layer 'conv_lstm' \(ConvLSTM1D\).*shape \(3, 5, 4, 2\)"
    ):
        capture(model, x, _x(1, (BATCH, 1)), kinds=("state_gradients",))


class FusedRNN(keras.layers.RNN):
    """Stands for a layer with a fused kernel: its loop never calls the cell."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        outputs = keras.ops.tanh(sequences @ self.cell.kernel)
        return outputs[:, -1], outputs, [outputs[:, -1]]


def test_a_loop_that_does_not_call_its_cell_cannot_be_probed():
    inputs = keras.Input((STEPS, FEATURES))
    fused = FusedRNN(keras.layers.SimpleRNNCell(2), name="fused")
    model = keras.Model(inputs, keras.layers.Dense(1)(fused(inputs)))
    model.compile(loss="mse")
    x, y = _x(25), _x(26, (BATCH, 1))
    with pytest.raises(CaptureError, match=r"^Layer 'fused' \(FusedRNN\) did not call"):
        capture(model, x, y, kinds=("state_gradients",))
    assert capture(model, x, y).gradients["fused"].shape == (BATCH, 2)


# Any sequence layer, named explicitly, for gradients and activations.


class Smooth(keras.layers.Layer):
    """A custom sequence layer: the running mean over time."""

    def call(self, inputs):
        steps = keras.ops.arange(1, inputs.shape[1] + 1, dtype=inputs.dtype)
        return keras.ops.cumsum(inputs, axis=1) / steps[:, None]


@pytest.mark.parametrize("kind", ["conv", "attention", "custom"])
def test_sequence_layer_named_explicitly(kind):
    inputs = keras.Input((STEPS, FEATURES))
    if kind == "conv":
        layer = keras.layers.Conv1D(4, 2, padding="causal", name="seq")
        call = layer
    elif kind == "attention":
        layer = keras.layers.MultiHeadAttention(2, 2, name="seq")

        def call(h):
            return layer(h, h)

    else:
        layer = Smooth(name="seq")
        call = layer
    gru, dense = keras.layers.GRU(2, name="gru"), keras.layers.Dense(1)
    model = keras.Model(inputs, dense(gru(call(inputs))))
    model.compile(loss="mse")
    x, y = _x(23), _x(24, (BATCH, 1))

    result = capture(model, x, y, layers=["seq"], kinds=("gradients", "activations"))

    sequence = call(tf.constant(x))
    with tf.GradientTape() as tape:
        tape.watch(sequence)
        loss = _mse(y, dense(gru(sequence)))
    _close(result.gradients["seq"], tape.gradient(loss, sequence).numpy())
    _close(result.activations["seq"], sequence.numpy())
    assert list(capture(model, x, y).gradients) == ["gru"]
