"""Write with the TF op and the NumPy twin, read back through both providers."""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pytest
import tensorflow as tf

from tb_rnngrad import summary
from tb_rnngrad.format import metadata, stats, weight_layout
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.proto import plugin_data_pb2
from testkit.providers import PROVIDER_KINDS, start_provider, wait_for

LAYER = LayerInfo(
    name="bigru", layer_class="GRU", units=3, bidirectional=True, merge_mode="concat"
)
RETENTION_STEPS = 500


def _gradients(seed: int, shape=(4, 9, 6), dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(shape) * np.logspace(-6, 2, shape[1])[:, None]).astype(
        dtype
    )
    batch, steps, channels = shape
    data[0, 1 % steps, 2 % channels] = np.nan
    data[1 % batch, 2 % steps, 0] = np.inf
    data[2 % batch, 3 % steps, 1 % channels] = -np.inf
    data[3 % batch, 0, 0] = -0.0
    return data


def _mask(shape=(4, 9)) -> np.ndarray:
    mask = np.ones(shape, bool)
    mask[0, :3] = False
    return mask


STEPS = (0, 7, 100)
TF_DATA = {step: _gradients(step) for step in STEPS}
PB_DATA = {step: _gradients(1000 + step) for step in STEPS}
F16 = _gradients(5, (2, 4, 3), np.float16)
F64 = _gradients(6, (2, 4, 3), np.float64)
RANK2 = _gradients(7, (3, 5, 1))[:, :, 0].copy()
# An LSTM kernel (input 3, 4 gates x 2 units) with a zero, a NaN and an Inf.
KERNEL = _gradients(8, (3, 8, 1))[:, :, 0].copy()
KERNEL[0, 0], KERNEL[1, 3], KERNEL[2, 7] = 0.0, np.nan, np.inf


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("logs")
    writer = tf.summary.create_file_writer(str(root / "tf_run"))
    with writer.as_default():
        for step in STEPS:
            summary.gradients(
                "bigru", TF_DATA[step], step, layer=LAYER, description="d", mask=_mask()
            )
        with tf.name_scope("scope"):
            summary.activations("act", F16, step=1)
            summary.input_gradients("inp", F64, step=1)
            summary.gradients("last", RANK2, step=1)
        for step in range(RETENTION_STEPS):
            summary.gradients("many", np.full((1, 3, 2), step, np.float32), step)
    writer.close()
    return str(root)


@pytest.fixture(scope="module")
def pb_logdir(tmp_path_factory) -> str:
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer import event_file_writer

    root = tmp_path_factory.mktemp("pblogs")
    writer = event_file_writer.EventFileWriter(str(root / "pb_run"))
    for step in STEPS:
        pb = summary.gradients_pb(
            "bigru", PB_DATA[step], layer=LAYER, description="d", mask=_mask()
        )
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + step, summary=pb))
    writer.close()
    return str(root)


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def provider(request, logdir):
    provider, _ = start_provider(request.param, logdir)
    _wait_loaded(provider, "tf_run", "many", RETENTION_STEPS)
    return provider


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def pb_provider(request, pb_logdir):
    provider, _ = start_provider(request.param, pb_logdir)
    _wait_loaded(provider, "pb_run", "bigru", len(STEPS))
    return provider


def _ctx():
    from tensorboard import context

    return context.RequestContext()


def _wait_loaded(provider, run, tag, steps):
    def loaded():
        listing = provider.list_tensors(
            _ctx(), experiment_id="", plugin_name=metadata.PROFILE_PLUGIN_NAME
        )
        series = listing.get(run, {}).get(metadata.profile_tag(tag))
        return series is not None and series.max_step == max(
            STEPS if steps == len(STEPS) else range(steps)
        )

    assert wait_for(loaded), "data provider did not load the logs in time"


def _blobs(provider, run, tag):
    """{step: (wall_time, [blob bytes...])} for every retained step."""
    from tensorboard.data import provider as dp

    result = provider.read_blob_sequences(
        _ctx(),
        experiment_id="",
        plugin_name=metadata.PLUGIN_NAME,
        downsample=10_000,
        run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
    )
    return {
        datum.step: (
            datum.wall_time,
            [provider.read_blob(_ctx(), blob_key=ref.blob_key) for ref in datum.values],
        )
        for datum in result[run][tag]
    }


