"""rnn_gradients / capture against an independent split-model computation.

Each reference splits the model at the layer: the prefix computes the layer's
output, which is then fed, as a tensor watched by its own tf.GradientTape, to
the rest of the network (the same layer objects called explicitly, masks passed
by hand); the loss is recomputed by hand with the compiled loss's reduction.
Models are tiny and run in float64.
"""

from __future__ import annotations

import gc
import logging
import os
import weakref

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tb_rnngrad.capture import (  # noqa: E402
    CaptureError,
    LayerInfo,
    capture,
    describe_layer,
    get_capture,
    recurrent_layers,
    rnn_gradients,
)

RTOL = 1e-5
ATOL = 1e-12
BATCH, STEPS, FEATURES = 4, 6, 3


@pytest.fixture(autouse=True)
def float64():
    """Float64 layers: floatx and the global dtype policy (which Keras pins to
    floatx the first time a layer is built, so both are set and restored)."""
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_floatx(floatx)
    keras.config.set_dtype_policy(policy)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _x(seed: int = 0, shape=(BATCH, STEPS, FEATURES)) -> np.ndarray:
    return _rng(seed).standard_normal(shape)


def _mse(y, p, sample_weight=None):
    """Keras 'mse' with reduction sum_over_batch_size, by hand."""
    per_sample = tf.reduce_mean(tf.square(tf.cast(y, p.dtype) - p), axis=-1)
    if sample_weight is not None:
        per_sample = per_sample * tf.cast(sample_weight, p.dtype)
    return tf.reduce_sum(per_sample) / tf.cast(tf.size(per_sample), p.dtype)


def _mae(y, p):
    per_sample = tf.reduce_mean(tf.abs(tf.cast(y, p.dtype) - p), axis=-1)
    return tf.reduce_sum(per_sample) / tf.cast(tf.size(per_sample), p.dtype)


def _reference(watched, rest):
    """(d loss / d watched, loss) where loss = rest(watched)."""
    watched = tf.nest.map_structure(tf.convert_to_tensor, watched)
    with tf.GradientTape() as tape:
        tape.watch(watched)
        loss = rest(watched)
    grads = tape.gradient(loss, watched)
    return tf.nest.map_structure(lambda g: g.numpy(), grads), float(loss)


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


# Sequential, stacked LSTM -> GRU, dropout (inference mode), sample weights.


@pytest.fixture
def stacked():
    lstm = keras.layers.LSTM(4, return_sequences=True, dropout=0.5, name="lstm_a")
    gru = keras.layers.GRU(3, name="gru_b")
    drop = keras.layers.Dropout(0.5)
    dense = keras.layers.Dense(2)
    model = keras.Sequential(
        [keras.Input((STEPS, FEATURES)), lstm, gru, drop, dense], name="stacked"
    )
    model.compile(optimizer="sgd", loss="mse")
    return model, lstm, gru, dense


def test_stacked_sequential_with_sample_weights(stacked):
    model, lstm, gru, dense = stacked
    x, y = _x(), _rng(1).standard_normal((BATCH, 2))
    weights = np.array([1.0, 0.5, 0.0, 2.0])

    got = rnn_gradients(model, x, y, sample_weight=weights)

    assert list(got) == ["lstm_a", "gru_b"]
    assert got["lstm_a"].dtype == np.float64  # the fixture's precision took hold
    assert got["lstm_a"].shape == (BATCH, STEPS, 4)
    assert got["gru_b"].shape == (BATCH, 3)  # return_sequences=False: no time axis
    h1 = lstm(x, training=False)
    expected1, loss = _reference(
        h1, lambda h: _mse(y, dense(gru(h, training=False)), weights)
    )
    expected2, _ = _reference(gru(h1), lambda h: _mse(y, dense(h), weights))
    _close(got["lstm_a"], expected1)
    _close(got["gru_b"], expected2)
    assert got.loss == pytest.approx(loss, rel=RTOL)
    assert np.abs(got["gru_b"][2]).max() == 0.0  # sample weight 0
    assert got.masks == {"lstm_a": None, "gru_b": None}


