"""Request fuzzing against real `tensorboard` processes on 127.0.0.1.

For each data provider (`--load_fast=true` and `false`) hypothesis generates
(derandomized, so every run sends the same requests) requests to every route
of the plugin over the logs of `reliability.hostile_logs` (good series beside
corrupt ones): missing, empty, repeated and unknown parameters; negative,
huge, float and non-numeric steps and samples; unicode, NUL, raw non-UTF-8
bytes and long strings; and static paths with `..` in every encoding.

Every answer is checked against an oracle computed from the query as the
server parses it (werkzeug): a malformed query is a 400, a well-formed one is
a 200 with exactly the stored bytes or a 404, never a 5xx; every 4xx is a
JSON `{"error": "..."}`; no file outside the frontend directory is served.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import hostile_logs as logs
from reliability.tb_http import (
    API_ROUTES,
    JSON_TYPE,
    NPY_TYPE,
    ROOT,
    Tally,
    check_answer,
    get_raw,
    query,
    quote,
)
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tb_rnngrad.format import npy_format
from tb_rnngrad.server.static import frontend_root
from testkit.tensorboard_server import start_tensorboard, wait_for_json

LOAD_FAST = [True, False]
IDS = ["load_fast=true", "load_fast=false"]
API_EXAMPLES = 520
STATIC_EXAMPLES = 160
INT64_MAX = 2**63 - 1
REPO = Path(__file__).resolve().parent.parent
#: Files that must never be served (their bytes, and a marker of each).
SECRETS = {
    "setup.py": (REPO / "setup.py", b"setuptools.setup("),
    "plugin.py": (REPO / "tb_rnngrad" / "plugin.py", b"class RnnGradPlugin"),
    "frontend/__init__.py": (REPO / "frontend" / "__init__.py", None),
    "README.md": (REPO / "README.md", None),
    "/etc/passwd": (Path("/etc/passwd"), b"root:x:0:0:"),
}
TALLIES = {mode: Tally() for mode in LOAD_FAST}


def _secret_bytes() -> list[tuple[bytes, bytes | None]]:
    return [(p.read_bytes(), marker) for p, marker in SECRETS.values() if p.is_file()]


def _frontend_files() -> dict[str, bytes]:
    root = frontend_root()
    assert root is not None
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.suffix in (".js", ".css")
        and not {"__pycache__", "node_modules"}.intersection(p.parts)
    }


FRONTEND = _frontend_files()


def is_frontend_file(body: bytes) -> bool:
    """Whether `body` is the content of a frontend file (re-read if edited)."""
    return body in FRONTEND.values() or body in _frontend_files().values()


# Strategies.

SERIES = sorted(logs.GOOD) + [
    (logs.HOSTILE_RUN, tag)
    for tag in sorted(logs.HOSTILE_BLOBS) + list(logs.NOT_BYTES) + ["empty_blobs"]
]
KNOWN_RUNS = sorted({run for run, _ in SERIES})
KNOWN_TAGS = sorted({tag for _, tag in SERIES})
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n",
    "\r\n",
    "\t",
    "\x1b[31m",
    "%",
    "%ff",
    "%00",
    "+",
    "&",
    "=",
    "ü",
    "😀",
    "\ufffd",
    "\u202e",
    "../../etc/passwd",
    "..%2f..%2fsetup.py",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "$x$",
    "null",
    "[]",
    "{}",
    "__proto__",
    "constructor",
]
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=16)
long_text = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["A", "é", "<", "%", "\x00"]),
    st.integers(300, 2000),
)
nasty = st.one_of(st.sampled_from(NASTY), text)
raw_bytes = st.binary(min_size=1, max_size=8)  # often not UTF-8
names = st.one_of(st.sampled_from(KNOWN_RUNS + KNOWN_TAGS), nasty, raw_bytes, long_text)
integers = st.one_of(
    st.integers(-3, 12).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        [
            str(INT64_MAX),
            str(INT64_MAX + 1),
            str(-INT64_MAX - 1),
            str(-INT64_MAX - 2),
            "9" * 30,
            "-0",
            "007",
            "+1",
            " 1",
            "1 ",
            "1\n",
            "1.0",
            "1.5",
            "-1.5",
            "1e3",
            "0x10",
            "0b1",
            "1_0",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "٣",
            "１",
            "--1",
            "1-",
            "true",
        ]
    ),
    st.floats().map(repr),
    nasty,
    raw_bytes,
)
unknown_names = st.one_of(
    st.sampled_from(["Run", "TAG", "steps", "x", "", "run[]", "tag ", "step\x00"]),
    text,
)
RAW_SUFFIXES = [
    "",
    "",
    "",
    "",
    "&",
    "&&==&",
    "&%",
    "&%zz",
    "&step",
    "&=x",
    "#f",
    "&%ff",
]


def _steps_of(key) -> list[int]:
    return sorted(logs.GOOD.get(key, {0: None}))


@st.composite
def well_formed(draw) -> list[tuple]:
    """run, tag, step (and maybe sample) of a logged series, as the docs ask."""
    key = draw(st.sampled_from(SERIES + sorted(logs.GOOD) * 2))
    steps = _steps_of(key)
    step = draw(st.sampled_from(steps * 3 + [steps[-1] + 1, -1]))
    pairs = [("run", key[0]), ("tag", key[1]), ("step", str(step))]
    if draw(st.booleans()):
        pairs.append(("sample", str(draw(st.integers(0, 3)))))
    return pairs


@st.composite
def mutated(draw) -> list[tuple]:
    """A well-formed query with one to three parameters dropped, repeated,
    emptied, replaced by hostile values, or joined by unknown ones."""
    pairs = draw(well_formed())
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(
            st.sampled_from(["drop", "repeat", "empty", "replace", "unknown"])
        )
        index = draw(st.integers(0, len(pairs) - 1)) if pairs else None
        if operation == "unknown" or index is None:
            pairs.append((draw(unknown_names), draw(st.one_of(nasty, raw_bytes))))
        elif operation == "drop":
            pairs.pop(index)
        elif operation == "repeat":
            name, value = pairs[index]
            pairs.append((name, draw(st.sampled_from([value, "0", "x"]))))
        elif operation == "empty":
            pairs[index] = (pairs[index][0], "")
        else:
            name = pairs[index][0]
            values = integers if name in ("step", "sample") else names
            pairs[index] = (name, draw(values))
    return pairs


@st.composite
def chaotic(draw) -> list[tuple]:
    """Any number of each parameter, with any values."""
    counts = st.sampled_from([1, 1, 1, 0, 2])  # once, missing, repeated
    pairs = [("run", draw(names)) for _ in range(draw(counts))]
    pairs += [("tag", draw(names)) for _ in range(draw(counts))]
    pairs += [("step", draw(integers)) for _ in range(draw(counts))]
    pairs += [("sample", draw(integers)) for _ in range(draw(counts))]
    return pairs + draw(
        st.lists(st.tuples(unknown_names, st.one_of(nasty, raw_bytes)), max_size=2)
    )


@st.composite
def api_requests(draw):
    """(route, query string) of a plugin data route."""
    # Hypothesis favours the first choice: put the richest route first.
    route = draw(st.sampled_from(["tensor", "mask", "steps", "profile", "tags"]))
    kind = draw(st.sampled_from(["well-formed"] * 2 + ["mutated"] * 2 + ["chaotic"]))
    if kind == "well-formed":
        return route, query(draw(well_formed()))
    pairs = draw(mutated() if kind == "mutated" else chaotic())
    pairs = draw(st.permutations(pairs))
    return route, query(pairs) + draw(st.sampled_from(RAW_SUFFIXES))


SEGMENTS = [
    "index.js",
    "api.js",
    "views",
    "heatmap.js",
    "style.css",
    "__init__.py",
    "..",
    ".",
    "",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%252e%252e",
    "%252e%252e%252f",
    "..%2f..",
    "%2e%2e%2f%2e%2e",
    "%c0%ae%c0%ae",
    "%c0%af",
    "..%5c..",
    "..%255c",
    "...",
    "~",
    "etc",
    "passwd",
    "setup.py",
    "tb_rnngrad",
    "plugin.py",
    "frontend",
    "README.md",
    "proc",
    "self",
    "%00",
    "index.js%00",
    "index.js%00.png",
    ".git",
    "HEAD",
    "INDEX.JS",
    "index.js.",
    "index.js%20",
    "views%2fheatmap.js",
    "%2fetc%2fpasswd",
    "C:%5cwindows",
]


@st.composite
def static_paths(draw):
    """A path below the plugin root, already percent-encoded."""
    segment = st.one_of(
        st.sampled_from(SEGMENTS),
        text.map(quote),
        st.sampled_from(sorted(FRONTEND)),
        st.integers(100, 400).map(lambda n: "a" * n + ".js"),
    )
    parts = draw(st.lists(segment, min_size=1, max_size=6))
    separator = draw(st.sampled_from(["/", "/", "/", "/", "%2f", "%2F", "%5c", "//"]))
    suffix = draw(
        st.sampled_from(["", "", "", "?x=1", "?", "%00", ".js", ";.js", "#x"])
    )
    return separator.join(parts) + suffix


# The oracle.


def server_args(query_string: str):
    """The query as the plugin sees it (werkzeug's parsing)."""
    environ = EnvironBuilder(path="/", query_string=query_string).get_environ()
    return Request(environ).args


def _int64(value: str, minimum: int) -> int | None:
    """The value as the routes must accept it: ASCII decimal in range."""
    if (
        not re.fullmatch(r"-?[0-9]+", value, flags=re.ASCII)
        or len(value.lstrip("-")) > 19
    ):
        return None
    number = int(value)
    return number if minimum <= number <= INT64_MAX else None


def parse_expected(route: str, args) -> dict | None:
    """The parameters of a well-formed request, or None if it must be a 400."""
    if route == "tags":
        return {}
    parsed = {}
    for name in ("run", "tag"):
        values = args.getlist(name)
        if len(values) != 1 or not values[0]:
            return None
        parsed[name] = values[0]
    if route in ("tensor", "mask"):
        steps = args.getlist("step")
        if len(steps) != 1 or (step := _int64(steps[0], -INT64_MAX - 1)) is None:
            return None
        parsed["step"] = step
    if route == "tensor":
        samples = args.getlist("sample")
        if len(samples) > 1:
            return None
        if samples:
            if (sample := _int64(samples[0], 0)) is None:
                return None
            parsed["sample"] = sample
    return parsed


def _expected_body(route: str, params: dict, load_fast: bool) -> bytes | None:
    """The exact body a 200 must have; None if any 200 body is acceptable.

    Raises:
      LookupError: the request must be answered 404.
    """
    key = (params["run"], params["tag"])
    if key in logs.GOOD:
        by_step = logs.GOOD[key]
        if route in ("steps", "profile"):
            return None
        if params["step"] not in by_step:
            raise LookupError
        data, mask = by_step[params["step"]]
        if route == "mask":
            if mask is None:
                raise LookupError
            return npy_format.encode(mask)
        sample = params.get("sample")
        if sample is None:
            return npy_format.encode(data)
        if sample >= data.shape[0]:
            raise LookupError
        return npy_format.encode(data[sample : sample + 1])
    if key[0] == logs.HOSTILE_RUN and key[1] in logs.HOSTILE_BLOBS:
        if key[1] in logs.UNREADABLE:
            raise LookupError
        if route in ("steps", "profile"):
            return None
        if params["step"] != 0 or route == "mask":
            raise LookupError
        blob = logs.HOSTILE_BLOBS[key[1]]
        return blob if params.get("sample") is None else None
    if key[0] == logs.HOSTILE_RUN and key[1] in logs.NOT_BYTES:
        if route == "steps" and not load_fast:
            return None  # the multiplexer lists them; their data is a 404
    if key == (logs.HOSTILE_RUN, "empty_blobs") and route == "steps":
        return None  # a step without blobs
    raise LookupError


def check_api(base: str, route: str, query_string: str, load_fast: bool) -> int:
    """Sends one request and checks its answer against the oracle."""
    answer = get_raw(base, f"{ROOT}/{route}?{query_string}")
    TALLIES[load_fast].add("requests", "api", f"status {answer.status}")
    check_answer(answer)
    assert_no_secret(answer)
    params = parse_expected(route, server_args(query_string.split("#")[0]))
    if params is None:
        assert answer.status == 400, answer
        return answer.status
    if route == "tags":
        assert answer.status == 200, answer
        tags = answer.json()
        assert all(tag in tags.get(run, {}) for run, tag in logs.GOOD), answer
        return answer.status
    try:
        expected = _expected_body(route, params, load_fast)
    except LookupError:
        assert answer.status == 404, answer
        return answer.status
    if (params["run"], params["tag"]) in logs.GOOD:
        assert answer.status == 200, answer
    assert answer.status in (200, 404), answer
    if answer.status == 200:
        if route in ("tensor", "mask"):
            assert answer.content_type == NPY_TYPE, answer
        else:
            assert answer.content_type == JSON_TYPE, answer
            answer.json()
        if expected is not None:
            assert answer.body == expected, answer
        good = logs.GOOD.get((params["run"], params["tag"]))
        if good is not None and route in ("steps", "profile"):
            body = answer.json()
            steps = [s["step"] for s in body] if route == "steps" else body["steps"]
            assert steps == sorted(good), answer
        if route == "tensor" and expected is None:  # a valid sample of a blob
            data = logs.load(logs.HOSTILE_BLOBS[params["tag"]])
            sample = params["sample"]
            assert answer.body == npy_format.encode(data[sample : sample + 1])
    return answer.status


def assert_no_secret(answer) -> None:
    for secret, marker in SECRETS_BYTES:
        assert answer.body != secret, answer
        if marker is not None:
            assert marker not in answer.body, answer


SECRETS_BYTES = _secret_bytes()


def reaches_plugin(target: str) -> bool:
    """Whether TensorBoard's router hands `target` to the plugin at all.

    The HTTP server splits off the query and percent-decodes the path; the
    router parses the decoded path again as a URL (so a decoded `?`, `#` or
    `;` ends it) and drops one trailing slash before matching the plugin's
    prefix `/data/plugin/rnngrad/`. Paths that miss it get the router's own
    `text/plain` "Not found".
    """
    decoded = urllib.parse.unquote(urllib.parse.urlsplit(target).path, errors="replace")
    path = urllib.parse.urlparse(decoded).path
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    return path.startswith(ROOT + "/")


def check_static(base: str, path: str, load_fast: bool) -> int:
    """Sends a static request; only frontend files may be served.

    A 404 is the plugin's JSON error, or, for a path the router never hands
    to the plugin (`reaches_plugin`), TensorBoard's own plain "Not found".
    """
    target = f"{ROOT}/{path}"
    answer = get_raw(base, target)
    TALLIES[load_fast].add("requests", "static", f"status {answer.status}")
    assert_no_secret(answer)
    assert answer.status in (200, 404), answer
    if reaches_plugin(target):
        check_answer(answer)
    else:
        TALLIES[load_fast].add("static 404 from the router")
        assert answer.status == 404 and answer.body == b"Not found", answer
        assert answer.content_type.startswith("text/plain"), answer
    if answer.status == 200:
        assert is_frontend_file(answer.body), answer
    return answer.status


# Servers and tests.


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("fuzz_logs"))
    logs.write(root)
    return root


