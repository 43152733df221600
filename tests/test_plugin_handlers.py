"""The plugin's routes in-process: a TensorBoard WSGI app over real event files.

Logs are written by the NumPy twin (and one run by the TF op) and read through
both data providers (`conftest.start_provider`); routes are called with a
werkzeug test client, and the `*_impl` methods directly.
"""

from __future__ import annotations

import collections
import gzip
import io
import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from tensorboard import errors
from tensorboard.backend import application
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard.plugins.core import core_plugin
from tensorboard.summary.writer import event_file_writer
from tensorboard.util import tensor_util
from werkzeug.test import Client

from tb_rnngrad.format import metadata, npy_format, stats
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.proto import plugin_data_pb2
from tb_rnngrad.server import payloads, series_info, static
from tb_rnngrad.server.cache import LruCache
from tb_rnngrad.server.loader import DEFAULT_FULL_TENSORS_KEPT, RnnGradLoader
from tb_rnngrad.server.plugin import RnnGradPlugin
from tb_rnngrad.summary import pb as summary_pb
from testkit.providers import (
    PROVIDER_KINDS,
    start_provider,
    tensorboard_flags,
    wait_for,
)

ROOT = "/data/plugin/rnngrad"
LAYER = LayerInfo(
    name="bigru", layer_class="GRU", units=3, bidirectional=True, merge_mode="concat"
)
TRAIN, EVAL = "train", "eval ü"
#: More steps than the default retention of full tensors, all profiles kept.
LOGGED_STEPS = DEFAULT_FULL_TENSORS_KEPT + 10


def gradients(seed: int, shape=(4, 9, 6), dtype=np.float32) -> np.ndarray:
    """Deterministic data with NaN, +Inf, -Inf and -0.0 in it."""
    rng = np.random.default_rng(seed)
    scale = np.logspace(-6, 2, shape[1])[:, None] if len(shape) == 3 else 1.0
    data = (rng.standard_normal(shape) * scale).astype(dtype)
    flat = data.reshape(shape[0], -1)
    flat[0, 1] = np.nan
    flat[1 % shape[0], 2] = np.inf
    flat[-1, 3] = -np.inf
    flat[-1, 0] = -0.0
    return data


def mask(shape=(4, 9)) -> np.ndarray:
    values = np.ones(shape, bool)
    values[0, :3] = False
    return values


def wall_time(step: int) -> float:
    return 1.7e9 + 10.25 * step


#: {(run, tag): {step: logged array}} of every series written by `write_logs`.
LOGGED = {
    (TRAIN, "bigru"): {s: gradients(s) for s in range(LOGGED_STEPS)},
    (TRAIN, "scope/act"): {1: gradients(101, (2, 4, 3), np.float16)},
    (TRAIN, "ragged"): {0: gradients(102, (2, 3, 2)), 1: gradients(103, (2, 5, 2))},
    (EVAL, "bigru"): {0: gradients(201, (3, 5, 2), np.float64), 10: gradients(202)},
    (EVAL, "last"): {3: gradients(203, (3, 5))},
}
MASKED = {(TRAIN, "bigru")}


def _raw_summary(tag: str, content: bytes, blobs: list[bytes]) -> summary_pb2.Summary:
    """A blob-sequence summary of plugin rnngrad with arbitrary metadata."""
    result = summary_pb2.Summary()
    result.value.add(
        tag=tag,
        metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name=metadata.PLUGIN_NAME, content=content
            ),
            data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
        ),
        tensor=tensor_util.make_tensor_proto(blobs, dtype=np.object_),
    )
    return result


def _valid_content(shape=(1, 2)) -> bytes:
    return metadata.create_plugin_data(
        kind="gradients",
        content=plugin_data_pb2.FULL_TENSOR,
        layer=LayerInfo(),
        shape=shape,
        dtype="float32",
        has_mask=False,
        reach_threshold=0.01,
    ).SerializeToString()


FUTURE = plugin_data_pb2.RnnGradPluginData(version=metadata.PROTO_VERSION + 1)


def write_logs(root: str) -> None:
    """Writes the runs `TRAIN` and `EVAL` with the NumPy twin (no TensorFlow).

    Besides `LOGGED`, run `TRAIN` gets the series "future" (newer format
    version), "corrupt" (undecodable metadata) and "badnpy" (valid metadata,
    a blob that is not a `.npy`).
    """
    for run in (TRAIN, EVAL):
        writer = event_file_writer.EventFileWriter(os.path.join(root, run))
        events = []
        for (series_run, tag), by_step in LOGGED.items():
            if series_run != run:
                continue
            for step, data in by_step.items():
                options = {"mask": mask()} if (run, tag) in MASKED else {}
                write = (
                    summary_pb.activations_pb
                    if tag == "scope/act"
                    else summary_pb.gradients_pb
                )
                pb = write(tag, data, layer=LAYER, description=f"*{tag}*", **options)
                events.append((step, pb))
        if run == TRAIN:
            blob = npy_format.encode(np.zeros((1, 2), np.float32))
            events.append(
                (0, _raw_summary("future", FUTURE.SerializeToString(), [blob]))
            )
            events.append((0, _raw_summary("corrupt", b"\xff\xff\xff", [blob])))
            events.append((0, _raw_summary("badnpy", _valid_content(), [b"not npy"])))
        for step, pb in sorted(events, key=lambda e: e[0]):
            writer.add_event(
                event_pb2.Event(step=step, wall_time=wall_time(step), summary=pb)
            )
        writer.close()


