"""Split serving: TensorBoard reading through a data server started on its own.

`tensorboard-data-server --logdir L --port 0 --port-file F` runs as one
process and `tensorboard --grpc_data_provider 127.0.0.1:PORT` as another, both
on 127.0.0.1; every route of docs/http_api.md must answer exactly as
`tensorboard --logdir L` does over the same logs (those of
`test_plugin_handlers.write_logs`).
"""

from __future__ import annotations

import gzip

import pytest
from test_plugin_handlers import (
    EVAL,
    LOGGED,
    LOGGED_STEPS,
    TRAIN,
    expected_blob,
    write_logs,
)
from test_plugin_integration import ERRORS, everything_loaded, profiles_loaded, url

from tb_rnngrad.server.loader import (
    DEFAULT_FULL_TENSORS_KEPT,
    data_server_samples_per_plugin,
)
from testkit.tensorboard_server import (
    fetch,
    fetch_json,
    split_tensorboard_server,
    tensorboard_server,
    wait_for_json,
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(split URL, direct URL) over one log directory, both fully loaded."""
    logdir = str(tmp_path_factory.mktemp("split_logs"))
    write_logs(logdir)
    samples = data_server_samples_per_plugin()
    with (
        split_tensorboard_server(logdir, samples) as split,
        tensorboard_server(logdir, load_fast=True) as direct,
    ):
        for base in (split, direct):
            wait_for_json(url(base, "tags"), everything_loaded)
            profiles_loaded(base)
        yield split, direct


def _same(split: str, direct: str, route: str, **params) -> tuple[int, bytes]:
    """GETs `route` from both servers; asserts equal status, type and body."""
    a, b = fetch(url(split, route, **params)), fetch(url(direct, route, **params))
    assert (a[0], a[1]["Content-Type"], a[2]) == (b[0], b[1]["Content-Type"], b[2])
    return a[0], a[2]


def test_every_route_answers_as_with_a_direct_logdir(servers):
    split, direct = servers
    listing = [fetch_json(base + "/data/plugins_listing") for base in servers]
    assert listing[0]["rnngrad"] == listing[1]["rnngrad"]
    assert listing[0]["rnngrad"]["enabled"] is True

    status, body = _same(split, direct, "tags")
    tags = fetch_json(url(split, "tags"))
    readable = [
        (run, tag)
        for run in tags
        for tag, meta in tags[run].items()
        if "error" not in meta
    ]
    assert (TRAIN, "bigru") in readable and (EVAL, "last") in readable
    for run, tag in readable:
        _same(split, direct, "steps", run=run, tag=tag)
        steps = [s["step"] for s in fetch_json(url(split, "steps", run=run, tag=tag))]
        for step in steps:
            _, body = _same(split, direct, "tensor", run=run, tag=tag, step=step)
            if (run, tag) in LOGGED:  # the rest are malformed on purpose
                assert body == expected_blob(run, tag, step)
            _same(split, direct, "tensor", run=run, tag=tag, step=step, sample=0)
            _same(split, direct, "mask", run=run, tag=tag, step=step)
        _, body = _same(split, direct, "profile", run=run, tag=tag)
        zipped = fetch(
            url(split, "profile", run=run, tag=tag),
            headers={"Accept-Encoding": "gzip"},
        )
        assert gzip.decompress(zipped[2]) == body
    for route, params, expected_status, _ in ERRORS:
        assert _same(split, direct, route, **params)[0] == expected_status
    assert _same(split, direct, "index.js")[0] == 200


def test_the_data_server_keeps_the_plugin_defaults(servers):
    split, _ = servers
    steps = fetch_json(url(split, "steps", run=TRAIN, tag="bigru"))
    assert len(steps) == DEFAULT_FULL_TENSORS_KEPT  # rnngrad=50
    profile = fetch_json(url(split, "profile", run=TRAIN, tag="bigru"))
    assert profile["steps"] == list(range(LOGGED_STEPS))  # rnngrad_profile=all
