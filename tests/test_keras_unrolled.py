"""Keras recurrences unrolled by hand: cells in a loop, layers called per step.

Every value is checked against a `tf.GradientTape` over the same forward pass
written out in the test (Keras's LSTM equations by hand, with the test's own
zero probes on h_t, c_t and the outputs, and a copy of each weight per step
for its per-step terms), not against the capture's own machinery.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from tb_rnngrad.capture import CaptureError, capture, get_capture  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCH, STEPS, FEATURES, UNITS = 3, 5, 2, 4
ALL = (
    "gradients",
    "activations",
    "state_gradients",
    "weight_contributions",
    "weights",
    "weight_gradients",
)
NAMES = ("kernel", "recurrent_kernel", "bias")


class CellLoop(keras.Model):
    """A cell stepped in a Python loop, a head on every output."""

    def __init__(self, cell: keras.layers.Layer, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        states = self.cell.get_initial_state(batch_size=ops.shape(x)[0])
        outputs = []
        for t in range(x.shape[1]):
            out, states = self.cell(x[:, t], states)
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


class StepDecoder(keras.Model):
    """An encoder's final state, then an LSTM called once per target step with
    `initial_state` and `return_state=True` (the inference-style decoder)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.LSTM(UNITS, return_state=True, name="encoder")
        self.decoder = keras.layers.LSTM(UNITS, return_state=True, name="decoder")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, inputs):
        source, target = inputs
        _, h, c = self.encoder(source)
        outputs = []
        for t in range(target.shape[1]):
            out, h, c = self.decoder(target[:, t : t + 1], initial_state=[h, c])
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


