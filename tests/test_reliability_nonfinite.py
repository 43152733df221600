"""Exploding gradients: NaN and Inf from logging to routes, views and the CLI.

NaN values with distinct payloads (quiet, signalling, negative, custom bits),
+Inf and -Inf are logged by the TF op and by the NumPy twin, and by a
GradientLogger on a model driven to overflow. They must be stored as they were
(bit for bit), counted in the profile's NaN/Inf rows, returned by the
`profile` route with `null` norms and exact counts, and drawn in the NaN/Inf
colours of `tb_rnngrad.viz` (pixels checked) and of `tb-rnngrad export`.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import tensorflow as tf
from matplotlib import image
from reliability import hostile_logs
from reliability import train_and_record as training
from reliability.tb_http import strict_json
from test_plugin_handlers import make_app
from test_viz import assert_color, pixel, render
from werkzeug.test import Client

import tb_rnngrad
from tb_rnngrad import cli, summary, viz
from tb_rnngrad.format import npy_format, stats
from tb_rnngrad.summary import pb as summary_pb
from tb_rnngrad.viz import colors
from testkit.providers import PROVIDER_KINDS, start_provider, wait_for

ROOT = "/data/plugin/rnngrad"
#: float32 bit patterns: quiet NaN, NaN with a payload, negative NaN,
#: signalling NaN, +Inf, -Inf, the largest finite value.
F32_BITS = [0x7FC00000, 0x7FC12345, 0xFFC00001, 0x7F800001, 0x7F800000, 0xFF800000]
F16_BITS = [0x7E00, 0x7E2A, 0xFE01, 0x7C01, 0x7C00, 0xFC00]
F64_BITS = [
    0x7FF8000000000000,
    0x7FF8000000012345,
    0xFFF8000000000001,
    0x7FF0000000000001,
    0x7FF0000000000000,
    0xFFF0000000000000,
]
UINT = {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}
BITS = {np.float16: F16_BITS, np.float32: F32_BITS, np.float64: F64_BITS}


def exploded(dtype) -> np.ndarray:
    """(3, 8, 4) gradients; timesteps 0-2 hold NaN/Inf of every kind.

    Timestep 0: four NaNs (all payloads); timestep 1: +Inf and -Inf;
    timestep 2: a NaN and an Inf; the rest finite, growing towards the end.
    """
    data = (np.random.default_rng(0).standard_normal((3, 8, 4)) * 1e-3).astype(dtype)
    data *= np.logspace(-3, 0, 8)[:, None].astype(dtype)
    bits = data.view(UINT[dtype])
    nan, nan_payload, nan_negative, nan_signalling, inf, ninf = BITS[dtype]
    bits[0, 0, 0], bits[1, 0, 1], bits[2, 0, 2], bits[0, 0, 3] = (
        nan,
        nan_payload,
        nan_negative,
        nan_signalling,
    )
    bits[1, 1, 0], bits[2, 1, 3] = inf, ninf
    bits[0, 2, 1], bits[1, 2, 2] = nan_payload, ninf
    return data


DTYPES = (np.float32, np.float16, np.float64)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    """Run "tf_op" (the TF summary op) and run "numpy" (`gradients_pb`)."""
    root = tmp_path_factory.mktemp("nonfinite")
    with tf.summary.create_file_writer(str(root / "tf_op")).as_default():
        for step, dtype in enumerate(DTYPES):
            summary.gradients("exploded", exploded(dtype), step)
    records = []
    for step, dtype in enumerate(DTYPES):
        pb = summary_pb.gradients_pb("exploded", exploded(dtype))
        records += [(step, pb.__class__(value=[v])) for v in pb.value]
    hostile_logs.write_run(str(root), "numpy", records)
    return str(root)


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def client(request, logdir) -> Client:
    provider, ingester = start_provider(request.param, logdir)
    app = Client(make_app(provider, logdir))

    def loaded():
        tags = app.get(f"{ROOT}/tags").get_json() or {}
        return all(
            tags.get(run, {}).get("exploded", {}).get("max_step") == 2
            for run in ("tf_op", "numpy")
        )

    assert wait_for(loaded), "logs not loaded"
    yield app
    del ingester


@pytest.mark.parametrize("run", ["tf_op", "numpy"])
def test_values_are_stored_bit_for_bit(client, run):
    for step, dtype in enumerate(DTYPES):
        query = {"run": run, "tag": "exploded", "step": step}
        response = client.get(f"{ROOT}/tensor", query_string=query)
        assert response.status_code == 200
        expected = exploded(dtype)
        assert response.data == npy_format.encode(expected)
        served = np.load(io.BytesIO(response.data))
        assert served.dtype == dtype
        np.testing.assert_array_equal(
            served.view(UINT[dtype]), expected.view(UINT[dtype])
        )


@pytest.mark.parametrize("run", ["tf_op", "numpy"])
def test_profile_route_has_null_norms_and_exact_counts(client, run):
    response = client.get(
        f"{ROOT}/profile", query_string={"run": run, "tag": "exploded"}
    )
    profile = strict_json(response.data)  # no NaN/Infinity literals
    assert profile["steps"] == [0, 1, 2]
    for row, dtype in enumerate(DTYPES):
        data = exploded(dtype)
        assert profile["nan_counts"][row] == [4, 0, 1, 0, 0, 0, 0, 0]
        assert profile["inf_counts"][row] == [0, 2, 1, 0, 0, 0, 0, 0]
        norms = profile["values"][row]
        assert norms[:3] == [None, None, None]
        expected = stats.profile(data)[0]
        np.testing.assert_allclose(norms[3:], expected[3:], rtol=1e-6)
        assert profile["reach"][row] == stats.reach(expected, 0.01) > 0


def test_views_draw_nan_and_inf_colours(client):
    response = client.get(
        f"{ROOT}/tensor", query_string={"run": "tf_op", "tag": "exploded", "step": 0}
    )
    data = np.load(io.BytesIO(response.data))
    figure, axes = viz.heatmap(data, samples=[0, 1, 2])
    pixels = render(figure)
    assert_color(pixel(figure, pixels, axes[0], 0, 0), colors.NAN_COLOR)
    assert_color(pixel(figure, pixels, axes[0], 0, 3), colors.NAN_COLOR)  # sNaN
    assert_color(pixel(figure, pixels, axes[2], 0, 2), colors.NAN_COLOR)  # -NaN
    assert_color(pixel(figure, pixels, axes[1], 1, 0), colors.POSINF_COLOR)
    assert_color(pixel(figure, pixels, axes[2], 1, 3), colors.NEGINF_COLOR)
    assert [ax.get_title() for ax in axes] == [
        "sample 0 [3 NaN]",
        "sample 1 [1 NaN, 1 +Inf, 1 -Inf]",
        "sample 2 [1 NaN, 1 -Inf]",
    ]
    # The flow view of the profile route: a null norm is NaN where the slice
    # held a NaN, else +Inf (its counts say which).
    profile = strict_json(
        client.get(
            f"{ROOT}/profile", query_string={"run": "tf_op", "tag": "exploded"}
        ).data
    )
    norms = np.array(
        [
            [
                value if value is not None else np.nan if nans else np.inf
                for value, nans in zip(row, nan_row, strict=True)
            ]
            for row, nan_row in zip(
                profile["values"], profile["nan_counts"], strict=True
            )
        ]
    )
    figure, axes = viz.flow(norms, np.array(profile["steps"]))
    pixels = render(figure)
    # Inside each step's row: the first and last rows end at the axis limits.
    ylow, yhigh = axes[0].get_ylim()
    for step in profile["steps"]:
        y = min(
            max(step, ylow + 0.25 * (yhigh - ylow) / len(norms)),
            yhigh - 0.25 * (yhigh - ylow) / len(norms),
        )
        assert_color(pixel(figure, pixels, axes[0], 0, y), colors.NAN_COLOR)
        assert_color(pixel(figure, pixels, axes[0], 1, y), colors.POSINF_COLOR)
        assert_color(pixel(figure, pixels, axes[0], 2, y), colors.NAN_COLOR)
    assert axes[0].get_title() == "per-timestep gradient norm [6 NaN, 3 +Inf]"


def test_cli_flow_export_shows_nan_colour(logdir, tmp_path, capsys):
    out = tmp_path / "flow.png"
    argv = ["export", logdir, "--run", "tf_op", "--tag", "exploded", "--view", "flow"]
    assert cli.main([*argv, "-o", str(out)]) == 0
    rgb = (image.imread(out)[..., :3] * 255).round().astype(int)
    magenta = np.all(rgb == (255, 0, 255), axis=-1)
    assert magenta.sum() > 100  # the NaN cells, not zero-coloured


def test_model_driven_to_overflow_logs_what_it_computed(tmp_path):
    """A head kernel of 1e30 makes the loss overflow: d loss / d output is
    +-Inf, the LSTM below gets NaN; the weights turn NaN after one update."""
    model = training.build_model()
    kernel = model.get_layer("head").kernel
    kernel.assign(np.float32([[1e30], [0.5], [-0.5]]))
    x, y = training.data()
    probe = (x[: training.PROBE], y[: training.PROBE])
    refdir = tmp_path / "ref"
    for layer in training.LAYERS:
        (refdir / layer).mkdir(parents=True)
    logger = tb_rnngrad.GradientLogger(tmp_path / "logs", data=probe, every_n_steps=1)
    reference = training.Reference(str(refdir), probe, seconds=1e9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(
            x, y, batch_size=8, epochs=1, callbacks=[logger, reference], verbose=0
        )
    assert not [w for w in caught if "GradientLogger" in str(w.message)]
    assert logger.logged_steps == list(range(9))
    assert all(np.isnan(w).all() for w in model.get_weights())

    from tb_rnngrad.server.logdir import LogdirReader

    source = LogdirReader(str(tmp_path / "logs"), keep_all_tensors=True)
    reader, ctx = source.reader, source.ctx
    nonfinite = 0
    for layer in training.LAYERS:
        tag = f"gradients/{layer}"
        profiles = reader.read_profiles_of(ctx, "", "rnngrad", tag)
        assert profiles.steps == logger.logged_steps
        for step, array in zip(profiles.steps, profiles.arrays, strict=True):
            body = reader.read_tensor(ctx, "", "rnngrad", tag, step)
            saved = (refdir / layer / f"{step}.npy").read_bytes()
            assert body == saved  # NaN payloads included
            data = np.load(io.BytesIO(body))
            data3 = data[:, None] if data.ndim == 2 else data
            np.testing.assert_array_equal(array[1], np.isnan(data3).sum(axis=(0, 2)))
            np.testing.assert_array_equal(array[2], np.isinf(data3).sum(axis=(0, 2)))
            np.testing.assert_array_equal(
                ~np.isfinite(array[0]), (~np.isfinite(data3)).any(axis=(0, 2))
            )
            nonfinite += int((~np.isfinite(data)).sum())
    step0 = np.load(io.BytesIO((refdir / "g2" / "0.npy").read_bytes()))
    assert np.isinf(step0[:, 0]).all() and np.isfinite(step0[:, 1:]).all()
    assert np.isnan(np.load(io.BytesIO((refdir / "l1" / "0.npy").read_bytes()))).all()
    assert nonfinite > 100
    print(
        f"\n[reliability] overflow: {len(logger.logged_steps)} steps logged, "
        f"{nonfinite} NaN/Inf values stored and read back bit for bit"
    )


def test_numpy_twin_logs_nonfinite_data_without_runtime_warnings():
    huge = np.full((2, 3, 2), 1e200)  # squares overflow float64: an Inf norm
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary_pb.gradients_pb("exploded", exploded(np.float32))
        profile = stats.profile(huge)
    assert np.isposinf(profile[0]).all() and not profile[1:].any()
