"""The plugin inside real `tensorboard` processes, over HTTP on 127.0.0.1.

One process per data provider (`--load_fast=true`: the Rust data server;
`false`: the Python multiplexer) with default flags, and one per provider with
`--path_prefix=/foo --samples_per_plugin rnngrad=0`. The logs (two runs) are
those of `test_plugin_handlers.write_logs`.
"""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.parse

import pytest
from test_plugin_handlers import (
    EVAL,
    LOGGED,
    LOGGED_STEPS,
    TRAIN,
    assert_norms,
    expected_blob,
    mask,
    strict_json,
    wall_time,
    write_logs,
)

from tb_rnngrad.format import metadata, npy_format, stats
from tb_rnngrad.server.loader import DEFAULT_FULL_TENSORS_KEPT
from tb_rnngrad.server.static import frontend_root
from testkit.tensorboard_server import (
    fetch,
    fetch_json,
    tensorboard_server,
    wait_for_json,
)

ROOT = "/data/plugin/rnngrad"
LOAD_FAST = [True, False]
IDS = ["load_fast=true", "load_fast=false"]


def url(base: str, route: str, **params) -> str:
    query = urllib.parse.urlencode(params)
    return f"{base}{ROOT}/{route}" + (f"?{query}" if query else "")


def everything_loaded(tags) -> bool:
    return (
        tags.get(TRAIN, {}).get("bigru", {}).get("max_step") == LOGGED_STEPS - 1
        and tags.get(EVAL, {}).get("bigru", {}).get("max_step") == 10
        and "last" in tags.get(EVAL, {})
    )


def profiles_loaded(base: str) -> None:
    """Waits until every logged profile step of TRAIN/bigru is served."""
    wait_for_json(
        url(base, "profile", run=TRAIN, tag="bigru"),
        lambda body: len(body["steps"]) == LOGGED_STEPS,
    )


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("integration_logs"))
    write_logs(root)
    return root


@pytest.fixture(scope="module", params=LOAD_FAST, ids=IDS)
def server(request, logdir):
    """Base URL of `tensorboard --logdir logdir --load_fast=...`."""
    with tensorboard_server(logdir, load_fast=request.param) as base:
        wait_for_json(url(base, "tags"), everything_loaded)
        profiles_loaded(base)
        yield base


@pytest.fixture(scope="module", params=LOAD_FAST, ids=IDS)
def prefixed(request, logdir):
    """Base URL (with /foo) of a server keeping every full tensor."""
    with tensorboard_server(
        logdir,
        load_fast=request.param,
        path_prefix="/foo",
        samples_per_plugin={"rnngrad": 0},
    ) as base:
        assert base.endswith("/foo")
        wait_for_json(url(base, "tags"), everything_loaded)
        yield base


def test_plugins_listing(server):
    entry = fetch_json(server + "/data/plugins_listing")["rnngrad"]
    assert entry["enabled"] is True
    assert entry["tab_name"] == "RNN Gradients"
    assert entry["loading_mechanism"] == {
        "type": "IFRAME",
        "module_path": "/data/plugin/rnngrad/index.js",
    }


def test_tags(server):
    tags = fetch_json(url(server, "tags"))
    assert set(tags) == {TRAIN, EVAL}
    assert set(tags[TRAIN]) == {
        "bigru",
        "scope/act",
        "ragged",
        "future",
        "corrupt",
        "badnpy",
    }
    bigru = tags[TRAIN]["bigru"]
    assert bigru["layer_class"] == "GRU" and bigru["units"] == 3
    assert bigru["bidirectional"] is True and bigru["merge_mode"] == "concat"
    assert bigru["shape"] == [4, 9, 6] and bigru["dtype"] == "float32"
    assert bigru["has_mask"] is True and bigru["reach_threshold"] == 0.01
    assert bigru["max_step"] == LOGGED_STEPS - 1
    assert bigru["description"] == "*bigru*"
    assert tags[TRAIN]["scope/act"]["kind"] == "activations"
    assert tags[TRAIN]["future"]["error"].startswith("unreadable: ")
    assert tags[TRAIN]["corrupt"]["error"].startswith("unreadable: ")
    assert tags[EVAL]["last"]["shape"] == [3, 5]


