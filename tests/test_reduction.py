"""The reduction of a stored full tensor (`format.reduction`) and the plan that
fits a byte budget (`format.budget`): values, order, and the TF op equal to
its NumPy twin byte for byte."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tb_rnngrad import summary
from tb_rnngrad.format import budget, metadata, reduction, reduction_note, stats
from tb_rnngrad.format.reduction import Reduction


def _data(shape=(6, 23, 10), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scale = np.logspace(-9, 1, shape[1])[:, None]
    data = (rng.standard_normal(shape) * scale).astype(np.float32)
    data[0, 1, 2] = np.nan
    data[1, 2, 0] = np.inf
    data[2, 3, 1] = -np.inf
    data[3, 0, 0] = -0.0
    data[:, 5:8, :] = -0.0
    return data


def test_pooling_keeps_nan_inf_and_spikes_with_their_sign():
    data = np.zeros((2, 10, 3), np.float32)
    data[0, 5, 1] = np.nan  # group 1 (timesteps 4..7)
    data[0, 6, 1] = np.inf  # same group: NaN wins
    data[1, 9, 2] = -np.inf  # last, short group (8..9)
    data[1, 2, 0] = -7.0  # a negative spike beside small positives
    data[1, 0:2, 0] = 1.0
    data[0, 4, 0] = 2.0  # a tie of magnitudes: + wins
    data[0, 7, 0] = -2.0
    pooled = reduction.pool_timesteps(data, 4)
    assert pooled.shape == (2, 3, 3)
    assert np.isnan(pooled[0, 1, 1])
    assert np.count_nonzero(np.isnan(pooled)) == 1
    assert pooled[1, 2, 2] == -np.inf
    assert pooled[1, 0, 0] == -7.0
    assert pooled[0, 1, 0] == 2.0
    assert not np.signbit(pooled[pooled == 0]).any()  # zeros stored as +0


def test_every_nan_position_survives_pooling_in_its_group():
    data = _data((5, 40, 4), seed=3)
    rng = np.random.default_rng(4)
    spots = {
        (int(s), int(t), int(c)) for s, t, c in rng.integers(0, (5, 40, 4), (9, 3))
    }
    for spot in spots:
        data[spot] = np.nan
    pooled = reduction.pool_timesteps(data, 6)
    expected = {(s, t // 6, c) for s, t, c in np.argwhere(np.isnan(data))}
    assert {tuple(map(int, p)) for p in np.argwhere(np.isnan(pooled))} == expected


def test_channels_of_largest_norm_nonfinite_first_original_order():
    data = np.ones((2, 3, 6), np.float32)
    data[:, :, 4] = 5.0
    data[:, :, 1] = 3.0
    data[0, 0, 5] = np.nan  # ranks first
    assert reduction.channel_order(data, 3).tolist() == [1, 4, 5]
    # Ties go to the lower index.
    assert reduction.channel_order(np.ones((1, 2, 4)), 2).tolist() == [0, 1]


def test_float16_keeps_small_gradients_to_float16_precision():
    data = _data((4, 12, 5), seed=1)
    finite = np.isfinite(data)
    stored, exponent = reduction.to_float16(data)
    back = reduction.restore(stored, exponent)
    assert back.dtype == np.float32
    big = finite & (np.abs(data) > np.abs(data[finite]).max() * 2.0**-20)
    np.testing.assert_allclose(back[big], data[big], rtol=2.0**-11)
    assert np.array_equal(np.isnan(back), np.isnan(data))
    assert np.array_equal(np.isposinf(back), np.isposinf(data))
    assert np.array_equal(np.isneginf(back), np.isneginf(data))
    # Unscaled float16 would flush these to zero.
    tiny = data[finite & (np.abs(data) < 1e-8) & (data != 0)]
    assert tiny.size and (np.float16(tiny) == 0).any()


def test_apply_order_samples_pool_channels_float16():
    data = _data()
    mask = np.ones(data.shape[:2], bool)
    mask[0, :5] = False
    chosen = Reduction(samples=4, pool=4, channels=5, float16=True)
    reduced = reduction.apply(data, mask, chosen)
    kept = reduction.channel_order(data, 5)  # ranked on every captured sample
    expected = reduction.pool_timesteps(data[:4], 4)[:, :, kept]
    exponent = int(reduced.index[0])
    assert reduced.index[1:].tolist() == kept.tolist()
    assert reduced.data.shape == (4, 6, 5) and reduced.data.dtype == np.float16
    assert reduced.mask.tolist() == reduction.pool_mask(mask[:4], 4).tolist()
    assert reduced.mask[0].tolist() == [False, True, True, True, True, True]
    back = reduction.restore(reduced.data, exponent)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(expected))
    np.testing.assert_array_equal(
        back[np.isinf(expected)], expected[np.isinf(expected)]
    )


def test_statistics_come_from_the_capture_not_the_stored_tensor():
    from tensorboard.util import tensor_util

    data, mask = _data(), np.ones((6, 23), bool)
    mask[1, 20:] = False
    chosen = Reduction(samples=2, pool=5, channels=3, float16=True)
    full = summary.write_pb("gradients", "t", data, mask=mask)
    small = summary.write_pb("gradients", "t", data, mask=mask, reduction=chosen)
    values = {v.tag: v for v in small.value}
    for value in full.value:
        if value.tag == "t":
            continue
        assert tensor_util.make_ndarray(values[value.tag].tensor).tobytes() == (
            tensor_util.make_ndarray(value.tensor).tobytes()
        ), value.tag
    np.testing.assert_array_equal(
        tensor_util.make_ndarray(values["t/profile"].tensor), stats.profile(data)
    )
    parsed = metadata.parse_plugin_metadata(values["t"].metadata.plugin_data.content)
    assert parsed.version == metadata.REDUCED_VERSION
    assert list(parsed.captured_shape) == [6, 23, 3 + 7]
    assert list(parsed.shape) == [2, 5, 3] and parsed.dtype == "float16"
    assert parsed.captured_dtype == "float32" and parsed.timestep_pool == 5
    profile_meta = values["t/profile"].metadata.plugin_data.content
    assert metadata.parse_plugin_metadata(profile_meta).version == 1


def test_a_series_stored_as_captured_is_written_as_before():
    data = _data()
    plain = summary.write_pb("gradients", "t", data)
    same = summary.write_pb("gradients", "t", data, reduction=Reduction())
    assert plain.SerializeToString() == same.SerializeToString()
    parsed = metadata.parse_plugin_metadata(plain.value[0].metadata.plugin_data.content)
    assert parsed.version == 1 and not parsed.captured_shape


def test_note_says_what_is_stored():
    assert reduction_note.note(
        (16, 600, 1024), (4, 150, 512), 4, "float32", "float16"
    ) == (
        "4 of 16 samples, 512 of 1,024 channels with the largest norm, "
        "timesteps pooled 4:1 by largest |g|, float16"
    )
    assert reduction_note.note((), (4, 5, 6), 0, "float32", "float32") == ""
    assert reduction_note.note((8, 32), (8, 32), 0, "float32", "float16", True) == (
        "float16"
    )


def test_bad_reductions_are_clear_errors():
    with pytest.raises(ValueError, match="pool must be an int >= 1"):
        Reduction(pool=0)
    with pytest.raises(ValueError, match="samples must be a positive int"):
        Reduction(samples=0)
    with pytest.raises(ValueError, match="float16=True"):
        summary.weights_pb(
            "w", np.ones((2, 8)), weight="kernel", gates="ifco",
            reduction=Reduction(channels=2),
        )  # fmt: skip
    with pytest.raises(ValueError, match="stored as is"):
        summary.weight_contributions_pb(
            "c", np.ones((1, 4, 2)), weights=("kernel",), gates="zr",
            reduction=Reduction(pool=2),
        )  # fmt: skip
    with pytest.raises(TypeError, match="Reduction or None"):
        summary.gradients_pb("g", np.ones((2, 3, 4)), reduction={"pool": 2})


def _items(timesteps=1000, units=1024, batch=16, layers=2):
    seq = (batch, timesteps, units)
    items = []
    for layer in range(layers):
        for kind in ("gradients", "state_gradients", "state_gradients/cell"):
            items.append(budget.Item(f"{kind}/l{layer}", seq, 4))
    return items


def test_plan_goes_stage_by_stage_and_meets_the_budget():
    items = _items()
    for max_bytes in (200 * 2**20, 40 * 2**20, 8 * 2**20, 3 * 2**20):
        plan = budget.plan(items, max_bytes)
        assert plan.fits and plan.total <= max_bytes
        first = plan.reductions[0]
        assert all(r == first for r in plan.reductions)
        if first.float16:  # samples went to their floor first
            assert first.samples == budget.SAMPLE_FLOOR
        if first.pool > 1:
            assert first.float16
        if first.channels is not None:
            assert first.pool == 1000 // budget.TIMESTEP_FLOOR
    assert budget.plan(items, None).reductions[0] == Reduction()
    assert budget.plan(items, 10**12).reductions[0] == Reduction()


def test_plan_at_the_floor_says_it_does_not_fit():
    items = [
        *_items(layers=1),
        budget.Item("weights/l0/kernel", (1024, 4096), 4, role="matrix", gates=4),
    ]
    plan = budget.plan(items, 2**20)
    assert not plan.fits
    assert plan.reductions[-1] == Reduction(float16=True)
    assert plan.reductions[0] == Reduction(
        samples=budget.SAMPLE_FLOOR, pool=5, channels=budget.CHANNEL_FLOOR, float16=True
    )


REDUCTIONS = [
    Reduction(samples=4, pool=4, channels=5, float16=True),
    Reduction(pool=3),
    Reduction(channels=3),
    Reduction(float16=True),
    Reduction(samples=2),
]


@pytest.mark.parametrize("chosen", REDUCTIONS, ids=str)
@pytest.mark.parametrize("masked", [False, True])
def test_tf_op_and_pb_twin_reduce_identically(tmp_path, chosen, masked):
    import tensorflow as tf
    from tensorboard.backend.event_processing import event_file_loader

    data = _data()
    mask = None
    if masked:
        mask = np.ones(data.shape[:2], bool)
        mask[0, :3] = False
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        summary.write("gradients", "t", data, 5, mask=mask, reduction=chosen)
    (path,) = os.listdir(tmp_path)
    loader = event_file_loader.LegacyEventFileLoader(str(tmp_path / path))
    written = {v.tag: v for e in loader.Load() for v in e.summary.value}
    expected = summary.write_pb("gradients", "t", data, mask=mask, reduction=chosen)
    for value in expected.value:
        if value.metadata.plugin_data.plugin_name == "scalars":
            continue  # encoded differently by tf.summary (see test_summary_roundtrip)
        assert written[value.tag].SerializeToString() == value.SerializeToString()


def test_tf_op_and_pb_twin_store_a_float16_matrix_identically(tmp_path):
    import tensorflow as tf
    from tensorboard.backend.event_processing import event_file_loader

    kernel = np.random.default_rng(2).standard_normal((5, 8)).astype(np.float32)
    kernel *= 1e-7
    kernel[1, 3] = np.nan
    chosen = Reduction(float16=True)
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        summary.weights("k", kernel, 5, weight="kernel", gates="ifco", reduction=chosen)
    (path,) = os.listdir(tmp_path)
    loader = event_file_loader.LegacyEventFileLoader(str(tmp_path / path))
    written = {v.tag: v for e in loader.Load() for v in e.summary.value}
    expected = summary.weights_pb(
        "k", kernel, weight="kernel", gates="ifco", reduction=chosen
    ).value[0]
    assert written["k"].SerializeToString() == expected.SerializeToString()