#: Data written by the TF op in run "tf_op".
TF_STEPS = {2: gradients(301), 5: gradients(302)}
#: Per-timestep weight contributions (weights, timesteps, gates) in run "tf_op".
CONTRIBUTIONS = np.abs(np.nan_to_num(gradients(303, (3, 9, 4)), posinf=1.0))
WEIGHT_NAMES = ["kernel", "recurrent_kernel", "bias"]


def write_tf_logs(root: str) -> None:
    import tensorflow as tf

    from tb_rnngrad import summary

    with tf.summary.create_file_writer(os.path.join(root, "tf_op")).as_default():
        for step, data in TF_STEPS.items():
            summary.gradients("lstm", data, step, layer=LAYER, mask=mask())
        summary.state_gradients("state/lstm", TF_STEPS[5], 5, layer=LAYER)
        summary.weight_contributions(
            "weights/lstm", CONTRIBUTIONS, 5, weights=WEIGHT_NAMES, gates="ifco"
        )


def expected_blob(run: str, tag: str, step: int) -> bytes:
    return npy_format.encode(LOGGED[(run, tag)][step])


def load_npy(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def strict_json(body: bytes):
    """Parses JSON, refusing NaN/Infinity (not valid JSON)."""

    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(body, parse_constant=refuse)


def assert_norms(served: list, expected: np.ndarray) -> None:
    """Served norms equal the float32 `expected`; non-finite ones are null."""
    finite = np.isfinite(expected)
    assert [v is None for v in served] == (~finite).tolist()
    values = np.float32([0.0 if v is None else v for v in served])
    np.testing.assert_array_equal(values[finite], expected[finite])


def loaded(client: Client, extra_runs=()) -> bool:
    """Whether the app's provider has read every series written."""
    response = client.get(f"{ROOT}/tags")
    if response.status_code != 200:
        return False
    tags = response.get_json()
    train = tags.get(TRAIN, {}).get("bigru", {})
    return (
        train.get("max_step") == LOGGED_STEPS - 1
        and EVAL in tags
        and all(run in tags for run in extra_runs)
    )


def make_app(provider, logdir: str, **flag_overrides):
    flags = tensorboard_flags(logdir, **flag_overrides)
    return application.TensorBoardWSGIApp(
        flags, [core_plugin.CorePluginLoader, RnnGradLoader], provider, None, None
    )


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("handler_logs"))
    write_logs(root)
    write_tf_logs(root)
    return root


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def served(request, logdir):
    """(werkzeug Client, data provider) of a full TensorBoard app."""
    provider, ingester = start_provider(request.param, logdir)
    client = Client(make_app(provider, logdir))
    assert wait_for(lambda: loaded(client, ["tf_op"])), "logs not loaded"
    yield client, provider
    del ingester


@pytest.fixture
def client(served) -> Client:
    return served[0]


@pytest.fixture
def plugin(served) -> RnnGradPlugin:
    """A fresh plugin over the same provider, for `*_impl` calls."""
    return RnnGradPlugin(base_plugin.TBContext(data_provider=served[1]))


def get(client: Client, route: str, **params):
    return client.get(f"{ROOT}/{route}", query_string=params)


def retained_steps(client: Client, run: str, tag: str) -> list[int]:
    response = get(client, "steps", run=run, tag=tag)
    assert response.status_code == 200, response.data
    return [entry["step"] for entry in response.get_json()]


# Plugin listing.


def test_plugins_listing_enables_the_tab(client):
    listing = client.get("/data/plugins_listing").get_json()
    entry = listing["rnngrad"]
    assert entry["enabled"] is True
    assert entry["tab_name"] == "RNN Gradients"
    assert entry["loading_mechanism"] == {
        "type": "IFRAME",
        "module_path": "/data/plugin/rnngrad/index.js",
    }
    assert "rnngrad_profile" not in listing


def test_tab_is_inactive_without_rnngrad_data(tmp_path, write_pb_events):
    from tensorboard.plugins.scalar import summary_v2 as scalar_summary

    write_pb_events(str(tmp_path / "run"), [(0, 1.0, scalar_summary.scalar_pb("x", 1))])
    provider, _ = start_provider("multiplexer", str(tmp_path))
    listing = Client(make_app(provider, str(tmp_path))).get("/data/plugins_listing")
    assert listing.get_json()["rnngrad"]["enabled"] is False


def test_plugin_declares_its_data_and_frontend():
    plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=None))
    assert plugin.is_active() is False
    assert tuple(plugin.data_plugin_names()) == ("rnngrad",)
    assert plugin.frontend_metadata().es_module_path == "/index.js"