def _tensors(provider, run, tag, plugin_name):
    from tensorboard.data import provider as dp

    result = provider.read_tensors(
        _ctx(),
        experiment_id="",
        plugin_name=plugin_name,
        downsample=10_000,
        run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
    )
    return {datum.step: datum for datum in result[run][tag]}


def _scalars(provider, run, tag):
    from tensorboard.data import provider as dp

    result = provider.read_scalars(
        _ctx(),
        experiment_id="",
        plugin_name="scalars",
        downsample=10_000,
        run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
    )
    return {datum.step: datum.value for datum in result[run][tag]}


def _load(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def _assert_bit_identical(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    assert actual.tobytes() == expected.tobytes()


def test_tf_op_tensor_is_bit_identical(provider):
    blobs = _blobs(provider, "tf_run", "bigru")
    assert sorted(blobs) == list(STEPS)
    for step, (_, (tensor_blob, mask_blob)) in blobs.items():
        tensor = _load(tensor_blob)
        _assert_bit_identical(tensor, TF_DATA[step])
        assert np.array_equal(np.isnan(tensor), np.isnan(TF_DATA[step]))
        _assert_bit_identical(_load(mask_blob), _mask())


def test_pb_twin_tensor_steps_and_wall_times(pb_provider):
    blobs = _blobs(pb_provider, "pb_run", "bigru")
    assert sorted(blobs) == list(STEPS)
    for step, (wall_time, (tensor_blob, _)) in blobs.items():
        assert wall_time == 1e9 + step
        _assert_bit_identical(_load(tensor_blob), PB_DATA[step])


def test_tf_op_stores_other_dtypes_and_ranks_as_given(provider):
    _assert_bit_identical(_load(_blobs(provider, "tf_run", "scope/act")[1][1][0]), F16)
    _assert_bit_identical(_load(_blobs(provider, "tf_run", "scope/inp")[1][1][0]), F64)
    _assert_bit_identical(
        _load(_blobs(provider, "tf_run", "scope/last")[1][1][0]), RANK2
    )


def test_metadata_parses_back(provider):
    listing = provider.list_blob_sequences(
        _ctx(), experiment_id="", plugin_name=metadata.PLUGIN_NAME
    )
    tags = listing["tf_run"]
    assert set(tags) == {"bigru", "scope/act", "scope/inp", "scope/last", "many"}
    parsed = metadata.parse_plugin_metadata(tags["bigru"].plugin_content)
    assert parsed.kind == plugin_data_pb2.GRADIENTS
    assert parsed.content == plugin_data_pb2.FULL_TENSOR
    assert (parsed.layer_class, parsed.units, parsed.bidirectional) == ("GRU", 3, True)
    assert (parsed.merge_mode, parsed.layer_name) == ("concat", "bigru")
    assert list(parsed.shape) == [4, 9, 6]
    assert parsed.dtype == "float32"
    assert parsed.has_mask
    assert parsed.version == 1  # gradients need no newer reader
    assert parsed.reach_threshold == pytest.approx(metadata.DEFAULT_REACH_THRESHOLD)
    assert tags["bigru"].description == "d"
    assert tags["bigru"].max_step == 100
    kinds = {
        tag: metadata.kind_name(
            metadata.parse_plugin_metadata(series.plugin_content).kind
        )
        for tag, series in tags.items()
    }
    assert kinds["scope/act"] == "activations"
    assert kinds["scope/inp"] == "input_gradients"
    act = metadata.parse_plugin_metadata(tags["scope/act"].plugin_content)
    assert (list(act.shape), act.dtype, act.has_mask) == ([2, 4, 3], "float16", False)


def test_profile_and_reach_match_numpy_definitions(provider):
    profiles = _tensors(provider, "tf_run", "bigru/profile", "rnngrad_profile")
    reach = _scalars(provider, "tf_run", "bigru/reach")
    for step in STEPS:
        expected = stats.profile(TF_DATA[step])
        actual = profiles[step].numpy
        assert actual.dtype == np.float32 and actual.shape == (3, 9)
        np.testing.assert_array_equal(actual, expected)
        assert actual[1].tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0] or step != 0
        assert reach[step] == stats.reach(expected[0], 0.01)


def test_pb_and_tf_outputs_decode_identically(tmp_path, provider_kind):
    data, mask = _gradients(42), _mask()
    tf_dir, pb_dir = str(tmp_path / "tf"), str(tmp_path / "pb")
    with tf.summary.create_file_writer(tf_dir).as_default():
        summary.gradients("g", data, 3, layer=LAYER, description="x", mask=mask)
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer import event_file_writer

    writer = event_file_writer.EventFileWriter(pb_dir)
    pb = summary.gradients_pb("g", data, layer=LAYER, description="x", mask=mask)
    writer.add_event(event_pb2.Event(step=3, wall_time=5.0, summary=pb))
    writer.close()

    provider, _ = start_provider(provider_kind, str(tmp_path))
    assert wait_for(lambda: len(_listing(provider)) == 2)
    listing = _listing(provider)
    assert listing["tf"]["g"].plugin_content == listing["pb"]["g"].plugin_content
    assert _blobs(provider, "tf", "g")[3][1] == _blobs(provider, "pb", "g")[3][1]
    tf_profile = _tensors(provider, "tf", "g/profile", "rnngrad_profile")[3].numpy
    pb_profile = _tensors(provider, "pb", "g/profile", "rnngrad_profile")[3].numpy
    _assert_bit_identical(tf_profile, pb_profile)
    assert _scalars(provider, "tf", "g/reach") == _scalars(provider, "pb", "g/reach")


@pytest.mark.parametrize(
    "kind, scope, data, options",
    [
        ("gradients", "", _gradients(43), dict(layer=LAYER, mask=_mask())),
        ("activations", "scope", F16, dict(description="**md**")),
        ("input_gradients", "", F64, dict(reach_threshold=0.5)),
        ("gradients", "", RANK2, dict(layer={"name": "g", "units": 4})),
        ("state_gradients", "", _gradients(44), dict(layer=LAYER, mask=_mask())),
        ("cell_state_gradients", "scope", F64, dict(description="c")),
        (
            "weight_contributions",
            "",
            np.abs(_gradients(45)[:3, :, :3]),
            dict(weights=("kernel", "recurrent_kernel", "bias"), gates="zrh"),
        ),
        (
            "gate_activations",
            "",
            np.abs(_gradients(46)[:2, :, :3]).clip(0, 1).astype(np.float32),
            dict(weights=("near_0", "near_1"), gates="ifo"),
        ),
        ("weights", "scope", KERNEL, dict(weights=("kernel",), gates="ifco")),
        (
            "weight_gradients",
            "",
            KERNEL[0].astype(np.float64),
            dict(weights=("bias",), gates="ifco", layer=LAYER),
        ),
    ],
)
def test_tf_op_and_pb_twin_write_identical_values(tmp_path, kind, scope, data, options):
    """Every value the TF op writes equals the twin's, byte for byte; the
    scalars (reach, per-gate figures) too, but for their encoding
    (`tensor_content` vs `float_val`, as `tf.summary.scalar` and `scalar_pb`
    differ); the per-gate histograms (TensorBoard's `histogram` and
    `histogram_pb`) in metadata and, to float32 rounding, in values."""
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.util import tensor_util

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with tf.name_scope(scope) if scope else contextlib.nullcontext():
            summary.write(kind, "t", data, 5, **options)
    (path,) = tmp_path.iterdir()
    written = {
        value.tag: value
        for event in event_file_loader.LegacyEventFileLoader(str(path)).Load()
        for value in event.summary.value
    }
    tag = f"{scope}/t" if scope else "t"
    expected = summary.write_pb(kind, tag, data, **options).value
    assert sorted(written) == sorted(value.tag for value in expected)
    if kind in metadata.MATRIX_KINDS:
        gates = len(options["gates"])
        assert len(expected) == 1 + gates * (1 + len(weight_layout.GATE_STATS))
    else:
        masked = options.get("mask") is not None
        assert len(expected) == (3 + masked if data.ndim == 3 else 2)
    for value in expected:
        actual = written[value.tag]
        plugin = value.metadata.plugin_data.plugin_name
        if plugin == "histograms":
            assert actual.metadata.SerializeToString() == (
                value.metadata.SerializeToString()
            )
            np.testing.assert_allclose(
                tensor_util.make_ndarray(actual.tensor),
                tensor_util.make_ndarray(value.tensor),
                rtol=1e-6,
            )
        elif plugin == "scalars":
            assert actual.metadata.SerializeToString() == (
                value.metadata.SerializeToString()
            )
            assert tensor_util.make_ndarray(actual.tensor) == (
                tensor_util.make_ndarray(value.tensor)
            )
        else:
            assert actual.SerializeToString() == value.SerializeToString()


def _listing(provider):
    return provider.list_blob_sequences(
        _ctx(), experiment_id="", plugin_name=metadata.PLUGIN_NAME
    )


def test_every_logged_profile_step_is_retained_by_default(provider):
    profiles = _tensors(provider, "tf_run", "many/profile", "rnngrad_profile")
    assert sorted(profiles) == list(range(RETENTION_STEPS))
    for step, datum in profiles.items():
        assert datum.numpy[0, 0] == pytest.approx(step * np.sqrt(2))
    assert len(_scalars(provider, "tf_run", "many/reach")) == RETENTION_STEPS


def test_full_tensors_keep_the_plugin_default(provider):
    from tb_rnngrad.server.loader import DEFAULT_FULL_TENSORS_KEPT

    steps = sorted(_blobs(provider, "tf_run", "many"))
    assert len(steps) == DEFAULT_FULL_TENSORS_KEPT
    assert steps[-1] == RETENTION_STEPS - 1


@pytest.mark.parametrize("kind", PROVIDER_KINDS)
def test_samples_per_plugin_zero_keeps_every_full_tensor(kind, logdir):
    provider, _ = start_provider(kind, logdir, samples_per_plugin={"rnngrad": 0})
    _wait_loaded(provider, "tf_run", "many", RETENTION_STEPS)
    assert len(_blobs(provider, "tf_run", "many")) == RETENTION_STEPS


def test_one_changed_byte_is_detected(tmp_path):
    """The comparison used above is sensitive to a single flipped bit."""
    data = _gradients(3)
    changed = data.copy()
    changed.reshape(-1).view(np.uint8)[17] ^= 1
    with pytest.raises(AssertionError):
        _assert_bit_identical(changed, data)


def test_op_inside_tf_function(tmp_path):
    data = _gradients(9)

    @tf.function
    def log(x):
        return summary.gradients("in_graph", x, step=4)

    logdir = str(tmp_path / "run")
    with tf.summary.create_file_writer(logdir).as_default():
        assert bool(log(tf.constant(data)))
    provider, _ = start_provider("multiplexer", str(tmp_path))
    _assert_bit_identical(_load(_blobs(provider, "run", "in_graph")[4][1][0]), data)
    assert os.listdir(logdir)


def test_weight_summaries_check_their_input(tmp_path):
    options = dict(weight="kernel", gates="ifco")
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        for write in (
            lambda d, **o: summary.weights("w", d, 1, **o),
            lambda d, **o: summary.weights_pb("w", d, **o),
        ):
            with pytest.raises(ValueError, match="cannot be split"):
                write(KERNEL[:, :7], **options)
            with pytest.raises(ValueError, match="rank|shape"):
                write(_gradients(1), **options)
            with pytest.raises(TypeError, match="dtype int64"):
                write(np.ones((2, 4), np.int64), **options)
        with pytest.raises(ValueError, match="no time axis"):
            summary.write("weights", "w", KERNEL, 1, mask=_mask(), weights=["k"],
                          gates="ifco")  # fmt: skip


def test_a_bias_is_stored_as_one_row():
    value = summary.weights_pb("b", KERNEL[1], weight="bias", gates="ifco").value[0]
    from tensorboard.util import tensor_util

    blob = tensor_util.make_ndarray(value.tensor)[0]
    np.testing.assert_array_equal(_load(blob), KERNEL[1][None])
