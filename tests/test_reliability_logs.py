"""Corrupt and hostile logs, served by real `tensorboard` processes.

One log directory (`reliability.hostile_logs`) holds good series beside
truncated and garbage-extended event files, garbage and future-version
metadata, blobs that are not `.npy` (or not bytes at all), and profiles of the
wrong dtype or rank. Over both data providers (`--load_fast=true` and
`false`), TensorBoard must keep serving every good series exactly, list
unreadable series as `{"error": "unreadable: ..."}`, answer requests for bad
data with a 4xx JSON error (never a 5xx), and log one warning per bad series.
"""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest
from reliability import hostile_logs as logs
from reliability.tb_http import NPY_TYPE, Tally, check_answer, get

from tb_rnngrad.format import metadata, npy_format, stats
from testkit.tensorboard_server import start_tensorboard, wait_for_json

LOAD_FAST = [True, False]
IDS = ["load_fast=true", "load_fast=false"]
#: Requests and answers per `--load_fast` mode, printed when its server stops.
TALLIES = {mode: Tally() for mode in LOAD_FAST}


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("hostile_logs"))
    logs.write(root)
    return root


def _all_good_loaded(tags) -> bool:
    return all(
        tags.get(run, {}).get(tag, {}).get("max_step") == max(by_step)
        for (run, tag), by_step in logs.GOOD.items()
    ) and all(tag in tags.get(logs.HOSTILE_RUN, {}) for tag in logs.BAD_PROFILES)


@pytest.fixture(scope="module", params=LOAD_FAST, ids=IDS)
def server(request, logdir):
    """(running `TensorBoardServer`, load_fast) over the hostile logs."""
    server = start_tensorboard(logdir, load_fast=request.param)
    try:
        wait_for_json(
            f"{server.url}/data/plugin/rnngrad/tags", _all_good_loaded, timeout=90
        )
        yield server, request.param
    finally:
        server.stop()
        tally = TALLIES[request.param]
        statuses = {k: v for k, v in sorted(tally.counts.items()) if k != "requests"}
        print(
            f"\n[reliability] hostile logs, load_fast={request.param}: "
            f"{tally['requests']} requests, 0 server errors, answers {statuses}"
        )


def fetch(server, route: str, **params):
    """GET a route; every answer must pass `check_answer` (no 5xx, JSON 4xx)."""
    answer = get(server[0].url, route, params)
    TALLIES[server[1]].add("requests", f"status {answer.status}")
    check_answer(answer)
    return answer


def assert_not_found(answer, *words: str) -> None:
    assert answer.status == 404, answer
    message = answer.json()["error"]
    for word in words:
        assert word in message, answer


def test_every_good_series_is_served_exactly(server):
    tags = fetch(server, "tags").json()
    for (run, tag), by_step in logs.GOOD.items():
        assert tags[run][tag]["max_step"] == max(by_step)
        assert tags[run][tag]["layer_class"] == "LSTM"
        steps = fetch(server, "steps", run=run, tag=tag).json()
        assert [s["step"] for s in steps] == sorted(by_step)
        for step, (data, mask) in by_step.items():
            answer = fetch(server, "tensor", run=run, tag=tag, step=step)
            assert answer.content_type == NPY_TYPE
            assert answer.body == logs.STORED[(run, tag)][step][0]
            sample = fetch(server, "tensor", run=run, tag=tag, step=step, sample=1)
            assert sample.body == npy_format.encode(data[1:2])
            if mask is not None:
                answer = fetch(server, "mask", run=run, tag=tag, step=step)
                assert answer.body == logs.STORED[(run, tag)][step][1]
        profile = fetch(server, "profile", run=run, tag=tag).json()
        assert profile["steps"] == sorted(by_step)
        for row, step in enumerate(profile["steps"]):
            expected = stats.profile(by_step[step][0])
            assert profile["nan_counts"][row] == expected[1].astype(int).tolist()
            assert profile["inf_counts"][row] == expected[2].astype(int).tolist()
            finite = np.isfinite(expected[0])
            served = profile["values"][row]
            assert [v is None for v in served] == (~finite).tolist()
            values = np.float32([0.0 if v is None else v for v in served])
            np.testing.assert_array_equal(values[finite], expected[0][finite])