def test_steps_keep_the_plugin_default(server):
    steps = fetch_json(url(server, "steps", run=TRAIN, tag="bigru"))
    assert len(steps) == DEFAULT_FULL_TENSORS_KEPT
    assert steps[-1]["step"] == LOGGED_STEPS - 1
    assert all(s["wall_time"] == wall_time(s["step"]) for s in steps)
    assert fetch_json(url(server, "steps", run=EVAL, tag="bigru")) == [
        {"step": 0, "wall_time": wall_time(0)},
        {"step": 10, "wall_time": wall_time(10)},
    ]


def test_tensor_is_the_logged_npy_byte_for_byte(server):
    steps = [
        s["step"] for s in fetch_json(url(server, "steps", run=TRAIN, tag="bigru"))
    ]
    for step in steps:
        status, headers, body = fetch(
            url(server, "tensor", run=TRAIN, tag="bigru", step=step)
        )
        assert status == 200
        assert headers["Content-Type"] == "application/octet-stream"
        assert int(headers["Content-Length"]) == len(body)
        assert body == expected_blob(TRAIN, "bigru", step)
    for run, tag, step in [
        (TRAIN, "scope/act", 1),
        (EVAL, "bigru", 0),
        (EVAL, "last", 3),
    ]:
        _, _, body = fetch(url(server, "tensor", run=run, tag=tag, step=step))
        assert body == expected_blob(run, tag, step)


def test_tensor_sample(server):
    data = LOGGED[(EVAL, "bigru")][10]
    for sample in range(data.shape[0]):
        status, _, body = fetch(
            url(server, "tensor", run=EVAL, tag="bigru", step=10, sample=sample)
        )
        assert status == 200
        assert body == npy_format.encode(data[sample : sample + 1])


def test_mask(server):
    status, headers, body = fetch(
        url(server, "mask", run=TRAIN, tag="bigru", step=LOGGED_STEPS - 1)
    )
    assert status == 200
    assert headers["Content-Type"] == "application/octet-stream"
    assert body == npy_format.encode(mask())