class WarmStart(keras.Model):
    """One LSTM over a warm-up sequence, then continued step by step."""

    def __init__(self, sequences: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.lstm = keras.layers.LSTM(
            UNITS, return_sequences=sequences, return_state=True, name="lstm"
        )
        self.head = keras.layers.Dense(1, name="head")

    def call(self, inputs):
        warm, steps = inputs
        sequence, h, c = self.lstm(warm)
        if not self.lstm.return_sequences:
            sequence = sequence[:, None]
        outputs = [self.head(sequence)]
        for t in range(steps.shape[1]):
            out, h, c = self.lstm(steps[:, t : t + 1], initial_state=[h, c])
            outputs.append(self.head(out if out.ndim == 3 else out[:, None]))
        return ops.concatenate(outputs, axis=1)


class MinimalCell(keras.layers.Layer):
    """A custom cell: h_t = tanh(x_t W + h_{t-1} U), no bias."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(
            (self.units, self.units), name="recurrent_kernel"
        )

    def call(self, inputs, states):
        h = ops.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units))]


def _data(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype("float32") for s in shapes]


def _compiled(model: keras.Model, x) -> keras.Model:
    model(x)
    model.compile(loss="mse")
    return model


class Reference:
    """The test's own probes and per-step weight copies, watched on a tape."""

    def __init__(self, cell: keras.layers.Layer, tape: tf.GradientTape):
        self.cell, self.tape = cell, tape
        self.watched: dict[str, list] = {"h": [], "c": [], "out": [], "w": []}

    def zeros(self, what: str, batch: int) -> tf.Tensor:
        probe = tf.zeros((batch, UNITS))
        self.tape.watch(probe)
        self.watched[what].append(probe)
        return probe

    def weights(self) -> list[tf.Tensor]:
        copies = [tf.identity(getattr(self.cell, n).value) for n in NAMES]
        self.tape.watch(copies)
        self.watched["w"].append(copies)
        return copies

    def lstm(self, x: tf.Tensor, h: tf.Tensor, c: tf.Tensor, out_probe: bool):
        """Keras's LSTM over x (batch, timesteps, features), written out, with
        probes on every h_t and c_t (and on the output, apart from the state).
        Returns (outputs, h, c)."""
        outputs = []
        for t in range(x.shape[1]):
            kernel, recurrent, bias = self.weights()
            z = x[:, t] @ kernel + h @ recurrent + bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            c = c + self.zeros("c", len(x))
            h = tf.sigmoid(o) * tf.tanh(c) + self.zeros("h", len(x))
            outputs.append(h + self.zeros("out", len(x)) if out_probe else h)
        return outputs, h, c

    def gradients(self, loss: tf.Tensor) -> dict:
        """{"h", "c", "out": (batch, timesteps, units), "w": {name: terms}}."""
        found = self.tape.gradient(loss, self.watched)
        out = {k: np.stack(v, axis=1) for k, v in found.items() if k != "w" and v}
        out["w"] = {
            n: np.stack([step[j].numpy() for step in found["w"]])
            for j, n in enumerate(NAMES)
        }
        return out


def _gate_norms(terms: np.ndarray, gates: int = 4) -> np.ndarray:
    """(timesteps, gates) Frobenius norms of each gate's column block."""
    steps = terms.shape[0]
    blocks = terms.reshape(steps, -1, gates, terms.shape[-1] // gates)
    return np.sqrt((blocks**2).sum(axis=(1, 3)))


def _check_weight_kinds(result, terms, cell, key, reference, chains=(None,)):
    """The capture's raw terms are the reference's, its contributions their
    norms per gate, and over every chain they sum to the weight gradient."""
    total = {n: 0.0 for n in NAMES}
    for chain, (lo, hi) in zip(chains, _spans(reference, chains), strict=True):
        entry = key if chain is None else f"{key}/{chain}"
        for name in NAMES:
            expected = reference["w"][name][lo:hi]
            np.testing.assert_allclose(terms[entry][name], expected, atol=1e-6)
            np.testing.assert_allclose(
                result.weight_contributions[entry][name],
                _gate_norms(expected),
                rtol=1e-4,
                atol=1e-7,
            )
            total[name] = total[name] + expected.sum(axis=0)
    for name in NAMES:
        variable = getattr(cell, name)
        np.testing.assert_allclose(
            result.weight_gradients[key][name], total[name], rtol=1e-4, atol=1e-6
        )
        np.testing.assert_array_equal(result.weights[key][name], variable.numpy())


def _spans(reference, chains):
    steps = len(reference["w"]["kernel"]) // len(chains)
    return [(n * steps, (n + 1) * steps) for n in range(len(chains))]


def test_lstm_cell_in_a_loop_every_kind_against_a_tape_of_the_loop():
    keras.utils.set_random_seed(1)
    x, y = _data((BATCH, STEPS, FEATURES), (BATCH, STEPS, 1))
    model = _compiled(CellLoop(keras.layers.LSTMCell(UNITS, name="cell")), x)
    result = capture(model, x, y, kinds=ALL)  # layers=None finds the cell
    terms = get_capture(model, None, ALL).timestep_terms(x, y)

    with tf.GradientTape(persistent=True) as tape:
        ref = Reference(model.cell, tape)
        h = c = tf.zeros((BATCH, UNITS))
        outputs, _, _ = ref.lstm(tf.constant(x), h, c, out_probe=False)
        pred = tf.stack([model.head(o) for o in outputs], axis=1)
        loss = tf.reduce_mean(tf.square(pred - y))
    expected = ref.gradients(loss)

    assert sorted(result.gradients) == ["cell"]
    assert result.layers["cell"].layer_class == "LSTMCell"
    assert result.layers["cell"].call_timesteps == (1,) * STEPS
    np.testing.assert_allclose(result.loss, float(loss), rtol=1e-6)
    np.testing.assert_allclose(result.activations["cell"], np.stack(outputs, 1))
    # A Keras cell returns h as its output and its first state: one tensor,
    # so d(loss)/d(output) is the total d(loss)/d(h_t).
    np.testing.assert_allclose(result.gradients["cell"], expected["h"], atol=1e-7)
    np.testing.assert_allclose(result.state_gradients["cell"], expected["h"], atol=1e-7)
    np.testing.assert_allclose(
        result.state_gradients["cell/cell"], expected["c"], atol=1e-7
    )
    assert result.gates["cell"] == ("i", "f", "c", "o")
    _check_weight_kinds(result, terms, model.cell, "cell", expected)
    assert result.masks["cell"] is None


@pytest.mark.parametrize(
    "make", [keras.layers.GRUCell, keras.layers.SimpleRNNCell, MinimalCell]
)
def test_gru_simple_and_custom_cells_in_a_loop(make):
    keras.utils.set_random_seed(2)
    x, y = _data((BATCH, STEPS, FEATURES), (BATCH, STEPS, 1), seed=2)
    model = _compiled(CellLoop(make(UNITS, name="cell")), x)
    kinds = ("gradients", "state_gradients", "weight_contributions", "weights")
    result = capture(model, x, y, kinds=kinds)
    terms = get_capture(model, None, kinds).timestep_terms(x, y)

    probes = [tf.zeros((BATCH, UNITS)) for _ in range(STEPS)]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(probes)
        states = model.cell.get_initial_state(batch_size=BATCH)
        outputs = []
        for t in range(STEPS):  # the cell's own call, no capture wrappers
            _, (h,) = model.cell.call(tf.constant(x[:, t]), states)
            h = h + probes[t]
            outputs.append(model.head(h))
            states = [h]
        loss = tf.reduce_mean(tf.square(tf.stack(outputs, 1) - y))
    expected = np.stack(tape.gradient(loss, probes), axis=1)
    np.testing.assert_allclose(result.state_gradients["cell"], expected, atol=1e-7)
    np.testing.assert_allclose(result.gradients["cell"], expected, atol=1e-7)
    gradient = tape.gradient(loss, model.cell.kernel.value)
    np.testing.assert_allclose(terms["cell"]["kernel"].sum(0), gradient, atol=1e-6)
    assert result.weight_contributions["cell"]["kernel"].shape[0] == STEPS


def test_layer_called_once_per_step_with_initial_state_is_one_recurrence():
    keras.utils.set_random_seed(3)
    source, target, y = _data(
        (BATCH, STEPS, FEATURES), (BATCH, 3, FEATURES), (BATCH, 3, 1), seed=3
    )
    model = _compiled(StepDecoder(), [source, target])
    result = capture(model, [source, target], y, kinds=ALL)
    terms = get_capture(model, None, ALL).timestep_terms([source, target], y)

    with tf.GradientTape(persistent=True) as tape:
        ref = Reference(model.decoder.cell, tape)
        _, h, c = model.encoder(tf.constant(source))
        outputs, _, _ = ref.lstm(tf.constant(target), h, c, out_probe=True)
        pred = tf.stack([model.head(o[:, None])[:, 0] for o in outputs], axis=1)
        loss = tf.reduce_mean(tf.square(pred - y))
    expected = ref.gradients(loss)

    assert sorted(result.gradients) == ["decoder", "encoder"]
    assert result.layers["decoder"].call_timesteps == (1, 1, 1)
    assert result.layers["encoder"].call_timesteps == ()  # one ordinary call
    assert result.gradients["encoder"].shape == (BATCH, UNITS)
    # The outputs' own paths (the head), and the totals through the states.
    np.testing.assert_allclose(result.gradients["decoder"], expected["out"], atol=1e-7)
    np.testing.assert_allclose(
        result.state_gradients["decoder"], expected["h"], atol=1e-7
    )
    np.testing.assert_allclose(
        result.state_gradients["decoder/cell"], expected["c"], atol=1e-7
    )
    np.testing.assert_allclose(
        result.activations["decoder"], np.stack(outputs, 1), atol=1e-6
    )
    _check_weight_kinds(result, terms, model.decoder.cell, "decoder", expected)


def test_sequence_continued_step_by_step_is_stacked_and_noted():
    keras.utils.set_random_seed(4)
    warm, steps, y = _data(
        (BATCH, 4, FEATURES), (BATCH, 2, FEATURES), (BATCH, 6, 1), seed=4
    )
    model = _compiled(WarmStart(), [warm, steps])
    kinds = ("gradients", "activations", "state_gradients")
    result = capture(model, [warm, steps], y, kinds=kinds)

    with tf.GradientTape(persistent=True) as tape:
        ref = Reference(model.lstm.cell, tape)
        h = c = tf.zeros((BATCH, UNITS))
        sequence = tf.constant(np.concatenate([warm, steps], axis=1))
        outputs, _, _ = ref.lstm(sequence, h, c, out_probe=True)
        pred = tf.stack([model.head(o) for o in outputs], axis=1)
        loss = tf.reduce_mean(tf.square(pred - y))
    expected = ref.gradients(loss)

    assert result.layers["lstm"].call_timesteps == (4, 1, 1)
    assert any("stacks 3 calls of 'lstm'" in note for note in result.notes)
    for kind, key, want in (
        ("gradients", "lstm", expected["out"]),
        ("state_gradients", "lstm", expected["h"]),
        ("state_gradients", "lstm/cell", expected["c"]),
    ):
        np.testing.assert_allclose(getattr(result, kind)[key], want, atol=1e-7)
    np.testing.assert_allclose(
        result.activations["lstm"], np.stack(outputs, 1), atol=1e-6
    )


def _siamese() -> keras.Model:
    shared = keras.layers.LSTM(UNITS, name="shared")
    first = keras.Input((STEPS, FEATURES), name="first")
    second = keras.Input((STEPS, FEATURES), name="second")
    merged = keras.layers.Concatenate()([shared(first), shared(second)])
    return keras.Model([first, second], keras.layers.Dense(1, name="head")(merged))


def test_shared_layer_on_independent_inputs_gives_call_0_and_call_1():
    keras.utils.set_random_seed(5)
    first, second, y = _data(
        (BATCH, STEPS, FEATURES), (BATCH, STEPS, FEATURES), (BATCH, 1), seed=5
    )
    model = _compiled(_siamese(), [first, second])
    result = capture(model, [first, second], y, kinds=ALL)
    terms = get_capture(model, None, ALL).timestep_terms([first, second], y)

    with tf.GradientTape(persistent=True) as tape:
        ref = Reference(model.get_layer("shared").cell, tape)
        ends = []
        for x in (first, second):
            h = c = tf.zeros((BATCH, UNITS))
            outputs, _, _ = ref.lstm(tf.constant(x), h, c, out_probe=False)
            ends.append(outputs[-1])
        out_probes = [ref.zeros("out", BATCH) for _ in ends]
        merged = tf.concat(
            [e + p for e, p in zip(ends, out_probes, strict=True)], axis=1
        )
        loss = tf.reduce_mean(tf.square(model.get_layer("head")(merged) - y))
    expected = ref.gradients(loss)

    assert sorted(result.gradients) == ["shared/call_0", "shared/call_1"]
    for n in range(2):
        key = f"shared/call_{n}"
        assert result.layers[key].call_timesteps == ()
        np.testing.assert_allclose(
            result.gradients[key], expected["out"][:, n], atol=1e-7
        )
        span = slice(n * STEPS, (n + 1) * STEPS)
        for kind, suffix in (("h", ""), ("c", "/cell")):
            np.testing.assert_allclose(
                result.state_gradients[key + suffix],
                expected[kind][:, span],
                atol=1e-7,
            )
    # The weights are the layer's, one entry; each chain has its own terms,
    # and the two chains' terms sum to the weight gradient.
    assert sorted(result.weights) == ["shared"]
    assert result.layers["shared"].layer_class == "LSTM"  # their owner
    cell = model.get_layer("shared").cell
    _check_weight_kinds(
        result, terms, cell, "shared", expected, chains=("call_0", "call_1")
    )


def test_capture_changes_no_weight_and_no_random_state():
    keras.utils.set_random_seed(6)
    x, y = _data((BATCH, STEPS, FEATURES), (BATCH, STEPS, 1), seed=6)
    cell = keras.layers.LSTMCell(UNITS, dropout=0.2, recurrent_dropout=0.2)
    model = _compiled(CellLoop(cell), x)
    before = [v.numpy().copy() for v in model.variables]
    capture(model, x, y, kinds=ALL)
    for variable, value in zip(model.variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


class Shrinking(CellLoop):
    """Drops samples from the batch half-way through the loop."""

    def call(self, x):
        states = self.cell.get_initial_state(batch_size=ops.shape(x)[0])
        for t in range(x.shape[1]):
            if t == 2:
                states = [s[:2] for s in states]
            out, states = self.cell(x[:2, t] if t >= 2 else x[:, t], states)
        kept = ops.concatenate([out, ops.zeros((1, UNITS))], axis=0)
        return self.head(kept)


class UnusedCell(CellLoop):
    """Steps a second cell whose outputs the loss never sees."""

    def __init__(self):
        super().__init__(keras.layers.GRUCell(UNITS, name="used"))
        self.unused = keras.layers.GRUCell(UNITS, name="unused")

    def call(self, x):
        states = self.cell.get_initial_state(batch_size=ops.shape(x)[0])
        other = self.unused.get_initial_state(batch_size=ops.shape(x)[0])
        for t in range(x.shape[1]):
            out, states = self.cell(x[:, t], states)
            _, other = self.unused(x[:, t], other)
        return self.head(out)


class NeverCalled(CellLoop):
    def __init__(self):
        super().__init__(keras.layers.GRUCell(UNITS, name="used"))
        self.spare = keras.layers.LSTMCell(UNITS, name="spare")

    def call(self, x):
        return ops.mean(super().call(x), axis=1)


@pytest.mark.parametrize(
    "model, kinds, match",
    [
        (
            lambda: Shrinking(keras.layers.LSTMCell(UNITS, name="cell")),
            ("gradients",),
            r"'cell' continue one another.*differ: call 0: \(3, 1, 4\).*\(2, 1, 4\)",
        ),
        (
            lambda: Shrinking(keras.layers.LSTMCell(UNITS, name="cell")),
            ("state_gradients",),
            r"'cell' continue one another.*differ",
        ),
        (UnusedCell, ("gradients",), r"Cell 'unused' \(GRUCell\).*none of its out"),
        (UnusedCell, ("state_gradients",), r"Cell 'unused'.*none of its states"),
        pytest.param(
            NeverCalled,
            ("gradients",),
            r"Layer 'spare' \(LSTMCell\) was called 0",
            marks=pytest.mark.filterwarnings("ignore:`build\\(\\)` was called"),
        ),
    ],
    ids=[
        "batch_size",
        "batch_size_states",
        "unused_output",
        "unused_states",
        "never_called",
    ],
)
def test_bad_recurrences_are_capture_errors_naming_the_layer(model, kinds, match):
    keras.utils.set_random_seed(7)
    x, y = _data((BATCH, STEPS, FEATURES), (BATCH, 1), seed=7)
    built = model()
    built(x)
    built.compile(loss="mse")
    with pytest.raises(CaptureError, match=match):
        capture(built, x, y, kinds=kinds)


def _fit(callbacks, dropout=0.0):
    keras.utils.set_random_seed(8)
    x, y = _data((12, STEPS, FEATURES), (12, STEPS, 1), seed=8)
    cell = keras.layers.LSTMCell(UNITS, recurrent_dropout=dropout, name="cell")
    model = _compiled(CellLoop(cell), x[:1])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, callbacks=callbacks, verbose=0)
    return model, x, y


def test_logger_writes_the_cell_loop_entries_read_back_through_tensorboard(
    tmp_path,
):
    from tb_rnngrad.callback import GradientLogger
    from tb_rnngrad.format import metadata
    from testkit.events import Events

    logger = GradientLogger(
        tmp_path,
        data=_data((4, STEPS, FEATURES), (4, STEPS, 1), seed=9),
        every_n_steps=3,
        kinds=ALL,
    )
    model, _, _ = _fit([logger])
    assert logger.logged_steps == [0, 3]
    x, y = _data((4, STEPS, FEATURES), (4, STEPS, 1), seed=9)
    final = capture(model, x, y, kinds=ALL)

    events = Events(str(tmp_path))
    listing = events.provider.list_blob_sequences(
        events.ctx, experiment_id="", plugin_name="rnngrad"
    )["rnngrad"]
    for tag, want in (
        ("gradients/cell", final.gradients["cell"]),
        ("activations/cell", final.activations["cell"]),
        ("state_gradients/cell", final.state_gradients["cell"]),
        ("state_gradients/cell/cell", final.state_gradients["cell/cell"]),
    ):
        (logged,) = events.read(tag)[3]
        np.testing.assert_allclose(logged, want, rtol=1e-6)
        parsed = metadata.parse_plugin_metadata(listing[tag].plugin_content)
        assert (parsed.layer_class, parsed.units) == ("LSTMCell", UNITS)
        assert list(parsed.call_timesteps) == [1] * STEPS
    (logged,) = events.read("weight_contributions/cell")[3]
    contributions = final.weight_contributions["cell"]
    np.testing.assert_allclose(logged, np.stack(list(contributions.values())), 1e-6)
    assert "weight_gradients/cell/kernel" in events.tags()


def test_seeded_training_is_the_same_with_the_logger(tmp_path):
    from tb_rnngrad.callback import GradientLogger

    data = _data((4, STEPS, FEATURES), (4, STEPS, 1), seed=9)
    without, _, _ = _fit([], dropout=0.2)
    logger = GradientLogger(tmp_path, data=data, every_n_steps=1, kinds=ALL)
    with_logger, _, _ = _fit([logger], dropout=0.2)
    assert logger.logged_steps == [0, 1, 2, 3]
    for a, b in zip(without.get_weights(), with_logger.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


class ResetLoop(CellLoop):
    """Scales the state between steps (still one recurrence), and starts a
    fresh one at step `RESET` (a new chain)."""

    RESET = 3

    def call(self, x):
        batch = ops.shape(x)[0]
        states = self.cell.get_initial_state(batch_size=batch)
        outputs = []
        for t in range(x.shape[1]):
            if t == self.RESET:
                states = self.cell.get_initial_state(batch_size=batch)
            out, states = self.cell(x[:, t], [0.5 * s for s in states])
            outputs.append(self.head(out))
        return ops.stack(outputs, axis=1)


def test_state_changed_by_user_code_continues_and_a_fresh_state_starts_a_chain():
    keras.utils.set_random_seed(10)
    x, y = _data((BATCH, STEPS, FEATURES), (BATCH, STEPS, 1), seed=10)
    model = _compiled(ResetLoop(keras.layers.GRUCell(UNITS, name="cell")), x)
    result = capture(model, x, y, kinds=("gradients", "state_gradients"))

    probes = [tf.zeros((BATCH, UNITS)) for _ in range(STEPS)]
    with tf.GradientTape() as tape:
        tape.watch(probes)
        outputs = []
        for t in range(STEPS):
            if t in (0, ResetLoop.RESET):
                states = model.cell.get_initial_state(batch_size=BATCH)
            _, (h,) = model.cell.call(tf.constant(x[:, t]), [0.5 * states[0]])
            h = h + probes[t]
            outputs.append(model.head(h))
            states = [h]
        loss = tf.reduce_mean(tf.square(tf.stack(outputs, 1) - y))
    expected = np.stack(tape.gradient(loss, probes), axis=1)

    reset = ResetLoop.RESET
    assert sorted(result.state_gradients) == ["cell/call_0", "cell/call_1"]
    assert result.layers["cell/call_0"].call_timesteps == (1,) * reset
    assert result.layers["cell/call_1"].call_timesteps == (1,) * (STEPS - reset)
    for key, span in (
        ("cell/call_0", slice(reset)),
        ("cell/call_1", slice(reset, None)),
    ):
        np.testing.assert_allclose(
            result.state_gradients[key], expected[:, span], atol=1e-7
        )
        np.testing.assert_allclose(result.gradients[key], expected[:, span], atol=1e-7)


def test_a_last_output_over_several_steps_fills_its_other_columns_with_zeros():
    keras.utils.set_random_seed(11)
    warm, steps, y = _data(
        (BATCH, 4, FEATURES), (BATCH, 2, FEATURES), (BATCH, 3, 1), seed=11
    )
    model = _compiled(WarmStart(sequences=False), [warm, steps])
    kinds = ("gradients", "activations", "state_gradients")
    result = capture(model, [warm, steps], y, kinds=kinds)
    assert result.layers["lstm"].call_timesteps == (4, 1, 1)
    for kind in ("gradients", "activations"):
        values = getattr(result, kind)["lstm"]
        assert values.shape == (BATCH, 6, UNITS)
        np.testing.assert_array_equal(values[:, :3], 0.0)
        assert np.abs(values[:, 3:]).min() > 0
    # The states inside the first call have their gradients at every step.
    assert result.state_gradients["lstm"].shape == (BATCH, 6, UNITS)
    assert np.abs(result.state_gradients["lstm"][:, :3]).min() > 0


def test_tf_keras_subclassed_model_stepping_a_cell():
    # tf_keras in its own interpreter, so that this session's Keras stays alone.
    script = Path(__file__).parent / "backends" / "tf_keras_cell_loop.py"
    env = {
        **os.environ,
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