# tags


def test_tags_lists_full_tensor_series_with_metadata(client):
    tags = get(client, "tags").get_json()
    assert set(tags) == {TRAIN, EVAL, "tf_op"}
    assert set(tags[TRAIN]) == {
        "bigru",
        "scope/act",
        "ragged",
        "future",
        "corrupt",
        "badnpy",
    }
    assert set(tags[EVAL]) == {"bigru", "last"}
    assert tags[TRAIN]["bigru"] == {
        "kind": "gradients",
        "layer_name": "bigru",
        "layer_class": "GRU",
        "units": 3,
        "bidirectional": True,
        "merge_mode": "concat",
        "direction": "",
        "shape": [4, 9, 6],
        "dtype": "float32",
        "description": "*bigru*",
        "max_step": LOGGED_STEPS - 1,
        "has_mask": True,
        "reach_threshold": 0.01,
        "weights": [],
        "gates": [],
        "call_timesteps": [],
        "reduction": None,
    }
    act = tags[TRAIN]["scope/act"]
    assert (act["kind"], act["dtype"], act["shape"]) == (
        "activations",
        "float16",
        [2, 4, 3],
    )
    assert tags[EVAL]["bigru"]["dtype"] == "float64"
    assert tags[EVAL]["bigru"]["max_step"] == 10
    assert tags[EVAL]["last"]["shape"] == [3, 5]
    assert tags["tf_op"]["lstm"]["has_mask"] is True
    assert tags["tf_op"]["lstm"]["max_step"] == 5


def test_tags_and_tensor_of_the_through_time_kinds(client):
    tags = get(client, "tags").get_json()["tf_op"]
    assert set(tags) == {"lstm", "state/lstm", "weights/lstm"}
    assert tags["state/lstm"]["kind"] == "state_gradients"
    assert (tags["state/lstm"]["weights"], tags["state/lstm"]["gates"]) == ([], [])
    contributions = tags["weights/lstm"]
    assert contributions["kind"] == "weight_contributions"
    assert contributions["shape"] == [3, 9, 4]
    assert contributions["weights"] == WEIGHT_NAMES
    assert contributions["gates"] == ["i", "f", "c", "o"]
    body = get(client, "tensor", run="tf_op", tag="weights/lstm", step=5).data
    np.testing.assert_array_equal(load_npy(body), CONTRIBUTIONS)
    profile = get(client, "profile", run="tf_op", tag="weights/lstm").get_json()
    expected = np.sqrt((CONTRIBUTIONS.astype(np.float64) ** 2).sum(axis=(0, 2)))
    np.testing.assert_allclose(profile["values"][0], expected, rtol=1e-6)


def test_tags_lists_unreadable_series_as_errors(client):
    tags = get(client, "tags").get_json()
    future = tags[TRAIN]["future"]["error"]
    assert future.startswith("unreadable: ")
    assert f"version {metadata.PROTO_VERSION + 1}" in future and "upgrade" in future
    assert tags[TRAIN]["corrupt"]["error"].startswith("unreadable: corrupt")
    assert set(tags[TRAIN]["future"]) == {"error"}


def test_unreadable_series_warn_once_each(plugin, ctx, caplog):
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            result = plugin.tags_impl(ctx, "")
    assert result[TRAIN]["bigru"]["kind"] == "gradients"
    messages = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("tb_rnngrad")
    ]
    assert len([m for m in messages if "'future'" in m]) == 1, messages
    assert len([m for m in messages if "'corrupt'" in m]) == 1, messages
    assert len(messages) == 2, messages


# steps


def test_steps_are_the_retained_full_tensors(client):
    response = get(client, "steps", run=TRAIN, tag="bigru")
    assert response.headers["Content-Type"] == "application/json"
    steps = response.get_json()
    assert len(steps) == DEFAULT_FULL_TENSORS_KEPT
    assert steps[-1]["step"] == LOGGED_STEPS - 1
    assert [s["step"] for s in steps] == sorted({s["step"] for s in steps})
    for entry in steps:
        assert entry["wall_time"] == wall_time(entry["step"])
    assert get(client, "steps", run=EVAL, tag="bigru").get_json() == [
        {"step": 0, "wall_time": wall_time(0)},
        {"step": 10, "wall_time": wall_time(10)},
    ]


def test_steps_impl(plugin, ctx):
    assert plugin.steps_impl(ctx, "", EVAL, "last") == [
        {"step": 3, "wall_time": wall_time(3)}
    ]


# tensor and mask


def test_tensor_is_the_logged_npy_byte_for_byte(client):
    for step in retained_steps(client, TRAIN, "bigru"):
        response = get(client, "tensor", run=TRAIN, tag="bigru", step=step)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.data == expected_blob(TRAIN, "bigru", step)
    for run, tag, step in [
        (TRAIN, "scope/act", 1),
        (EVAL, "bigru", 0),
        (EVAL, "last", 3),
    ]:
        assert get(client, "tensor", run=run, tag=tag, step=step).data == expected_blob(
            run, tag, step
        )