def test_profile_matches_stats(server):
    plain = fetch(url(server, "profile", run=TRAIN, tag="bigru"))
    zipped = fetch(
        url(server, "profile", run=TRAIN, tag="bigru"),
        headers={"Accept-Encoding": "gzip"},
    )
    assert plain[0] == zipped[0] == 200
    assert zipped[1]["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped[2]) == plain[2]
    body = strict_json(plain[2])
    assert body["steps"] == list(range(LOGGED_STEPS))
    assert body["wall_times"] == [wall_time(s) for s in body["steps"]]
    for i, step in enumerate(body["steps"]):
        expected = stats.profile(LOGGED[(TRAIN, "bigru")][step])
        assert_norms(body["values"][i], expected[0])
        assert body["nan_counts"][i] == expected[1].astype(int).tolist()
        assert body["inf_counts"][i] == expected[2].astype(int).tolist()
        ends = stats.end_profile(LOGGED[(TRAIN, "bigru")][step], mask())  # masked
        assert body["reach"][i] == stats.reach(ends, body["reach_threshold"])
    assert body["reach_threshold"] == pytest.approx(metadata.DEFAULT_REACH_THRESHOLD)


ERRORS = [
    ("steps", {}, 400, "'run'"),
    ("steps", {"run": TRAIN}, 400, "'tag'"),
    ("steps", {"run": "nope", "tag": "bigru"}, 404, "'nope'"),
    ("steps", {"run": "eval ü\x00", "tag": "bigru"}, 404, "run"),
    ("tensor", {"run": TRAIN, "tag": "bigru"}, 400, "'step'"),
    ("tensor", {"run": TRAIN, "tag": "bigru", "step": "1.5"}, 400, "'step'"),
    ("tensor", {"run": TRAIN, "tag": "bigru", "step": "x"}, 400, "'step'"),
    ("tensor", {"run": TRAIN, "tag": "bigru", "step": "-5"}, 404, "step -5"),
    ("tensor", {"run": TRAIN, "tag": "bigru", "step": "9" * 40}, 400, "'step'"),
    ("tensor", {"run": TRAIN, "tag": "nope", "step": "1"}, 404, "'nope'"),
    (
        "tensor",
        {"run": EVAL, "tag": "bigru", "step": "10", "sample": "4"},
        404,
        "sample",
    ),
    (
        "tensor",
        {"run": EVAL, "tag": "bigru", "step": "10", "sample": "-1"},
        400,
        "'sample'",
    ),
    ("mask", {"run": EVAL, "tag": "bigru", "step": "10"}, 404, "no mask"),
    ("profile", {"run": TRAIN}, 400, "'tag'"),
    ("profile", {"run": TRAIN, "tag": "future"}, 404, "future"),
]


def test_errors_are_json(server):
    for route, params, status, word in ERRORS:
        code, headers, body = fetch(url(server, route, **params))
        assert code == status, (route, params, body)
        assert headers["Content-Type"] == "application/json"
        assert word in json.loads(body)["error"], (route, params, body)
    code, _, body = fetch(f"{server}{ROOT}/tensor?run=a&run=b&tag=%ff&step=1")
    assert code == 400 and "'run'" in json.loads(body)["error"]


def test_frontend_files(server):
    root = frontend_root()
    for name in ("index.js", "api.js"):
        status, headers, body = fetch(f"{server}{ROOT}/{name}")
        assert status == 200
        assert headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert body == (root / name).read_bytes()


TRAVERSALS = [
    "../../../../etc/passwd",
    "%2e%2e/%2e%2e/%2e%2e/setup.py",
    "..%2f..%2f..%2fsetup.py",
    "views/../../../setup.py",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "..%5c..%5csetup.py",
    "api.js%00.js",
    ".hidden.js",
    "nope.js",
]


def test_static_traversal_over_raw_http(server):
    parsed = urllib.parse.urlsplit(server)
    for path in TRAVERSALS:
        connection = http.client.HTTPConnection(
            parsed.hostname, parsed.port, timeout=30
        )
        try:
            connection.request("GET", f"{parsed.path}{ROOT}/{path}")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        assert response.status in (400, 404), (path, response.status)
        assert b"root:" not in body and b"setuptools" not in body, path


def test_path_prefix_and_samples_per_plugin_zero(prefixed):
    listing = fetch_json(prefixed + "/data/plugins_listing")["rnngrad"]
    assert listing["enabled"] is True
    assert listing["loading_mechanism"]["module_path"] == (
        "/foo/data/plugin/rnngrad/index.js"
    )
    steps = wait_for_json(
        url(prefixed, "steps", run=TRAIN, tag="bigru"),
        lambda body: len(body) == LOGGED_STEPS,
    )
    assert [s["step"] for s in steps] == list(range(LOGGED_STEPS))
    for step in (0, 1, LOGGED_STEPS // 2):
        _, _, body = fetch(url(prefixed, "tensor", run=TRAIN, tag="bigru", step=step))
        assert body == expected_blob(TRAIN, "bigru", step)
    profile = strict_json(fetch(url(prefixed, "profile", run=EVAL, tag="last"))[2])
    assert profile["steps"] == [3]
    assert_norms(profile["values"][0], stats.profile(LOGGED[(EVAL, "last")][3])[0])
    unprefixed = prefixed[: -len("/foo")] + ROOT + "/tags"
    assert fetch(unprefixed)[0] == 404