def _loaded(tags) -> bool:
    return all(
        tags.get(run, {}).get(tag, {}).get("max_step") == max(by_step)
        for (run, tag), by_step in logs.GOOD.items()
    ) and all(tag in tags.get(logs.HOSTILE_RUN, {}) for tag in logs.HOSTILE_BLOBS)


@pytest.fixture(scope="module", params=LOAD_FAST, ids=IDS)
def server(request, logdir):
    """(base URL, load_fast) of a `tensorboard` over the fuzz logs."""
    server = start_tensorboard(logdir, load_fast=request.param)
    try:
        wait_for_json(f"{server.url}{ROOT}/tags", _loaded, timeout=90)
        yield server.url, request.param
    finally:
        server.stop()
        tally = TALLIES[request.param]
        statuses = {k: v for k, v in sorted(tally.counts.items()) if " " in k}
        print(
            f"\n[reliability] fuzz, load_fast={request.param}: "
            f"{tally['requests']} requests ({tally['api']} to data routes, "
            f"{tally['static']} to static paths), 0 server errors; "
            f"answers {statuses}"
        )
        assert "Traceback" not in server.output()


#: Repeatable runs: the same requests every time, no example database.
FUZZ = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


def test_fuzz_data_routes(server):
    base, load_fast = server
    seen = Tally()

    @settings(max_examples=API_EXAMPLES, **FUZZ)
    @given(request=api_requests())
    def check(request):
        route, query_string = request
        seen.add(route, f"status {check_api(base, route, query_string, load_fast)}")

    check()
    counts = dict(seen.counts)
    print(f"\n[reliability] fuzz data routes, load_fast={load_fast}: {counts}")
    assert sum(seen[r] for r in API_ROUTES) >= 500
    assert all(seen[r] >= 50 for r in API_ROUTES), counts
    assert seen["status 200"] >= 100 and seen["status 400"] >= 100, counts
    assert seen["status 404"] >= 50, counts