def test_inference_mode_is_deterministic(stacked):
    model, *_ = stacked
    x, y = _x(), _rng(1).standard_normal((BATCH, 2))
    first = rnn_gradients(model, x, y)
    second = rnn_gradients(model, x, y)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_select_by_index_object_and_name(stacked):
    model, lstm, gru, _ = stacked
    x, y = _x(), _rng(1).standard_normal((BATCH, 2))
    assert list(rnn_gradients(model, x, y, layers=0)) == ["lstm_a"]
    assert list(rnn_gradients(model, x, y, layers=gru)) == ["gru_b"]
    assert list(rnn_gradients(model, x, y, layers=["gru_b", lstm])) == [
        "gru_b",
        "lstm_a",
    ]


def test_one_trace_for_repeated_calls(stacked):
    model, *_ = stacked
    y = _rng(1).standard_normal((BATCH, 2))
    rnn_gradients(model, _x(0), y)
    traces = get_capture(model).trace_count
    for seed in (1, 2, 3):
        rnn_gradients(model, _x(seed), y)
    assert get_capture(model).trace_count == traces


def test_cache_does_not_keep_the_model_alive():
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, keras.layers.SimpleRNN(2)(inputs))
    model.compile(loss="mse")
    rnn_gradients(model, _x(), np.zeros((BATCH, 2)))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


# keras.layers.RNN with a custom cell and with StackedRNNCells.