def test_damaged_event_files_keep_what_came_before(server):
    tags = fetch(server, "tags").json()
    # The half-written record of step 4 is not served; steps 0-3 are.
    assert tags[logs.TRUNCATED_RUN]["gradients/x"]["max_step"] == 3
    answer = fetch(server, "tensor", run=logs.TRUNCATED_RUN, tag="gradients/x", step=4)
    assert_not_found(answer, "step 4")
    # Garbage after the last record: every record before it is served.
    assert tags[logs.APPENDED_RUN]["gradients/x"]["max_step"] == 4
    # Files with no valid record give no run.
    assert logs.GARBAGE_RUN not in tags and logs.EMPTY_RUN not in tags


def test_unreadable_metadata_is_listed_and_answered_with_404(server):
    hostile = fetch(server, "tags").json()[logs.HOSTILE_RUN]
    assert hostile["garbage_meta"]["error"].startswith("unreadable: corrupt")
    assert hostile["future"]["error"].startswith("unreadable: written in rnngrad")
    assert f"version {metadata.PROTO_VERSION + 98}" in hostile["future"]["error"]
    for tag in logs.UNREADABLE:
        assert set(hostile[tag]) == {"error"}
        params = {"run": logs.HOSTILE_RUN, "tag": tag}
        assert_not_found(fetch(server, "steps", **params), "unreadable")
        assert_not_found(fetch(server, "tensor", step=0, **params), "unreadable")
        assert_not_found(fetch(server, "mask", step=0, **params), "unreadable")
        assert_not_found(fetch(server, "profile", **params))
    assert "kind" in hostile["ok"]


def test_blobs_that_are_not_npy(server):
    """Stored bytes are served as stored; only slicing needs a valid `.npy`.

    The `tensor` route serves a blob byte for byte without parsing it (the
    frontend reports a blob it cannot parse); `sample=` parses the header and
    answers 404 for anything but a C-ordered float `.npy` of the right size.
    """
    reasons = {
        "not_npy": "not a readable .npy",
        "npy_truncated": "truncated",
        "npy_pickle": "unsupported layout",
        "npy_fortran": "unsupported layout",
    }
    for tag in logs.NPY_PROBLEMS:
        params = {"run": logs.HOSTILE_RUN, "tag": tag, "step": 0}
        answer = fetch(server, "tensor", **params)
        assert answer.status == 200 and answer.content_type == NPY_TYPE
        assert answer.body == logs.HOSTILE_BLOBS[tag]
        assert_not_found(fetch(server, "tensor", sample=0, **params), reasons[tag])
        assert_not_found(fetch(server, "mask", **params), "no mask")


def test_blob_sequences_that_are_not_bytes(server):
    _, load_fast = server
    listed = fetch(server, "tags").json()[logs.HOSTILE_RUN]
    for tag in logs.NOT_BYTES:
        params = {"run": logs.HOSTILE_RUN, "tag": tag, "step": 0}
        if load_fast:  # the Rust data server drops them when loading
            assert tag not in listed
            assert_not_found(fetch(server, "tensor", **params), "no rnngrad series")
        else:
            assert_not_found(fetch(server, "tensor", **params), "not a sequence")
            assert_not_found(fetch(server, "tensor", sample=0, **params))
    answer = fetch(server, "tensor", run=logs.HOSTILE_RUN, tag="empty_blobs", step=0)
    assert_not_found(answer, "no tensor at step 0", "empty")