def test_every_series_on_every_route(server):
    """A systematic sweep beside the fuzz: each logged series (good, broken
    and not-bytes), each route, a logged and an unlogged step, no sample, a
    valid sample and one past the batch."""
    base, load_fast = server
    seen = Tally()
    requests = [("tags", [])]
    for run, tag in SERIES:
        steps = _steps_of((run, tag))
        series = [("run", run), ("tag", tag)]
        requests += [("steps", series), ("profile", series)]
        for step in (steps[0], steps[-1] + 1):
            requests.append(("mask", [*series, ("step", str(step))]))
            for sample in ([], [("sample", "1")], [("sample", "3")]):
                requests.append(("tensor", [*series, ("step", str(step)), *sample]))
    for route, pairs in requests:
        seen.add(f"status {check_api(base, route, query(pairs), load_fast)}")
    print(f"\n[reliability] sweep, load_fast={load_fast}: {dict(seen.counts)}")


def test_fuzz_static_paths(server):
    base, load_fast = server
    seen = Tally()

    @settings(max_examples=STATIC_EXAMPLES, **FUZZ)
    @given(path=static_paths())
    def check(path):
        seen.add(f"status {check_static(base, path, load_fast)}")

    check()
    print(f"\n[reliability] fuzz static, load_fast={load_fast}: {dict(seen.counts)}")
    assert seen["status 200"] >= 5 and seen["status 404"] >= 100