class MinimalCell(keras.layers.Layer):
    """The minimal RNN cell of the Keras docs: h_t = tanh(x W + h_{t-1} U)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        self.recurrent = self.add_weight(shape=(self.units, self.units))

    def call(self, inputs, states):
        h = keras.ops.tanh(
            keras.ops.matmul(inputs, self.kernel)
            + keras.ops.matmul(states[0], self.recurrent)
        )
        return h, [h]


def test_custom_cell_and_stacked_cells():
    custom = keras.layers.RNN(MinimalCell(3), return_sequences=True, name="custom")
    stacked_cells = keras.layers.StackedRNNCells(
        [keras.layers.SimpleRNNCell(3), keras.layers.LSTMCell(2)]
    )
    stack = keras.layers.RNN(stacked_cells, name="stack")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(stack(custom(inputs))))
    model.compile(loss="mse")
    x, y = _x(), _rng(2).standard_normal((BATCH, 1))

    got = rnn_gradients(model, x, y)

    h1 = custom(x)
    expected1, _ = _reference(h1, lambda h: _mse(y, dense(stack(h))))
    expected2, _ = _reference(stack(h1), lambda h: _mse(y, dense(h)))
    _close(got["custom"], expected1)
    _close(got["stack"], expected2)
    assert describe_layer(custom).units == 3
    assert describe_layer(stack).units == 2


# Bidirectional, every merge mode.


def _merge(mode, forward, backward):
    if mode == "concat":
        return tf.concat([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    return [forward, backward]


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(mode):
    units = 2
    bi = keras.layers.Bidirectional(
        keras.layers.LSTM(units, return_sequences=True), merge_mode=mode, name="bi"
    )
    after = keras.layers.SimpleRNN(3, name="after")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    merged = bi(inputs)
    if mode is None:
        merged = keras.layers.Concatenate()(merged)
    model = keras.Model(inputs, dense(after(merged)))
    model.compile(loss="mse")
    x, y = _x(3), _rng(4).standard_normal((BATCH, 1))

    def rest(halves):
        joined = _merge(mode, *halves)
        if mode is None:
            joined = tf.concat(joined, axis=-1)
        return _mse(y, dense(after(joined)))

    # Each half separately, the backward one aligned to input time.
    forward = bi.forward_layer(x)
    backward = tf.reverse(bi.backward_layer(x), axis=[1])
    (d_forward, d_backward), loss = _reference([forward, backward], rest)

    got = rnn_gradients(model, x, y, layers="bi")

    assert got.loss == pytest.approx(loss, rel=RTOL)
    if mode is None:
        assert list(got) == ["bi/forward", "bi/backward"]
        _close(got["bi/forward"], d_forward)
        _close(got["bi/backward"], d_backward)
        return
    assert list(got) == ["bi"]
    expected, _ = _reference(bi(x), lambda h: _mse(y, dense(after(h))))
    _close(got["bi"], expected)
    if mode == "concat":  # Keras's channel order: forward units first.
        _close(got["bi"][..., :units], d_forward)
        _close(got["bi"][..., units:], d_backward)


def test_bidirectional_last_output_and_description():
    bi = keras.layers.Bidirectional(keras.layers.GRU(2), name="bigru")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(bi(inputs)))
    model.compile(loss="mse")
    x, y = _x(5), _rng(6).standard_normal((BATCH, 1))

    result = capture(model, x, y)

    assert result.gradients["bigru"].shape == (BATCH, 4)
    expected, _ = _reference(bi(x), lambda h: _mse(y, dense(h)))
    _close(result.gradients["bigru"], expected)
    assert result.layers["bigru"] == LayerInfo(
        name="bigru",
        layer_class="GRU",
        units=2,
        bidirectional=True,
        merge_mode="concat",
        direction="",
    )


def test_return_state_gradient_is_wrt_the_output_only():
    lstm = keras.layers.LSTM(2, return_state=True, name="ls")
    dense = keras.layers.Dense(1)
    inputs = keras.Input((STEPS, FEATURES))
    output, _, cell = lstm(inputs)
    model = keras.Model(inputs, dense(keras.layers.Concatenate()([output, cell])))
    model.compile(loss="mse")
    x, y = _x(17), _rng(18).standard_normal((BATCH, 1))

    got = rnn_gradients(model, x, y)

    output, _, cell = lstm(x)
    expected, _ = _reference(output, lambda o: _mse(y, dense(tf.concat([o, cell], -1))))
    _close(got["ls"], expected)


def test_stateful_layer_state_is_restored():
    rnn = keras.layers.SimpleRNN(2, stateful=True, name="st")
    inputs = keras.Input((STEPS, FEATURES), batch_size=BATCH)
    model = keras.Model(inputs, keras.layers.Dense(1)(rnn(inputs)))
    model.compile(loss="mse")
    model.predict(_x(19), verbose=0)
    before = [v.numpy() for v in rnn.states]
    assert np.abs(before[0]).max() > 0
    rnn_gradients(model, _x(20), np.zeros((BATCH, 1)))
    for b, a in zip(before, rnn.states, strict=True):
        np.testing.assert_array_equal(a.numpy(), b)


# Nested models.


def test_layer_inside_nested_model():
    inner_lstm = keras.layers.LSTM(4, return_sequences=True, name="inner_lstm")
    encoder = keras.Sequential(
        [keras.Input((STEPS, FEATURES)), inner_lstm], name="encoder"
    )
    outer_gru = keras.layers.GRU(3, name="outer_gru")
    dense = keras.layers.Dense(2)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, dense(outer_gru(encoder(inputs))))
    model.compile(loss="mse")
    x, y = _x(7), _rng(8).standard_normal((BATCH, 2))

    got = rnn_gradients(model, x, y)

    assert list(got) == ["inner_lstm", "outer_gru"]
    expected, _ = _reference(inner_lstm(x), lambda h: _mse(y, dense(outer_gru(h))))
    _close(got["inner_lstm"], expected)
    expected, _ = _reference(outer_gru(inner_lstm(x)), lambda h: _mse(y, dense(h)))
    _close(got["outer_gru"], expected)


def test_name_collisions_across_nested_models_use_paths():
    def encoder(name):
        return keras.Sequential(
            [keras.Input((STEPS, FEATURES)), keras.layers.GRU(2, name="rnn")],
            name=name,
        )

    inputs = keras.Input((STEPS, FEATURES))
    merged = keras.layers.Concatenate()(
        [encoder("enc_a")(inputs), encoder("enc_b")(inputs)]
    )
    model = keras.Model(inputs, keras.layers.Dense(1)(merged))
    model.compile(loss="mse")

    assert [r.key for r in recurrent_layers(model)] == ["enc_a/rnn", "enc_b/rnn"]
    with pytest.raises(CaptureError, match="ambiguous.*'enc_a/rnn', 'enc_b/rnn'"):
        rnn_gradients(model, _x(), np.zeros((BATCH, 1)), layers="rnn")


# Multi-input, multi-output, loss weights, input gradients.


def test_multi_input_multi_output():
    seq = keras.Input((STEPS, FEATURES), name="seq")
    static = keras.Input((2,), name="static")
    enc = keras.layers.LSTM(4, name="enc")
    side = keras.layers.Dense(2)
    head_a = keras.layers.Dense(1, name="out_a")
    head_b = keras.layers.Dense(2, name="out_b")
    h = enc(seq)
    out_a = head_a(keras.layers.Concatenate()([h, side(static)]))
    model = keras.Model({"seq": seq, "static": static}, [out_a, head_b(h)])
    model.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    x = {"seq": _x(9), "static": _rng(10).standard_normal((BATCH, 2))}
    y = [_rng(11).standard_normal((BATCH, 1)), _rng(12).standard_normal((BATCH, 2))]

    def loss_of(h, static_value):
        pred_a = head_a(tf.concat([h, side(static_value)], axis=-1))
        return _mse(y[0], pred_a) + 0.5 * _mae(y[1], head_b(h))

    result = capture(model, x, y, kinds=("gradients", "input_gradients"))

    expected, loss = _reference(enc(x["seq"]), lambda h: loss_of(h, x["static"]))
    _close(result.gradients["enc"], expected)
    assert result.loss == pytest.approx(loss, rel=RTOL)
    (d_seq, d_static), _ = _reference(
        [x["seq"], x["static"]], lambda v: loss_of(enc(v[0]), v[1])
    )
    _close(result.input_gradients["seq"], d_seq)
    _close(result.input_gradients["static"], d_static)
    assert result.input_sources == {"seq": "input", "static": "input"}


def test_capture_leaves_metrics_untouched():
    seq = keras.Input((STEPS, FEATURES), name="seq")
    h = keras.layers.GRU(2, name="gru")(seq)
    model = keras.Model(
        seq, [keras.layers.Dense(1, name="a")(h), keras.layers.Dense(1, name="b")(h)]
    )
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    x, y = _x(), [np.ones((BATCH, 1)), np.zeros((BATCH, 1))]
    rnn_gradients(model, x, y)  # builds the per-output loss trackers
    assert all(float(v.numpy()) == 0.0 for v in model.metrics_variables)
    model.fit(x, y, epochs=1, verbose=0)
    before = [v.numpy() for v in model.metrics_variables]
    rnn_gradients(model, x, y)
    after = [v.numpy() for v in model.metrics_variables]
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(b, a)


# Masking.


def _padded():
    x = _x(13, (BATCH, STEPS + 1, FEATURES))
    mask = np.ones((BATCH, STEPS + 1), bool)
    mask[0, -3:] = False
    mask[2, -1:] = False
    x[~mask] = 0.0
    return x, mask


def test_masking_layer():
    masking = keras.layers.Masking()
    first = keras.layers.LSTM(4, return_sequences=True, name="m1")
    second = keras.layers.LSTM(3, name="m2")
    dense = keras.layers.Dense(1)
    model = keras.Sequential(
        [keras.Input((STEPS + 1, FEATURES)), masking, first, second, dense]
    )
    model.compile(loss="mse")
    x, mask = _padded()
    y = _rng(14).standard_normal((BATCH, 1))

    result = capture(model, x, y, kinds=("gradients", "input_gradients"))

    np.testing.assert_array_equal(result.masks["m1"], mask)
    np.testing.assert_array_equal(result.masks["m2"], mask)
    expected, _ = _reference(
        first(x, mask=mask), lambda h: _mse(y, dense(second(h, mask=mask)))
    )
    _close(result.gradients["m1"], expected)
    (name,) = result.input_gradients
    expected, _ = _reference(
        x, lambda v: _mse(y, dense(second(first(v, mask=mask), mask=mask)))
    )
    _close(result.input_gradients[name], expected)
    np.testing.assert_array_equal(result.input_masks[name], mask)


def test_embedding_mask_zero():
    embedding = keras.layers.Embedding(10, 3, mask_zero=True, name="emb")
    first = keras.layers.GRU(4, return_sequences=True, name="g1")
    second = keras.layers.GRU(2, name="g2")
    dense = keras.layers.Dense(1)
    tokens_in = keras.Input((STEPS,), dtype="int32", name="tokens")
    model = keras.Model(tokens_in, dense(second(first(embedding(tokens_in)))))
    model.compile(loss="mse")
    tokens = _rng(15).integers(1, 10, (BATCH, STEPS))
    tokens[1, -2:] = 0
    tokens[3, -4:] = 0
    mask = tokens != 0
    y = _rng(16).standard_normal((BATCH, 1))

    result = capture(
        model, tokens, y, kinds=("gradients", "activations", "input_gradients")
    )

    np.testing.assert_array_equal(result.masks["g1"], mask)
    embedded = embedding(tokens)
    h1 = first(embedded, mask=mask)
    _close(result.activations["g1"], h1)
    expected, _ = _reference(h1, lambda h: _mse(y, dense(second(h, mask=mask))))
    _close(result.gradients["g1"], expected)
    expected, _ = _reference(
        embedded, lambda e: _mse(y, dense(second(first(e, mask=mask), mask=mask)))
    )
    assert result.input_sources == {"emb": "embedding"}
    _close(result.input_gradients["emb"], expected)
    np.testing.assert_array_equal(result.input_masks["emb"], mask)
    assert any("tokens" in note and "emb" in note for note in result.notes)


def test_public_names():
    import tb_rnngrad

    assert tb_rnngrad.rnn_gradients is rnn_gradients


# Errors a user can act on.


@pytest.fixture
def small():
    inputs = keras.Input((STEPS, FEATURES), name="seq")
    hidden = keras.layers.SimpleRNN(2, name="rnn")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(loss="mse")
    return model


def test_unknown_layer_lists_recurrent_layers(small):
    with pytest.raises(
        CaptureError, match=r"no layer named 'nope'.*'rnn' \(SimpleRNN\)"
    ):
        rnn_gradients(small, _x(), np.zeros((BATCH, 1)), layers="nope")


def test_non_recurrent_layer_rejected(small):
    with pytest.raises(CaptureError, match=r"'head' \(Dense\).*not recurrent.*'rnn'"):
        rnn_gradients(small, _x(), np.zeros((BATCH, 1)), layers="head")


def test_uncompiled_model():
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, keras.layers.GRU(2)(inputs))
    with pytest.raises(CaptureError, match=r"not compiled.*model.compile\("):
        rnn_gradients(model, _x(), np.zeros((BATCH, 2)))


def test_wrong_x_shape(small):
    with pytest.raises(CaptureError, match=r"shape \(4, 6, 5\).*'seq' expects"):
        rnn_gradients(small, _x(shape=(BATCH, STEPS, 5)), np.zeros((BATCH, 1)))


def test_wrong_number_of_inputs(small):
    with pytest.raises(CaptureError, match="2 array.*1 input"):
        rnn_gradients(small, [_x(), _x()], np.zeros((BATCH, 1)))


def test_mismatched_batch_sizes(small):
    with pytest.raises(CaptureError, match="same number of samples"):
        rnn_gradients(small, _x(), np.zeros((BATCH + 1, 1)))


def test_loss_failure_says_what_was_given(small):
    # y of shape (4, 5, 3) cannot be broadcast against the (4, 1) prediction.
    with pytest.raises(CaptureError, match=r"Given: x .*y .*Model inputs: 'seq'"):
        rnn_gradients(small, _x(), np.zeros((BATCH, 5, 3)))


def test_no_recurrent_layer():
    inputs = keras.Input((FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(loss="mse")
    with pytest.raises(CaptureError, match="no recurrent layer"):
        rnn_gradients(model, np.zeros((BATCH, FEATURES)), np.zeros((BATCH, 1)))


def test_empty_layer_list_is_refused(small):
    with pytest.raises(CaptureError, match=r"`layers` is empty.*Pass None"):
        rnn_gradients(small, _x(), np.zeros((BATCH, 1)), layers=[])


def test_dataset_as_x_says_to_pass_one_batch(small):
    dataset = tf.data.Dataset.from_tensor_slices((_x(), np.zeros((BATCH, 1))))
    with pytest.raises(CaptureError, match=r"tf.data.Dataset.*next\(iter"):
        rnn_gradients(small, dataset.batch(2), None)


def test_empty_batch_is_refused(small):
    rnn_gradients(small, _x(), np.zeros((BATCH, 1)))  # traced for other shapes
    with pytest.raises(CaptureError, match="x has 0 samples"):
        rnn_gradients(small, _x()[:0], np.zeros((0, 1)))


def test_shared_layer_gives_one_entry_per_independent_call():
    # Values: tests/test_keras_unrolled.py.
    shared = keras.layers.LSTM(3, name="shared")
    first, second = keras.Input((STEPS, FEATURES)), keras.Input((STEPS, FEATURES))
    merged = keras.layers.Concatenate()([shared(first), shared(second)])
    model = keras.Model([first, second], keras.layers.Dense(1)(merged))
    model.compile(loss="mse")
    grads = rnn_gradients(model, [_x(), _x(1)], np.zeros((BATCH, 1)))
    assert sorted(grads) == ["shared/call_0", "shared/call_1"]
    assert grads["shared/call_0"].shape == (BATCH, 3)


def test_capture_leaves_dropout_random_state_untouched():
    inputs = keras.Input((STEPS, FEATURES))
    hidden = keras.layers.LSTM(4, dropout=0.3, recurrent_dropout=0.2)(inputs)
    model = keras.Model(
        inputs, keras.layers.Dense(1)(keras.layers.Dropout(0.5)(hidden))
    )
    model.compile(loss="mse")
    seeds = [v for v in model.non_trainable_variables if "seed" in v.path]
    assert len(seeds) == 2  # the LSTM cell's and the Dropout layer's
    before = [v.numpy().copy() for v in seeds]
    rnn_gradients(model, _x(), np.zeros((BATCH, 1)))
    for variable, value in zip(seeds, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_one_capture_per_model_does_not_warn_of_retracing():
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    tf.get_logger().addHandler(handler)
    try:
        for units in range(2, 10):
            inputs = keras.Input((STEPS, FEATURES))
            model = keras.Model(inputs, keras.layers.GRU(units)(inputs))
            model.compile(loss="mse")
            rnn_gradients(model, _x(), np.zeros((BATCH, units)))
    finally:
        tf.get_logger().removeHandler(handler)
    assert not [m for m in messages if "retracing" in m]


def _vanishing_rnn(policy: str) -> keras.Model:
    keras.config.set_dtype_policy(policy)
    keras.utils.set_random_seed(3)
    inputs = keras.Input((100, FEATURES))
    hidden = keras.layers.SimpleRNN(8, return_sequences=True, name="rnn")(inputs)
    hidden = keras.layers.SimpleRNN(8, name="last")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, dtype="float32")(hidden))
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_mixed_precision_gradients_use_the_loss_scale_and_keep_small_values():
    keras.config.set_floatx("float32")
    reference = _vanishing_rnn("float32")
    mixed = _vanishing_rnn("mixed_float16")
    assert type(mixed.optimizer).__name__ == "LossScaleOptimizer"
    mixed.set_weights(reference.get_weights())
    x = _x(shape=(BATCH, 100, FEATURES)).astype(np.float32)
    y = np.ones((BATCH, 1), np.float32)

    expected = rnn_gradients(reference, x, y)["rnn"]
    got = rnn_gradients(mixed, x, y)["rnn"]

    assert got.dtype == np.float32
    # The tail vanishes from about 1e-1 to far below float16's smallest value.
    assert np.abs(expected[:, -1]).max() > 1e-2
    assert np.abs(expected[:, 0]).max() < 1e-9
    # Every value an unscaled float16 backward pass would flush to zero is kept,
    # as training's scaled backward pass keeps it.
    kept = np.abs(expected) > 1e-9
    assert (np.abs(expected[kept]) < 6e-8).mean() > 0.2
    assert np.all(got[kept] != 0)
    # float16 forward and backward: close, not equal. The per-timestep norms
    # (the profile the tab draws) agree wherever the scaled values are normal
    # float16 numbers, and so do most single values.
    norms = np.sqrt((expected**2).sum(axis=(0, 2)))
    normal = norms > 1e-7
    assert normal.sum() > 20
    np.testing.assert_allclose(
        np.sqrt((got**2).sum(axis=(0, 2)))[normal], norms[normal], rtol=0.1
    )
    big = np.abs(expected) > 1e-8
    error = np.abs(got[big] - expected[big]) / np.abs(expected[big])
    assert np.median(error) < 0.01


def test_mixed_precision_overflow_of_the_loss_scale_falls_back_to_unscaled():
    keras.config.set_floatx("float32")
    reference = _vanishing_rnn("float32")
    mixed = _vanishing_rnn("mixed_float16")
    mixed.set_weights(reference.get_weights())
    x = _x(shape=(BATCH, 100, FEATURES)).astype(np.float32)
    y = np.full(
        (BATCH, 1), 2000.0, np.float32
    )  # d loss/d output ~ 1e3: x 2**15 > 65504

    expected = rnn_gradients(reference, x, y)["last"]
    got = rnn_gradients(mixed, x, y)["last"]

    assert np.abs(expected).max() * 2**15 > 65504  # the scaled pass overflows
    assert got.dtype == np.float32 and np.all(np.isfinite(got))
    np.testing.assert_allclose(
        got, expected, rtol=0.05, atol=1e-3 * np.abs(expected).max()
    )
