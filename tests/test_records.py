"""What a capture result is logged as: tags, kinds, layers, masks, skips."""

import numpy as np

from tb_rnngrad import records
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.result import CaptureResult

LSTM = LayerInfo(name="enc", layer_class="LSTM", units=2)
MASK = np.array([[True, True, False]] * 2)


def _result(**fields) -> CaptureResult:
    base = dict(
        loss=0.5,
        gradients={"enc": np.zeros((2, 2))},
        activations={},
        masks={"enc": MASK},
        input_gradients={},
        input_masks={},
        input_sources={},
        layers={"enc": LSTM},
    )
    return CaptureResult(**{**base, **fields})


def test_state_weight_and_unused_output_records():
    state = np.ones((2, 3, 2), np.float32)
    terms = {"kernel": np.full((3, 4), 2.0), "bias": np.full((3, 4), 3.0)}
    result = _result(
        state_gradients={"enc": state, "enc/cell": 2 * state},
        weight_contributions={"enc": terms},
        gates={"enc": ("i", "f", "c", "o")},
        unused_outputs=("enc",),
    )
    kinds = ("gradients", "state_gradients", "weight_contributions")
    found = {r.tag: r for r in records.records(result, kinds)}
    assert list(found) == [
        "gradients/enc",
        "state_gradients/enc",
        "state_gradients/enc/cell",
        "weight_contributions/enc",
    ]
    assert found["gradients/enc"].description.endswith(records.UNUSED_OUTPUT_NOTE)
    assert found["gradients/enc"].mask is None  # no time axis to mask
    cell = found["state_gradients/enc/cell"]
    assert (cell.kind, cell.layer) == ("cell_state_gradients", LSTM)
    np.testing.assert_array_equal(cell.mask, MASK)
    np.testing.assert_array_equal(cell.data, 2 * state)
    weights = found["weight_contributions/enc"]
    assert (weights.weights, weights.gates) == (
        ("kernel", "bias"),
        ("i", "f", "c", "o"),
    )
    np.testing.assert_array_equal(
        weights.data, np.stack([terms["kernel"], terms["bias"]])
    )
    assert weights.mask is None and "batch of 2 samples" in weights.description


def test_bidirectional_state_entries_name_their_direction():
    bi = LayerInfo(name="bi", layer_class="GRU", units=2, bidirectional=True)
    state = np.ones((2, 3, 2), np.float32)
    result = _result(
        layers={"bi": bi},
        masks={"bi": None},
        state_gradients={"bi/forward": state, "bi/backward": state},
    )
    found = {r.tag: r for r in records.records(result, ("state_gradients",))}
    assert found["state_gradients/bi/forward"].layer.direction == "forward"
    assert found["state_gradients/bi/backward"].layer.direction == "backward"


def test_shape_filter_passes_rank_2_and_3_and_warns_once_per_skipped_tag():
    warnings = []
    shapes = records.ShapeFilter(warnings.append)

    def record(tag, shape):
        return records.Record("gradients", tag, np.zeros(shape), None, None, "")

    assert shapes.loggable(record("a", (2, 3)))
    assert shapes.loggable(record("b", (2, 3, 4)))
    assert not shapes.loggable(record("c", (2, 3, 4, 5)))
    assert not shapes.loggable(record("c", (2, 3, 4, 5)))
    assert not shapes.loggable(record("d", (2,)))
    assert warnings == [
        "'c' has shape (2, 3, 4, 5); only (batch, timesteps, channels) and "
        "(batch, channels) tensors are logged, so it is skipped",
        "'d' has shape (2,); only (batch, timesteps, channels) and "
        "(batch, channels) tensors are logged, so it is skipped",
    ]


def test_data_without_a_time_axis_is_described_as_such():
    """A layer returning its last output: no "read right to left", and a
    pointer to its state gradients (where backpropagation through time is)."""
    state = np.ones((2, 3, 2), np.float32)
    with_state = _result(state_gradients={"enc": state})
    kinds = ("gradients", "state_gradients")
    found = {r.tag: r for r in records.records(with_state, kinds)}
    text = found["gradients/enc"].description
    assert "right to left" not in text
    assert "This layer's output has no time axis" in text
    assert text.endswith(
        "See the state gradients (`state_gradients/enc`) for backpropagation "
        "through time inside the layer."
    )
    assert "right to left" in found["state_gradients/enc"].description
    (alone,) = records.records(_result(), ("gradients",))
    assert "right to left" not in alone.description
    assert 'kinds=(..., "state_gradients")' in alone.description