def test_shape_other_than_the_metadata_is_served_as_stored(server):
    """Metadata records the first step's shape; each blob carries its own."""
    params = {"run": logs.HOSTILE_RUN, "tag": "shape_mismatch", "step": 0}
    assert fetch(server, "tags").json()[logs.HOSTILE_RUN]["shape_mismatch"][
        "shape"
    ] == [9, 9, 9]
    stored = npy_format.encode(np.ones((1, 2), np.float32))
    assert fetch(server, "tensor", **params).body == stored
    assert fetch(server, "tensor", sample=0, **params).body == stored
    assert_not_found(fetch(server, "tensor", sample=1, **params), "no sample 1")


def test_profiles_of_the_wrong_dtype_or_rank(server):
    run = logs.HOSTILE_RUN
    tags = fetch(server, "tags").json()[run]
    for tag in logs.BAD_PROFILES + ("prof_int",):
        assert tags[tag]["kind"] == "gradients"  # the full tensor is fine
        answer = fetch(server, "tensor", run=run, tag=tag, step=0)
        assert answer.body == npy_format.encode(logs.HOSTILE_DATA)
    # An integer (3, T) profile is read as float32.
    profile = fetch(server, "profile", run=run, tag="prof_int").json()
    assert profile["values"] == [[0.0, 1.0, 2.0]]
    assert profile["nan_counts"] == [[3, 4, 5]]
    assert profile["inf_counts"] == [[6, 7, 8]]
    # Other shapes and dtypes are left out (and logged), not fatal.
    for tag in ("prof_rank", "prof_rank3", "prof_string"):
        profile = fetch(server, "profile", run=run, tag=tag).json()
        assert profile["steps"] == [] and profile["values"] == []
    answer = fetch(server, "profile", run=run, tag="prof_garbage_meta")
    assert_not_found(answer, "unreadable", "corrupt")


WARNING = re.compile(r"Skipping rnngrad series run '([^']*)', tag '([^']*)': (.*)")


def test_each_bad_series_warns_exactly_once(server):
    tb, load_fast = server
    run = logs.HOSTILE_RUN
    hostile = (
        logs.UNREADABLE + logs.NPY_PROBLEMS + logs.NOT_BYTES + logs.BAD_PROFILES
    ) + logs.EDGE
    for _ in range(3):
        fetch(server, "tags")
        for tag in hostile:
            for route, extra in (
                ("steps", {}),
                ("tensor", {"step": 0}),
                ("tensor", {"step": 0, "sample": 0}),
                ("profile", {}),
            ):
                fetch(server, route, run=run, tag=tag, **extra)
    warned = collections.Counter()
    for line in tb.output().splitlines():
        match = WARNING.search(line)
        if match:
            warned[(match[1], match[2])] += 1
    expected = [
        "garbage_meta",
        "future",
        "prof_rank/profile",
        "prof_rank3/profile",
        "prof_string/profile",
        "prof_garbage_meta/profile",
    ]
    if not load_fast:
        expected += list(logs.NOT_BYTES)
    assert warned == collections.Counter({(run, tag): 1 for tag in expected})
    assert "Traceback" not in tb.output()


def test_cli_summary_lists_good_and_bad_series(logdir, capsys):
    from tb_rnngrad import cli

    assert cli.main(["summary", logdir]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {tuple(line.split()[:2]): line for line in lines[2:]}
    last, last_mask = logs.GOOD[(logs.GOOD_RUN, "gradients/lstm")][9]
    reach = stats.reach(stats.end_profile(last, last_mask), 0.01)  # masked
    assert rows[(logs.GOOD_RUN, "gradients/lstm")].split()[-4:] == [
        "5",
        "9",
        str(reach),
        "-",  # horizon: state kinds only
    ]
    assert "unreadable" in rows[(logs.HOSTILE_RUN, "future")]
    # A series without a readable profile is listed, not fatal.
    assert rows[(logs.HOSTILE_RUN, "prof_garbage_meta")].split()[-4:] == [
        "-",
        "0",
        "-",
        "-",
    ]