def test_tensor_written_by_the_tf_op(client):
    for step, data in TF_STEPS.items():
        body = get(client, "tensor", run="tf_op", tag="lstm", step=step).data
        assert body == npy_format.encode(data)
        mask_body = get(client, "mask", run="tf_op", tag="lstm", step=step).data
        assert mask_body == npy_format.encode(mask())


@pytest.mark.parametrize(
    ("run", "tag", "step"),
    [(TRAIN, "bigru", LOGGED_STEPS - 1), (TRAIN, "scope/act", 1), (EVAL, "last", 3)],
)
def test_tensor_sample_is_one_sample(client, run, tag, step):
    data = LOGGED[(run, tag)][step]
    for sample in range(data.shape[0]):
        response = get(client, "tensor", run=run, tag=tag, step=step, sample=sample)
        assert response.status_code == 200
        assert response.data == npy_format.encode(data[sample : sample + 1])
        loaded_sample = load_npy(response.data)
        assert loaded_sample.shape == (1, *data.shape[1:])
        assert loaded_sample.tobytes() == data[sample].tobytes()


def test_tensor_impl_and_mask_impl(plugin, ctx):
    step = LOGGED_STEPS - 1
    assert plugin.tensor_impl(ctx, "", TRAIN, "bigru", step) == expected_blob(
        TRAIN, "bigru", step
    )
    one = plugin.tensor_impl(ctx, "", TRAIN, "bigru", step, sample=2)
    assert one == npy_format.encode(LOGGED[(TRAIN, "bigru")][step][2:3])
    assert plugin.mask_impl(ctx, "", TRAIN, "bigru", step) == npy_format.encode(mask())
    with pytest.raises(errors.NotFoundError, match="no mask"):
        plugin.mask_impl(ctx, "", EVAL, "bigru", 0)


def test_mask_is_the_logged_mask(client):
    step = LOGGED_STEPS - 1
    response = get(client, "mask", run=TRAIN, tag="bigru", step=step)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.data == npy_format.encode(mask())
    np.testing.assert_array_equal(load_npy(response.data), mask())


def test_mask_of_a_series_without_mask_is_404_json(client):
    response = get(client, "mask", run=EVAL, tag="bigru", step=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert "no mask" in response.get_json()["error"]


def test_unreadable_blob_is_served_raw_but_not_sliced(client):
    assert get(client, "tensor", run=TRAIN, tag="badnpy", step=0).data == b"not npy"
    response = get(client, "tensor", run=TRAIN, tag="badnpy", step=0, sample=0)
    assert response.status_code == 404
    assert "not a readable .npy" in response.get_json()["error"]


class _CountingProvider:
    """Delegates to a provider, counts calls, and loses the first blobs.

    Args:
      provider: The real data provider.
      lost_blobs: How many `read_blob` calls fail as if the blob were
        evicted (-1: all).
    """

    def __init__(self, provider, lost_blobs: int = 0):
        self._provider = provider
        self._lost_blobs = lost_blobs
        self.calls = collections.Counter()

    def __getattr__(self, name):
        attribute = getattr(self._provider, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted

    def read_blob(self, ctx=None, *, blob_key):
        self.calls["read_blob"] += 1
        if self._lost_blobs:
            self._lost_blobs -= 1
            raise errors.NotFoundError(f"blob {blob_key} evicted")
        return self._provider.read_blob(ctx, blob_key=blob_key)


def test_evicted_blob_is_404_json(served, logdir):
    provider = _CountingProvider(served[1], lost_blobs=-1)
    client = Client(make_app(provider, logdir))
    response = get(client, "tensor", run=EVAL, tag="bigru", step=10)
    assert response.status_code == 404
    assert "no longer retained" in response.get_json()["error"]


def test_tensor_reads_the_blob_index_once_per_series_version(served, ctx):
    provider = _CountingProvider(served[1])
    plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=provider))
    for step in (0, 10, 0):
        assert plugin.tensor_impl(ctx, "", EVAL, "bigru", step) == expected_blob(
            EVAL, "bigru", step
        )
    assert plugin.steps_impl(ctx, "", EVAL, "bigru")[-1]["step"] == 10
    assert provider.calls["read_blob_sequences"] == 1
    assert provider.calls["read_blob"] == 3


def test_stale_blob_index_is_refreshed_once(served, ctx):
    provider = _CountingProvider(served[1], lost_blobs=1)
    plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=provider))
    body = plugin.tensor_impl(ctx, "", EVAL, "bigru", 10)
    assert body == expected_blob(EVAL, "bigru", 10)
    assert provider.calls["read_blob_sequences"] == 2


