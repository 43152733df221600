"""Bad input to the summary ops gets errors naming what was given and expected."""

import numpy as np
import pytest
import tensorflow as tf

from tb_rnngrad import summary
from tb_rnngrad.format import npy_format, stats
from tb_rnngrad.summary import ops as summary_ops


@pytest.mark.parametrize("write", ["tf", "pb"])
@pytest.mark.parametrize(
    "data, error, words",
    [
        (np.zeros((2, 3, 4), np.int32), TypeError, ["int32", "(2, 3, 4)"]),
        (np.zeros((2, 3), np.complex64), TypeError, ["complex64", "(2, 3)"]),
        (np.zeros((5,), np.float32), ValueError, ["(5,)", "rank 1"]),
        (np.zeros((1, 2, 3, 4), np.float32), ValueError, ["(1, 2, 3, 4)", "rank 4"]),
        (np.zeros((2, 0, 4), np.float32), ValueError, ["(2, 0, 4)", "empty"]),
        (np.zeros((0, 4), np.float32), ValueError, ["(0, 4)", "empty"]),
    ],
)
def test_bad_data_raises_clear_error(tmp_path, write, data, error, words):
    with pytest.raises(error) as info:
        if write == "pb":
            summary.gradients_pb("g", data)
        else:
            with tf.summary.create_file_writer(str(tmp_path)).as_default():
                summary.gradients("g", data, step=0)
    message = str(info.value)
    for word in words:
        assert word in message
    assert "(batch, timesteps, channels)" in message


@pytest.mark.parametrize("write", ["tf", "pb"])
def test_a_dict_of_layers_is_refused_with_the_call_to_make(tmp_path, write):
    grads = {"lstm": np.zeros((2, 3, 4), np.float32)}
    with pytest.raises(TypeError, match=r"dict with keys \['lstm'\].*data\['lstm'\]"):
        if write == "pb":
            summary.gradients_pb("g", grads)
        else:
            with tf.summary.create_file_writer(str(tmp_path)).as_default():
                summary.gradients("g", grads, step=0)


def test_missing_step_is_explained(tmp_path):
    # Keras's TensorBoard callback, run by other tests, leaves a global step set.
    previous = tf.summary.experimental.get_step()
    tf.summary.experimental.set_step(None)
    try:
        with tf.summary.create_file_writer(str(tmp_path)).as_default():
            with pytest.raises(ValueError, match="pass step="):
                summary.gradients("g", np.zeros((1, 2, 3), np.float32))
    finally:
        tf.summary.experimental.set_step(previous)


@pytest.mark.parametrize("write", ["tf", "pb"])
@pytest.mark.parametrize(
    "data, mask, error, words",
    [
        (np.zeros((2, 3, 4)), np.ones((2, 4), bool), ValueError, ["(2, 4)", "(2, 3)"]),
        (np.zeros((2, 3, 4)), np.ones((2, 3), np.int32), TypeError, ["int32", "bool"]),
        (np.zeros((2, 4)), np.ones((2, 4), bool), ValueError, ["(2, 4)", "mask=None"]),
    ],
)
def test_bad_mask_raises(tmp_path, write, data, mask, error, words):
    with pytest.raises(error) as info:
        if write == "pb":
            summary.gradients_pb("g", data, mask=mask)
        else:
            with tf.summary.create_file_writer(str(tmp_path)).as_default():
                summary.gradients("g", data, step=0, mask=mask)
    for word in words:
        assert word in str(info.value)


def test_bfloat16_is_stored_as_float32_exactly(tmp_path):
    value = tf.constant([[[1.5, -2.0, np.nan]]], tf.bfloat16)
    blob = summary_ops._npy_string(tf, summary_ops._checked_tensor(tf, value)).numpy()
    assert blob == npy_format.encode(np.array([[[1.5, -2.0, np.nan]]], np.float32))


def test_npy_header_matches_numpy_for_many_shapes():
    import io

    for shape in [(1, 1), (3, 7, 2), (10**6, 1, 1), (12345, 678)]:
        for dtype in ("float16", "float32", "float64", "bool"):
            buffer = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buffer,
                {
                    "descr": npy_format.DESCR[dtype],
                    "fortran_order": False,
                    "shape": shape,
                },
            )
            assert (
                npy_format.header(npy_format.DESCR[dtype], shape) == buffer.getvalue()
            )


def test_profile_and_reach_definitions():
    data = np.zeros((2, 5, 3), np.float32)
    data[:, 4, :] = 1.0  # last timestep: norm sqrt(6)
    data[0, 2, 0] = 0.1 * np.sqrt(6)  # lag 2: 10% of the peak
    data[1, 0, 1] = 0.001 * np.sqrt(6)  # lag 4: 0.1% of the peak
    data[0, 1, 1] = np.nan
    profile = stats.profile(data)
    expected = np.array([0.001, 0.1, 0, 1]) * np.sqrt(6)
    np.testing.assert_allclose(profile[0, [0, 2, 3, 4]], expected, rtol=1e-6)
    assert np.isnan(profile[0, 1])
    assert profile[1].tolist() == [0, 1, 0, 0, 0]
    assert profile[2].tolist() == [0, 0, 0, 0, 0]
    assert stats.reach(profile[0], 0.01) == 2
    assert stats.reach(profile[0], 0.0005) == 4
    assert stats.reach(profile[0], 1.0) == 0
    assert stats.reach(np.zeros(4, np.float32), 0.01) == 0
    assert stats.reach(np.array([np.inf, 1, 0.5], np.float32), 0.6) == 1