TRAVERSALS = [
    "../../../setup.py",
    "%2e%2e/%2e%2e/%2e%2e/setup.py",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fsetup.py",
    "..%2f..%2f..%2fsetup.py",
    "%252e%252e%252f%252e%252e%252fsetup.py",
    "..%252f..%252fsetup.py",
    "views/../../../tb_rnngrad/server/plugin.py",
    "views/%2e%2e/%2e%2e/tb_rnngrad/server/plugin.py",
    "%2e%2e/tb_rnngrad/server/plugin.py",
    "..%2ftb_rnngrad%2fplugin.py",
    "__init__.py",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%5c%2e%2e%5csetup.py",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/setup.py",
    "index.js%00/../../setup.py",
    "views/heatmap.js/../../../../setup.py",
    ".%2e/.%2e/.%2e/README.md",
]


def test_known_traversals_and_every_frontend_file(server):
    base, load_fast = server
    for path in TRAVERSALS:
        assert check_static(base, path, load_fast) == 404, path
    root = frontend_root()
    for name in FRONTEND:
        answer = get_raw(base, f"{ROOT}/{name}")
        TALLIES[load_fast].add("requests", "static", f"status {answer.status}")
        assert answer.status == 200, answer
        assert answer.body == (root / name).read_bytes() or is_frontend_file(
            answer.body
        ), name  # the file may be edited meanwhile
    assert "index.js" in FRONTEND and "views/heatmap.js" in FRONTEND
    secrets = [m for _, m in SECRETS_BYTES if m is not None]
    assert not any(m in body for m in secrets for body in FRONTEND.values())