def test_new_data_reaches_steps_tensor_and_profile(tmp_path, ctx):
    def write(steps):
        writer = event_file_writer.EventFileWriter(str(tmp_path / "run"))
        for step in steps:
            pb = summary_pb.gradients_pb("g", gradients(step, (2, 3, 2)))
            writer.add_event(event_pb2.Event(step=step, wall_time=step, summary=pb))
        writer.close()

    write(range(3))
    provider, ingester = start_provider("multiplexer", str(tmp_path))
    plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=provider))
    assert [s["step"] for s in plugin.steps_impl(ctx, "", "run", "g")] == [0, 1, 2]
    assert strict_json(plugin.profile_impl(ctx, "", "run", "g"))["steps"] == [0, 1, 2]
    with pytest.raises(errors.NotFoundError, match="step 4"):
        plugin.tensor_impl(ctx, "", "run", "g", 4)
    write(range(3, 5))
    ingester.deprecated_multiplexer.Reload()
    steps = [s["step"] for s in plugin.steps_impl(ctx, "", "run", "g")]
    assert steps == [0, 1, 2, 3, 4]
    body = plugin.tensor_impl(ctx, "", "run", "g", 4)
    assert body == npy_format.encode(gradients(4, (2, 3, 2)))
    profile = strict_json(plugin.profile_impl(ctx, "", "run", "g"))
    assert profile["steps"] == [0, 1, 2, 3, 4]


# profile


def test_profile_matches_stats_for_every_logged_step(client):
    response = get(client, "profile", run=TRAIN, tag="bigru")
    assert response.headers["Content-Type"] == "application/json"
    body = strict_json(response.data)
    assert body["steps"] == list(range(LOGGED_STEPS))
    assert body["wall_times"] == [wall_time(s) for s in range(LOGGED_STEPS)]
    assert body["reach_threshold"] == 0.01
    logged = LOGGED[(TRAIN, "bigru")]
    for i, step in enumerate(body["steps"]):
        expected = stats.profile(logged[step])
        assert_norms(body["values"][i], expected[0])
        assert body["nan_counts"][i] == expected[1].astype(int).tolist()
        assert body["inf_counts"][i] == expected[2].astype(int).tolist()
        # A masked series: counted from each sample's last valid timestep.
        ends = stats.end_profile(logged[step], mask())
        assert body["reach"][i] == stats.reach(ends, 0.01)
    assert None in body["values"][0]  # the NaN/Inf timesteps


def test_profile_handles_other_dtypes_ranks_and_ragged_timesteps(client):
    for run, tag in [
        (TRAIN, "ragged"),
        (EVAL, "bigru"),
        (EVAL, "last"),
        (TRAIN, "scope/act"),
    ]:
        body = strict_json(get(client, "profile", run=run, tag=tag).data)
        logged = LOGGED[(run, tag)]
        assert body["steps"] == sorted(logged)
        for i, step in enumerate(body["steps"]):
            expected = stats.profile(logged[step])
            assert_norms(body["values"][i], expected[0])
            assert body["reach"][i] == stats.reach(expected[0], 0.01)
    ragged = strict_json(get(client, "profile", run=TRAIN, tag="ragged").data)
    assert [len(row) for row in ragged["values"]] == [3, 5]


def test_profile_gzip_and_plain_bodies_agree(client):
    plain = get(client, "profile", run=TRAIN, tag="bigru")
    zipped = client.get(
        f"{ROOT}/profile",
        query_string={"run": TRAIN, "tag": "bigru"},
        headers={"Accept-Encoding": "gzip"},
    )
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data


def test_profile_is_cached_until_new_data(served, ctx):
    provider = _CountingProvider(served[1])
    plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=provider))
    first = plugin.profile_impl(ctx, "", TRAIN, "bigru")
    second = plugin.profile_impl(ctx, "", TRAIN, "bigru")
    assert first is second
    assert provider.calls["read_tensors"] == 1
    assert strict_json(first)["steps"][-1] == LOGGED_STEPS - 1


def test_profile_of_unknown_series_is_404(client):
    for tag in ("nope", "bigru/profile", "future"):
        response = get(client, "profile", run=TRAIN, tag=tag)
        assert response.status_code == 404, tag
        assert "error" in response.get_json()


# Bad input.

