"""Raw HTTP requests to a `tensorboard` process, and the checks every answer gets.

`http.client` sends the request target exactly as given (no normalisation of
`..` or re-encoding), so percent-encoded traversals reach the server intact.
"""

from __future__ import annotations

import collections
import http.client
import json
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any

ROOT = "/data/plugin/rnngrad"
API_ROUTES = ("tags", "steps", "tensor", "mask", "profile")
JSON_TYPE = "application/json"
NPY_TYPE = "application/octet-stream"


class Answer:
    """Status, headers and body of one response."""

    def __init__(self, target: str, status: int, headers: Any, body: bytes) -> None:
        self.target = target
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> Any:
        return strict_json(self.body)

    def __repr__(self) -> str:
        return f"GET {self.target[:300]} -> {self.status} {self.body[:300]!r}"


class Tally:
    """Thread-safe counts of requests and answers, by label."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter = collections.Counter()

    def add(self, *labels: str) -> None:
        with self._lock:
            for label in labels:
                self.counts[label] += 1

    def __getitem__(self, label: str) -> int:
        with self._lock:
            return self.counts[label]


def strict_json(body: bytes) -> Any:
    """Parses JSON, refusing NaN/Infinity (not valid JSON)."""

    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(body, parse_constant=refuse)


def quote(value: str | bytes) -> str:
    """Percent-encodes every byte but unreserved ones (UTF-8 for text)."""
    return urllib.parse.quote(value, safe="")


def query(pairs: Iterable[tuple[str | bytes, str | bytes]]) -> str:
    """`name=value&...` with both sides percent-encoded, order and repeats kept."""
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)


def get_raw(base: str, target: str, timeout: float = 60.0) -> Answer:
    """GET `target` (path and query, already encoded) below the URL `base`."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(
        parsed.hostname, parsed.port, timeout=timeout
    )
    try:
        connection.request("GET", parsed.path + target)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return Answer(target, response.status, response.headers, body)


def get(base: str, route: str, pairs=(), timeout: float = 60.0) -> Answer:
    """GET a plugin route with the query `pairs` (a dict or (name, value) list)."""
    if isinstance(pairs, dict):
        pairs = list(pairs.items())
    text = query((k, str(v) if isinstance(v, int) else v) for k, v in pairs)
    return get_raw(base, f"{ROOT}/{route}" + (f"?{text}" if text else ""), timeout)


def check_answer(answer: Answer) -> None:
    """What every answer of the plugin must be: no 5xx; 4xx are JSON errors.

    Raises:
      AssertionError: otherwise, naming the request.
    """
    assert answer.status < 500, answer
    if answer.status >= 400:
        assert answer.content_type == JSON_TYPE, answer
        error = answer.json()
        assert isinstance(error, dict) and set(error) == {"error"}, answer
        assert isinstance(error["error"], str) and error["error"], answer
    elif answer.status == 200:
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", answer
