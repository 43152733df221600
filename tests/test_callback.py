"""GradientLogger: what it writes, when, and how it fails."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import shutil  # noqa: E402
import warnings  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorboard import context  # noqa: E402
from tensorboard.data import provider as dp  # noqa: E402

from tb_rnngrad import callback_writers, records  # noqa: E402
from tb_rnngrad.callback import GradientLogger  # noqa: E402
from tb_rnngrad.capture import CaptureError, capture, rnn_gradients  # noqa: E402
from tb_rnngrad.capture.tf_pass import GradientCapture  # noqa: E402
from testkit.events import Events  # noqa: E402

SAMPLES, STEPS, FEATURES, BATCH = 24, 5, 3, 4  # 6 optimizer steps per epoch
DEFAULT_TAGS = [  # of `_model()` with the default kinds
    "gradients/g2",
    "gradients/l1",
    "state_gradients/g2",
    "state_gradients/l1",
    "state_gradients/l1/cell",
]


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, STEPS, FEATURES)).astype("float32")
    x[0, -2:] = 0.0  # padding, masked by the Masking layer
    return x, rng.standard_normal((SAMPLES, 1)).astype("float32")


def _model(compiled: bool = True) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, FEATURES), name="seq")
    masked = keras.layers.Masking(name="masking")(inputs)
    hidden = keras.layers.LSTM(3, return_sequences=True, name="l1")(masked)
    hidden = keras.layers.GRU(2, name="g2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    if compiled:
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_logs_every_n_steps_with_values_of_the_last_step(tmp_path):
    model = _model()
    x, y = _data()
    logger = GradientLogger(
        tmp_path,
        data=(x[:8], y[:8]),
        every_n_steps=2,
        kinds=("gradients", "activations", "input_gradients"),
        max_samples=4,
    )
    model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[logger], verbose=0)

    assert int(model.optimizer.iterations.numpy()) == 12
    expected_steps = [0, 2, 4, 6, 8, 10, 12]
    assert logger.logged_steps == expected_steps
    events = Events(str(tmp_path))
    assert events.tags() == [
        "activations/g2",
        "activations/l1",
        "gradients/g2",
        "gradients/l1",
        "input_gradients/seq",
    ]
    final = capture(
        model, x[:4], y[:4], kinds=("gradients", "activations", "input_gradients")
    )
    grads = rnn_gradients(model, x[:4], y[:4])
    mask = np.ones((4, STEPS), bool)
    mask[0, -2:] = False
    for key in ("l1", "g2"):
        logged = events.read(f"gradients/{key}")
        assert sorted(logged) == expected_steps
        np.testing.assert_allclose(logged[12][0], grads[key], rtol=1e-6)
        logged = events.read(f"activations/{key}")
        np.testing.assert_allclose(logged[12][0], final.activations[key], rtol=1e-6)
    # The sequence output carries its mask; the last output has no time axis.
    np.testing.assert_array_equal(events.read("gradients/l1")[12][1], mask)
    assert len(events.read("gradients/g2")[12]) == 1
    inputs = events.read("input_gradients/seq")
    np.testing.assert_allclose(inputs[12][0], final.input_gradients["seq"], rtol=1e-6)
    np.testing.assert_array_equal(inputs[12][1], mask)
    # Step 0 was written before any update: it differs from the last step.
    assert not np.allclose(events.read("gradients/l1")[0][0], grads["l1"])


def test_logs_the_through_time_kinds_with_their_metadata(tmp_path):
    from tb_rnngrad.format import metadata

    model = _model()
    x, y = _data()
    kinds = ("gradients", "state_gradients", "weight_contributions")
    logger = GradientLogger(tmp_path, data=(x[:4], y[:4]), every_n_steps=6, kinds=kinds)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)

    events = Events(str(tmp_path))
    assert events.tags() == [
        *DEFAULT_TAGS,
        "weight_contributions/g2",
        "weight_contributions/l1",
    ]
    final = capture(model, x[:4], y[:4], kinds=kinds)
    mask = np.ones((4, STEPS), bool)
    mask[0, -2:] = False
    for key in ("l1", "l1/cell", "g2"):
        logged = events.read(f"state_gradients/{key}")[6]
        np.testing.assert_allclose(logged[0], final.state_gradients[key], rtol=1e-6)
        np.testing.assert_array_equal(logged[1], mask)  # the layer's input mask
    for key, gates in (("l1", ["i", "f", "c", "o"]), ("g2", ["z", "r", "h"])):
        (logged,) = events.read(f"weight_contributions/{key}")[6]
        weights = final.weight_contributions[key]
        np.testing.assert_allclose(logged, np.stack(list(weights.values())), rtol=1e-6)
        listing = events.provider.list_blob_sequences(
            events.ctx, experiment_id="", plugin_name="rnngrad"
        )["rnngrad"]
        parsed = metadata.parse_plugin_metadata(
            listing[f"weight_contributions/{key}"].plugin_content
        )
        assert metadata.kind_name(parsed.kind) == "weight_contributions"
        assert (list(parsed.weights), list(parsed.gates)) == (list(weights), gates)
        assert parsed.layer_name == key
    cell = events.provider.list_blob_sequences(
        events.ctx, experiment_id="", plugin_name="rnngrad"
    )["rnngrad"]["state_gradients/l1/cell"]
    parsed = metadata.parse_plugin_metadata(cell.plugin_content)
    assert metadata.kind_name(parsed.kind) == "cell_state_gradients"
    assert (parsed.layer_class, parsed.units) == ("LSTM", 3)


def test_logs_gate_activations_named_by_band_and_gate(tmp_path):
    from tb_rnngrad.format import metadata

    model = _model()
    x, y = _data()
    kinds = ("gate_activations",)
    logger = GradientLogger(tmp_path, data=(x[:4], y[:4]), every_n_steps=6, kinds=kinds)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)

    events = Events(str(tmp_path))
    assert events.tags() == ["gate_activations/g2", "gate_activations/l1"]
    final = capture(model, x[:4], y[:4], kinds=kinds)
    listing = events.provider.list_blob_sequences(
        events.ctx, experiment_id="", plugin_name="rnngrad"
    )["rnngrad"]
    for key, gates in (("l1", ["i", "f", "o"]), ("g2", ["z", "r"])):
        (logged,) = events.read(f"gate_activations/{key}")[6]
        bands = final.gate_activations[key]
        np.testing.assert_array_equal(
            logged, np.stack([bands["near_0"], bands["near_1"]])
        )
        parsed = metadata.parse_plugin_metadata(
            listing[f"gate_activations/{key}"].plugin_content
        )
        assert metadata.kind_name(parsed.kind) == "gate_activations"
        assert (list(parsed.weights), list(parsed.gates)) == (
            ["near_0", "near_1"],
            gates,
        )


def test_non_logging_batches_do_not_read_the_step(tmp_path, monkeypatch):
    model = _model()
    x, y = _data()
    weights = np.ones(SAMPLES, "float32")
    logger = GradientLogger(tmp_path, (x, y, weights), layers="g2", every_n_steps=4)
    reads = []
    original = logger._current_step
    monkeypatch.setattr(logger, "_current_step", lambda: reads.append(1) or original())
    model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 4, 8, 12]
    assert len(reads) == 4  # on_train_begin, then only at steps 4, 8 and 12


def test_steps_per_execution_logs_first_step_past_each_multiple(tmp_path):
    model = _model()
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=3)
    x, y = _data()
    logger = GradientLogger(tmp_path, data=(x, y), layers="g2", every_n_steps=2)
    model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 3, 6, 9, 12]


def test_second_fit_continues_the_step_count(tmp_path):
    model = _model()
    x, y = _data()
    logger = GradientLogger(tmp_path, data=(x, y), layers="g2", every_n_steps=4)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 4, 6, 8, 12]
    assert sorted(Events(str(tmp_path)).read("gradients/g2")) == [0, 4, 6, 8, 12]


def test_a_fit_resuming_at_a_logged_step_runs_no_capture(tmp_path, monkeypatch):
    model = _model()
    x, y = _data()
    x, y = x[:16], y[:16]  # 4 steps per fit
    logger = GradientLogger(tmp_path, data=(x, y), layers="g2", every_n_steps=4)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 4]
    runs = []
    original = GradientCapture.run
    monkeypatch.setattr(
        GradientCapture,
        "run",
        lambda self, batch: runs.append(1) or original(self, batch),
    )
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 4, 8]
    assert len(runs) == 1  # step 8 only: step 4 was logged and validated before
    model.compile(optimizer=model.optimizer, loss="mae")  # keeps the step count
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    assert len(runs) == 3  # a new loss is validated again at step 8, then step 12
    assert logger.logged_steps == [0, 4, 8, 12]


def test_dataset_data_next_to_keras_tensorboard(tmp_path):
    model = _model()
    x, y = _data()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(6)
    logger = GradientLogger(str(tmp_path), data=dataset, layers=["l1"], every_n_steps=3)
    board = keras.callbacks.TensorBoard(str(tmp_path))
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        validation_data=(x[:8], y[:8]),
        callbacks=[board, logger],
        verbose=0,
    )

    events = Events(str(tmp_path))
    assert events.runs() == ["rnngrad", "train", "validation"]
    # the default kinds: the output's gradient and the states'
    assert events.tags() == [
        "gradients/l1",
        "state_gradients/l1",
        "state_gradients/l1/cell",
    ]
    logged = events.read("gradients/l1")
    assert sorted(logged) == [0, 3, 6]
    assert logged[6][0].shape == (6, STEPS, 3)  # the dataset's first batch
    np.testing.assert_allclose(
        logged[6][0], rnn_gradients(model, x[:6], y[:6], "l1")["l1"], rtol=1e-6
    )


def test_logs_to_any_gfile_path_such_as_tensorflows_ram_filesystem():
    model = _model()
    x, y = _data()
    log_dir = "ram://test_callback/run1"
    logger = GradientLogger(log_dir, data=(x[:4], y[:4]), every_n_steps=3)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)

    (event_file,) = tf.io.gfile.glob(f"{log_dir}/rnngrad/events.out.tfevents.*")
    assert logger._event_file == event_file
    events = Events(log_dir)  # TensorBoard's reader, through tf.io.gfile
    assert events.tags() == DEFAULT_TAGS
    logged = events.read("gradients/l1")
    assert sorted(logged) == logger.logged_steps == [0, 3, 6]
    np.testing.assert_allclose(
        logged[6][0], rnn_gradients(model, x[:4], y[:4])["l1"], rtol=1e-6
    )
    tf.io.gfile.rmtree("ram://test_callback")


def _fit_raises(model, logger, error, match):
    x, y = _data()
    with pytest.raises(error, match=match):
        model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 0  # before the first step


def test_unknown_layer_fails_before_the_first_step(tmp_path):
    logger = GradientLogger(tmp_path, data=_data(), layers=["l1", "lstm"])
    _fit_raises(
        _model(),
        logger,
        CaptureError,
        r"no layer named 'lstm'.*'l1' \(LSTM\), 'g2' \(GRU\)",
    )


def test_non_recurrent_layer_fails_before_the_first_step(tmp_path):
    logger = GradientLogger(tmp_path, data=_data(), layers="head")
    _fit_raises(_model(), logger, CaptureError, r"'head' \(Dense\).*not recurrent")


def test_wrong_data_shape_fails_before_the_first_step(tmp_path):
    x, y = _data()
    logger = GradientLogger(tmp_path, data=(x[:, :, :2], y))
    _fit_raises(_model(), logger, CaptureError, r"shape \(16, 5, 2\).*expects")


def _stateful_model(batch: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input(batch_shape=(batch, STEPS, FEATURES), name="seq")
    hidden = keras.layers.LSTM(3, stateful=True, name="st")(inputs)
    model = keras.Model(
        inputs, keras.layers.Dense(1, name="head")(hidden), name="stateful"
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_stateful_model_and_default_max_samples_fail_naming_max_samples(tmp_path):
    x, y = _data()
    logger = GradientLogger(tmp_path, data=(x, y))  # max_samples=16
    model = _stateful_model(8)
    with pytest.raises(CaptureError) as info:
        model.fit(x, y, batch_size=8, epochs=1, callbacks=[logger], verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 0
    assert str(info.value) == (
        "GradientLogger: model 'stateful' has stateful layers, which take "
        "batches of exactly 8 samples (the batch size of its inputs), but the "
        "probe batch has 16 samples (max_samples=16). Pass max_samples=8 with at "
        "least 8 samples in `data`, or a probe batch of exactly 8 samples."
    )


def test_stateful_model_logs_with_max_samples_of_its_batch_size(tmp_path):
    x, y = _data()
    model = _stateful_model(8)
    logger = GradientLogger(tmp_path, data=(x, y), max_samples=8, every_n_steps=2)
    model.fit(x, y, batch_size=8, epochs=1, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 2]
    (tensor,) = Events(str(tmp_path)).read("gradients/st")[0]
    assert tensor.shape == (8, 3)
    expected = capture(_stateful_model(8), x[:8], y[:8]).gradients["st"]
    np.testing.assert_allclose(tensor, expected, rtol=1e-6)


def test_unwritable_log_dir_fails_before_the_first_step(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    logger = GradientLogger(blocker / "logs", data=_data())
    _fit_raises(_model(), logger, OSError, "cannot .*log_dir you can write to")


def test_uncompiled_model_is_rejected(tmp_path):
    logger = GradientLogger(tmp_path, data=_data())
    logger.set_model(_model(compiled=False))
    with pytest.raises(CaptureError, match=r"not compiled.*model.compile\("):
        logger.on_train_begin()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"every_n_steps": 0}, ValueError, "every_n_steps must be a positive int"),
        ({"max_samples": -1}, ValueError, "max_samples must be a positive int"),
        ({"kinds": ("grads",)}, CaptureError, "kinds must be"),
        ({"data": [1, 2, 3, 4]}, TypeError, r"list of length 4; expected \(x, y\)"),
        ({"data": "x.npy"}, TypeError, "expected \\(x, y\\)"),
        ({"log_dir": ""}, ValueError, "log_dir must be a non-empty path"),
    ],
)
def test_constructor_validates_its_arguments(tmp_path, kwargs, error, match):
    arguments = {"log_dir": tmp_path, "data": _data(), **kwargs}
    with pytest.raises(error, match=match):
        GradientLogger(**arguments)


def test_public_name():
    import tb_rnngrad

    assert tb_rnngrad.GradientLogger is GradientLogger


def test_empty_dataset_is_rejected(tmp_path):
    empty = tf.data.Dataset.from_tensor_slices(_data()).take(0)
    with pytest.raises(ValueError, match="empty tf.data.Dataset"):
        GradientLogger(tmp_path, data=empty)


def test_write_error_mid_training_warns_once_and_training_goes_on(
    tmp_path, monkeypatch
):
    model = _model()
    x, y = _data()
    calls = []
    original = callback_writers.add_records

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:  # step 0 is written, then the disk fails
            raise OSError("No space left on device")
        return original(*args, **kwargs)

    monkeypatch.setattr(callback_writers, "add_records", failing)
    logger = GradientLogger(tmp_path, data=(x, y), every_n_steps=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(
            x, y, batch_size=BATCH, epochs=2, callbacks=[logger], verbose=0
        )

    ours = [w for w in caught if "GradientLogger" in str(w.message)]
    assert len(ours) == 1
    assert "logging step 2 failed" in str(ours[0].message)
    assert "No space left on device" in str(ours[0].message)
    assert len(history.history["loss"]) == 2
    assert int(model.optimizer.iterations.numpy()) == 12
    events = Events(str(tmp_path))
    for key in ("l1", "g2"):
        assert sorted(events.read(f"gradients/{key}")) == [0]


class _AfterFirstEpoch(keras.callbacks.Callback):
    def __init__(self, action):
        super().__init__()
        self.action = action

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.action()


def _fit_with(logger, action):
    model = _model()
    x, y = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=2,
            callbacks=[logger, _AfterFirstEpoch(action)],
            verbose=0,
        )
    assert int(model.optimizer.iterations.numpy()) == 12
    return [str(w.message) for w in caught if "GradientLogger" in str(w.message)]


def test_log_dir_removed_mid_training_warns_and_logs_the_next_steps_anew(tmp_path):
    logger = GradientLogger(tmp_path, data=_data(), every_n_steps=2)
    warned = _fit_with(logger, lambda: shutil.rmtree(tmp_path / "rnngrad"))

    assert len(warned) == 1
    assert "was removed during training" in warned[0]
    assert "step 6 and later go to a new event file" in warned[0]
    assert logger.logged_steps == [0, 2, 4, 6, 8, 10, 12]
    events = Events(str(tmp_path))
    for key in ("l1", "g2"):
        assert sorted(events.read(f"gradients/{key}")) == [6, 8, 10, 12]


def test_log_dir_replaced_by_a_file_stops_logging_with_one_warning(tmp_path):
    path = tmp_path / "rnngrad"
    logger = GradientLogger(tmp_path, data=_data(), every_n_steps=2)

    def replace():
        shutil.rmtree(path)
        path.write_text("not a directory")

    warned = _fit_with(logger, replace)

    assert len(warned) == 1
    assert "logging step 6 failed" in warned[0]
    assert "cannot create the log directory" in warned[0]
    assert logger.logged_steps == [0, 2, 4]


def test_seeded_training_with_dropout_is_the_same_with_the_logger(tmp_path):
    def train(callbacks):
        keras.utils.set_random_seed(7)
        inputs = keras.Input((STEPS, FEATURES))
        hidden = keras.layers.LSTM(3, dropout=0.3, recurrent_dropout=0.2)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        x, y = _data()
        model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=callbacks, verbose=0)
        return model.get_weights()

    without = train([])
    logger = GradientLogger(tmp_path, data=_data(), every_n_steps=1)
    with_logger = train([logger])
    assert logger.logged_steps == [0, 1, 2, 3, 4, 5, 6]
    for a, b in zip(without, with_logger, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_unused_output_is_noted_in_the_result_and_the_logged_description(
    tmp_path,
):
    keras.utils.set_random_seed(0)
    source = keras.Input((STEPS, FEATURES), name="source")
    _, h, c = keras.layers.LSTM(3, return_state=True, name="encoder")(source)
    repeated = keras.layers.RepeatVector(2)(h)
    decoded = keras.layers.LSTM(3, name="decoder")(repeated, initial_state=[h, c])
    model = keras.Model(source, keras.layers.Dense(1, name="head")(decoded))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()

    result = capture(model, x[:4], y[:4], kinds=("gradients", "state_gradients"))
    assert result.unused_outputs == ("encoder",)
    assert np.all(result.gradients["encoder"] == 0)
    assert np.any(result.state_gradients["encoder"] != 0)
    (note,) = [n for n in result.notes if "'encoder'" in n]
    assert "not used downstream" in note and "state_gradients" in note
    assert result.gradients["decoder"].any()

    logger = GradientLogger(tmp_path, data=(x[:4], y[:4]), layers="encoder")
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    listing = Events(str(tmp_path)).provider.list_blob_sequences(
        context.RequestContext(), experiment_id="", plugin_name="rnngrad"
    )
    description = listing["rnngrad"]["gradients/encoder"].description
    assert description.endswith(records.UNUSED_OUTPUT_NOTE)


def _histograms(events: Events, tag: str) -> dict[int, np.ndarray]:
    """{step: (buckets, 3) left edge, right edge, count} of one histogram."""
    result = events.provider.read_tensors(
        events.ctx,
        experiment_id="",
        plugin_name="histograms",
        downsample=10_000,
        run_tag_filter=dp.RunTagFilter(runs=["rnngrad"], tags=[tag]),
    )
    return {datum.step: datum.numpy for datum in result["rnngrad"][tag]}


def _scalar(events: Events, tag: str) -> dict[int, float]:
    result = events.provider.read_scalars(
        events.ctx,
        experiment_id="",
        plugin_name="scalars",
        downsample=10_000,
        run_tag_filter=dp.RunTagFilter(runs=["rnngrad"], tags=[tag]),
    )
    return {datum.step: datum.value for datum in result["rnngrad"][tag]}


def test_logs_weights_and_weight_gradients_per_gate(tmp_path, capsys):
    from tb_rnngrad import cli
    from tb_rnngrad.format import metadata

    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS, FEATURES), name="seq")
    hidden = keras.layers.Bidirectional(
        keras.layers.LSTM(2, return_sequences=True), name="bi"
    )(inputs)
    hidden = keras.layers.GRU(2, name="g2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = _data()
    kinds = ("gradients", "weights", "weight_gradients")
    probe = (x[:4], y[:4])
    first = capture(model, *probe, kinds=kinds)  # before any update: step 0
    logger = GradientLogger(tmp_path, data=probe, every_n_steps=6, kinds=kinds)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[logger], verbose=0)
    final = capture(model, *probe, kinds=kinds)

    events = Events(str(tmp_path))
    names = {"bi/forward": ("kernel", "recurrent_kernel", "bias")}
    names["bi/backward"] = names["bi/forward"]
    names["g2"] = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
    expected_tags = sorted(
        f"{kind}/{key}/{name}"
        for kind in ("weights", "weight_gradients")
        for key, weights in names.items()
        for name in weights
    )
    assert [t for t in events.tags() if not t.startswith("gradients/")] == (
        expected_tags
    )
    listing = events.provider.list_blob_sequences(
        events.ctx, experiment_id="", plugin_name="rnngrad"
    )["rnngrad"]
    for step, result in ((0, first), (6, final)):
        for kind in ("weights", "weight_gradients"):
            for key, weights in names.items():
                for name in weights:
                    (logged,) = events.read(f"{kind}/{key}/{name}")[step]
                    value = getattr(result, kind)[key][name]
                    np.testing.assert_allclose(
                        logged, value.reshape(logged.shape), rtol=1e-6, atol=1e-8
                    )
                    assert logged.ndim == 2
    parsed = metadata.parse_plugin_metadata(
        listing["weight_gradients/bi/backward/recurrent_kernel"].plugin_content
    )
    assert metadata.kind_name(parsed.kind) == "weight_gradients"
    assert (list(parsed.weights), list(parsed.gates)) == (
        ["recurrent_kernel"],
        ["i", "f", "c", "o"],
    )
    assert (parsed.layer_class, parsed.direction, tuple(parsed.shape)) == (
        "LSTM",
        "backward",
        (2, 8),
    )
    # No profile or reach companion for a matrix (it has no time axis).
    profiles = events.provider.list_tensors(
        events.ctx, experiment_id="", plugin_name="rnngrad_profile"
    )["rnngrad"]
    assert not [t for t in profiles if t.startswith("weight")]

    # One TensorBoard histogram per gate, of that gate's block of columns.
    histograms = events.provider.list_tensors(
        events.ctx, experiment_id="", plugin_name="histograms"
    )["rnngrad"]
    assert len(histograms) == 2 * (2 * 3 * 4 + 4 * 3)
    kernel = final.weights["bi/forward"]["kernel"]
    for gate, (a, b) in zip("ifco", ((0, 2), (2, 4), (4, 6), (6, 8)), strict=True):
        buckets = _histograms(events, f"weights/bi/forward/kernel/{gate}")[6]
        block = kernel[:, a:b]
        assert buckets[:, 2].sum() == block.size
        assert buckets[0, 0] == pytest.approx(block.min())
        assert buckets[-1, 1] == pytest.approx(block.max())
        max_abs = _scalar(events, f"weights/bi/forward/kernel/{gate}/max_abs")
        assert max_abs[6] == pytest.approx(np.abs(block).max())
    grad = final.weight_gradients["g2"]["recurrent_bias"]
    zeros = _scalar(events, "weight_gradients/g2/recurrent_bias/h/zero_fraction")
    assert zeros[6] == pytest.approx(np.mean(grad[4:6] == 0))
    nonfinite = _scalar(events, "weight_gradients/g2/kernel/z/nonfinite")
    assert nonfinite == {0: 0.0, 6: 0.0}

    assert cli.main(["summary", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    layout = out.split("weight gate layout\n")[1].splitlines()
    assert layout[0].split() == [
        "layer", "direction", "weight", "gate", "shape", "columns",
    ]  # fmt: skip
    assert layout[1].split() == [
        "bi/backward", "backward", "bias", "i", "(1,", "2)", "0:2",
    ]  # fmt: skip
    assert len(layout) == 1 + 2 * 3 * 4 + 4 * 3