TENSOR = {"run": TRAIN, "tag": "bigru"}
BAD_REQUESTS = [
    # (route, query, status, word the error must contain)
    ("steps", {}, 400, "'run'"),
    ("steps", {"run": TRAIN}, 400, "'tag'"),
    ("steps", {"run": "", "tag": "bigru"}, 400, "'run'"),
    ("steps", [("run", TRAIN), ("run", EVAL), ("tag", "bigru")], 400, "2 times"),
    ("steps", {"run": "nope", "tag": "bigru"}, 404, "'nope'"),
    ("steps", {"run": TRAIN, "tag": "nope"}, 404, "'nope'"),
    ("steps", {"run": TRAIN, "tag": "bigru/profile"}, 404, "bigru/profile"),
    ("steps", {"run": "träin\x00", "tag": "bigru"}, 404, "run"),
    ("tensor", TENSOR, 400, "'step'"),
    ("tensor", {**TENSOR, "step": "abc"}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": "1.5"}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": "1e3"}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": ""}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": " 1"}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": "0x10"}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": "٣"}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": "9" * 30}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": str(2**63)}, 400, "'step'"),
    ("tensor", {**TENSOR, "step": str(2**63 - 1)}, 404, "step"),
    ("tensor", {**TENSOR, "step": "-1"}, 404, "step -1"),
    ("tensor", {**TENSOR, "step": "100000"}, 404, "step 100000"),
    ("tensor", [*TENSOR.items(), ("step", "59"), ("step", "59")], 400, "'step'"),
    ("tensor", {**TENSOR, "step": "59", "sample": "-1"}, 400, "'sample'"),
    ("tensor", {**TENSOR, "step": "59", "sample": "x"}, 400, "'sample'"),
    ("tensor", {**TENSOR, "step": "59", "sample": "1.0"}, 400, "'sample'"),
    ("tensor", {**TENSOR, "step": "59", "sample": ""}, 400, "'sample'"),
    ("tensor", {**TENSOR, "step": "59", "sample": "4"}, 404, "sample 4"),
    ("tensor", {**TENSOR, "step": "59", "sample": str(2**63 - 1)}, 404, "sample"),
    ("tensor", {**TENSOR, "step": "59", "sample": str(2**64)}, 400, "'sample'"),
    ("mask", TENSOR, 400, "'step'"),
    ("mask", {"run": EVAL, "tag": "bigru", "step": "0"}, 404, "no mask"),
    ("mask", {**TENSOR, "step": "100000"}, 404, "step 100000"),
    ("profile", {"run": TRAIN}, 400, "'tag'"),
    ("profile", {"tag": "bigru"}, 400, "'run'"),
    ("profile", {"run": TRAIN, "tag": "nope"}, 404, "'nope'"),
]


@pytest.mark.parametrize(("route", "query", "status", "word"), BAD_REQUESTS)
def test_bad_requests_are_json_errors(client, route, query, status, word):
    response = client.get(f"{ROOT}/{route}", query_string=query)
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == "application/json"
    error = response.get_json()["error"]
    assert word in error, error


NASTY_VALUES = [
    "",
    "\x00",
    "a\x00b",
    "ü",
    "😀",
    "%ff",
    "-0",
    "+1",
    "1_0",
    "١",
    "nan",
    "inf",
    "-9223372036854775809",
    "9" * 5000,
    "../../etc/passwd",
    "<script>",
]


@pytest.mark.parametrize("route", ["tags", "steps", "tensor", "mask", "profile"])
def test_no_query_causes_a_server_error(client, route):
    for value in NASTY_VALUES:
        for name in ("run", "tag", "step", "sample"):
            query = {"run": TRAIN, "tag": "bigru", "step": "59", name: value}
            response = client.get(f"{ROOT}/{route}", query_string=query)
            assert response.status_code in (200, 400, 404), (name, value)
            if response.status_code != 200:
                assert "error" in strict_json(response.data)
    raw = client.get(f"{ROOT}/{route}?run=%ff%fe&tag=%00&step=%e2%82&&&==&sample")
    assert raw.status_code in (200, 400, 404)


# Static files.