def test_oracle_agrees_with_the_docs():
    """Spot checks of the oracle itself (docs/http_api.md)."""
    assert parse_expected("tensor", server_args("run=a&tag=b&step=-0")) == {
        "run": "a",
        "tag": "b",
        "step": 0,
    }
    for bad in ("step=1.5", "step=%2B1", "step=", "step=1&step=1", "step=%D9%A3"):
        assert parse_expected("tensor", server_args(f"run=a&tag=b&{bad}")) is None
    assert parse_expected("steps", server_args("run=a&tag=")) is None
    assert parse_expected("steps", server_args("run=%ff&tag=b&zzz")) == {
        "run": "%FF",  # werkzeug keeps undecodable bytes quoted
        "tag": "b",
    }
    assert _int64(str(INT64_MAX), 0) == INT64_MAX
    assert _int64(str(INT64_MAX + 1), 0) is None
    assert _int64("-1", 0) is None


def test_request_lines_over_64_kib_stop_at_the_http_server(server):
    """Python's HTTP server refuses request lines over 65536 bytes with its own
    HTML 414 before TensorBoard runs; anything shorter reaches the plugin."""
    base, load_fast = server
    for length, status in ((60_000, 404), (70_000, 414)):
        answer = get_raw(base, f"{ROOT}/steps?run={'A' * length}&tag=x")
        TALLIES[load_fast].add("requests", f"status {answer.status}")
        assert answer.status == status, answer
        if status == 404:
            check_answer(answer)