def test_static_files_are_served_with_their_type(client):
    root = static.frontend_root()
    response = client.get(f"{ROOT}/api.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.data == (root / "api.js").read_bytes()
    views = sorted((root / "views").glob("*.js"))
    assert views
    response = client.get(f"{ROOT}/views/{views[0].name}")
    assert response.data == views[0].read_bytes()


def test_index_js_is_the_frontend_entry(client):
    root = static.frontend_root()
    response = client.get(f"{ROOT}/index.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.data == (root / "index.js").read_bytes()


TRAVERSALS = [
    "../setup.py",
    "%2e%2e/setup.py",
    "%2E%2E%2Fsetup.py",
    "..%2f..%2fsetup.py",
    "views/../api.js",
    "./api.js",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "..\\setup.py",
    "%5c..%5csetup.py",
    "api.js%00.js",
    ".hidden.js",
    "views/",
    "views",
    "nope.js",
    "api.js/",
    "api.js.map",
    "../../../../../../etc/passwd",
    "C:%5cwindows%5cwin.ini",
    "%c0%ae%c0%ae/setup.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_traversal_is_refused(client, path):
    response = client.get(f"{ROOT}/{path}")
    assert response.status_code in (400, 404), response.data[:100]
    assert b"setuptools" not in response.data and b"root:" not in response.data


def test_static_types_and_symlinks_out(tmp_path):
    front = tmp_path / "front"
    (front / "sub").mkdir(parents=True)
    files = {
        "a.js": "text/javascript; charset=utf-8",
        "a.css": "text/css; charset=utf-8",
        "a.json": "application/json",
        "sub/b.js": "text/javascript; charset=utf-8",
    }
    for name in [*files, "index.js"]:
        (front / name).write_bytes(b"{}" if name.endswith("json") else b"x")
    for name in ("a.py", "a.svg", "a.png", "a.woff2", "a.mjs"):
        (front / name).write_text("secret")
    (tmp_path / "outside.js").write_text("secret")
    (front / "link.js").symlink_to(tmp_path / "outside.js")
    (front / "linkdir").symlink_to(tmp_path)
    (front / "inside.js").symlink_to(front / "a.js")
    (front / "node_modules" / "typescript").mkdir(parents=True)
    (front / "node_modules" / "typescript" / "tsc.js").write_text("secret")

    plugin = RnnGradPlugin(
        base_plugin.TBContext(data_provider=None), frontend_dir=front
    )
    client = Client(application.TensorBoardWSGI([plugin]))
    for name, content_type in files.items():
        response = client.get(f"{ROOT}/{name}")
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in (
        "a.py",
        "a.svg",
        "a.png",
        "a.woff2",
        "a.mjs",
        "link.js",
        "linkdir/outside.js",
        "node_modules/typescript/tsc.js",  # the dev-only type checker
    ):
        response = client.get(f"{ROOT}/{name}")
        assert response.status_code == 404, name
        assert b"secret" not in response.data
    assert client.get(f"{ROOT}/inside.js").data == b"x"
    assert static.resolve(front, "sub/b.js") == Path(
        os.path.realpath(front / "sub/b.js")
    )
    with pytest.raises(errors.NotFoundError):
        static.resolve(None, "a.js")


@pytest.mark.parametrize("installed", [False, True], ids=["no package", "no index.js"])
def test_missing_frontend_is_logged_once_and_shown_in_the_tab(
    tmp_path, caplog, monkeypatch, installed
):
    front = tmp_path / "front"
    if installed:
        front.mkdir()
        (front / "api.js").write_text("x")
    else:  # as after a legacy `setup.py develop`: the package is not importable
        monkeypatch.setattr(static, "FRONTEND_PACKAGE", "tb_rnngrad.no_frontend")
    with caplog.at_level(logging.ERROR, logger="tb_rnngrad"):
        plugin = RnnGradPlugin(
            base_plugin.TBContext(data_provider=None),
            frontend_dir=front if installed else None,
        )
        client = Client(application.TensorBoardWSGI([plugin]))
        entries = [client.get(f"{ROOT}/index.js") for _ in range(3)]
        other = client.get(f"{ROOT}/api.js")
    errors_logged = [r.getMessage() for r in caplog.records]
    assert len(errors_logged) == 1, errors_logged
    problem = (
        f"{front / 'index.js'} does not exist"
        if installed
        else "the package tb_rnngrad.no_frontend is not installed"
    )
    assert problem in errors_logged[0]
    assert "`pip install .`" in errors_logged[0]
    assert "`pip install -e .` using pip 21.3 or newer" in errors_logged[0]
    entry = entries[0]
    assert entry.status_code == 200
    assert entry.headers["Content-Type"] == "text/javascript; charset=utf-8"
    script = entry.data.decode()
    assert "export function render()" in script
    assert f"box.textContent = {json.dumps(errors_logged[0])};" in script
    assert "innerHTML" not in script
    assert other.status_code == 404
    assert other.get_json()["error"] == f"Not found: {errors_logged[0]}"
    assert plugin.static_impl("index.js") == (entry.data, "text/javascript")


def test_installed_frontend_logs_nothing(caplog):
    with caplog.at_level(logging.ERROR, logger="tb_rnngrad"):
        plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=None))
    assert caplog.records == []
    assert static.missing_frontend(static.frontend_root()) is None
    body, content_type = plugin.static_impl("index.js")
    assert body == (static.frontend_root() / "index.js").read_bytes()
    assert content_type == "text/javascript"


# Flags: path prefix, experiment URLs, retention.


def test_path_prefix(served, logdir):
    client = Client(make_app(served[1], logdir, path_prefix="/foo"))
    tags = client.get(f"/foo{ROOT}/tags").get_json()
    assert tags[TRAIN]["bigru"]["has_mask"] is True
    body = client.get(f"/foo{ROOT}/tensor", query_string={**TENSOR, "step": "59"}).data
    assert body == expected_blob(TRAIN, "bigru", 59)
    listing = client.get("/foo/data/plugins_listing").get_json()
    assert listing["rnngrad"]["loading_mechanism"]["module_path"] == (
        "/foo/data/plugin/rnngrad/index.js"
    )
    assert client.get(f"{ROOT}/tags").status_code == 404


def test_experiment_url(client):
    response = client.get(f"/experiment/someid{ROOT}/steps", query_string=TENSOR)
    assert response.status_code == 200
    assert len(response.get_json()) == DEFAULT_FULL_TENSORS_KEPT


@pytest.mark.parametrize("kind", PROVIDER_KINDS)
def test_samples_per_plugin_zero_serves_every_step(kind, logdir):
    provider, ingester = start_provider(kind, logdir, samples_per_plugin={"rnngrad": 0})
    client = Client(make_app(provider, logdir, samples_per_plugin={"rnngrad": 0}))
    assert wait_for(lambda: loaded(client))
    assert wait_for(lambda: len(retained_steps(client, TRAIN, "bigru")) == LOGGED_STEPS)
    body = get(client, "tensor", run=TRAIN, tag="bigru", step=0).data
    assert body == expected_blob(TRAIN, "bigru", 0)
    del ingester


# Pure helpers.


def test_slice_sample_copies_only_valid_samples():
    data = gradients(7, (3, 4, 2), np.float64)
    blob = npy_format.encode(data)
    assert npy_format.slice_sample(blob, 2) == npy_format.encode(data[2:3])
    assert npy_format.layout(blob)[1:] == ((3, 4, 2), 128)
    with pytest.raises(ValueError, match="no sample 3"):
        npy_format.slice_sample(blob, 3)
    for broken, reason in [
        (blob[:-1], "truncated"),
        (blob + b"\0", "extra bytes"),
        (b"\x93NUMPY\x01\x00garbage", "not a readable .npy"),
        (b"", "not a readable .npy"),
    ]:
        with pytest.raises(ValueError, match=reason):
            npy_format.slice_sample(broken, 0)
    objects = np.lib.format.header_data_from_array_1_0(np.zeros(2, dtype="<i4"))
    with pytest.raises(ValueError, match="unsupported"):
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(buffer, objects)
        npy_format.slice_sample(buffer.getvalue() + bytes(8), 0)


def test_lru_cache_evicts_least_recently_used_within_its_budget():
    cache = LruCache(10)
    cache.put("a", "A", cost=4)
    cache.put("b", "B", cost=4)
    assert cache.get("a") == "A"  # now "b" is the least recently used
    cache.put("c", "C", cost=4)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    cache.put("a", "A2", cost=1)  # replacing frees the old cost
    cache.put("d", "D", cost=5)
    assert [cache.get(k) for k in "acd"] == ["A2", "C", "D"]
    cache.put("huge", "H", cost=11)
    assert cache.get("huge") is None
    assert [cache.get(k) for k in "acd"] == ["A2", "C", "D"]


def test_lru_cache_versions_and_count_budget():
    cache = LruCache(2)
    cache.put("s", [1], version=(5, 1.0))
    assert cache.get("s", (5, 1.0)) == [1]
    assert cache.get("s", (6, 2.0)) is None
    assert cache.get("s") is None
    cache.put("s", [1, 2], version=(6, 2.0))
    assert cache.get("s", (5, 1.0)) is None
    assert cache.get("s", (6, 2.0)) == [1, 2]
    cache.put("t", "T")
    cache.put("u", "U")
    assert (cache.get("s", (6, 2.0)), cache.get("t"), cache.get("u")) == (
        None,
        "T",
        "U",
    )


def test_profile_payload_is_shortest_float32_text_and_null():
    norms = np.float32([0.1, np.nan, np.inf, -np.inf, 3e-39, 1.0])
    counts = np.float32([[0, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0]])
    profiles = series_info.Profiles(
        run="r",
        tag="t",
        steps=[7, 8],
        wall_times=[1.5, 0.0],
        arrays=[np.vstack([norms, counts]), np.float32([[2.5], [0], [0]])],
        reach_threshold=0.01,
    )
    reach = [stats.reach(norms, 0.01), stats.reach(np.float32([2.5]), 0.01)]
    assert payloads.profile(profiles).decode() == (
        '{"steps":[7,8],"wall_times":[1.5,0.0],'
        '"values":[[0.1,null,null,null,3e-39,1.0],[2.5]],'
        '"nan_counts":[[0,1,0,0,0,0],[0]],"inf_counts":[[0,0,1,1,0,0],[0]],'
        f'"reach":[{reach[0]},{reach[1]}],"reach_threshold":0.01}}'
    )
    empty = series_info.Profiles("r", "t", [], [], [], 0.01)
    assert strict_json(payloads.profile(empty)) == {
        "steps": [],
        "wall_times": [],
        "values": [],
        "nan_counts": [],
        "inf_counts": [],
        "reach": [],
        "reach_threshold": 0.01,
    }


def test_reader_api_for_tools(served, ctx):
    from tb_rnngrad.server.reader import Reader
    from tb_rnngrad.server.series_info import SeriesInfo, UnreadableSeries

    reader = Reader(served[1])
    info = reader.series(ctx, "", TRAIN, "bigru")
    assert isinstance(info, SeriesInfo)
    assert (info.shape, info.dtype, info.version) == ((4, 9, 6), "float32", 1)
    listing = reader.list_series(ctx, "")
    assert isinstance(listing[TRAIN]["future"], UnreadableSeries)
    with pytest.raises(errors.NotFoundError, match="unreadable"):
        reader.series(ctx, "", TRAIN, "corrupt")
    with pytest.raises(errors.NotFoundError, match="no rnngrad series"):
        reader.series(ctx, "", TRAIN, "nope")
    profiles = reader.read_profiles_of(ctx, "", EVAL, "bigru")
    assert profiles.steps == [0, 10]
    np.testing.assert_array_equal(
        profiles.arrays[1], stats.profile(LOGGED[(EVAL, "bigru")][10])
    )
    assert profiles.reach() == [
        stats.reach(stats.profile(LOGGED[(EVAL, "bigru")][s])[0], 0.01) for s in (0, 10)
    ]
    blob = reader.read_tensor(ctx, "", EVAL, "bigru", 0)
    np.testing.assert_array_equal(load_npy(blob), LOGGED[(EVAL, "bigru")][0])
