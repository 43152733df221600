"""Shared fixtures: real event files, TensorBoard's own data providers, and
one headless Chromium per module for tests marked `browser`.

A test marked `browser` is skipped when no browser can be launched, and fails
instead when CI=true: a CI run must not pass without its browser tests.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Mapping  # noqa: E402

import pytest  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.summary.writer import event_file_writer  # noqa: E402

from testkit.chromium import browser_problem, launch  # noqa: E402
from testkit.providers import PROVIDER_KINDS  # noqa: E402


@pytest.fixture(params=PROVIDER_KINDS)
def provider_kind(request) -> str:
    return request.param


@pytest.fixture
def write_pb_events():
    """Returns `write(logdir, [(step, wall_time, summary), ...])`."""
    writers = []

    def write(logdir: str, records) -> None:
        writer = event_file_writer.EventFileWriter(logdir)
        writers.append(writer)
        for step, wall_time, summary in records:
            writer.add_event(
                event_pb2.Event(step=step, wall_time=wall_time, summary=summary)
            )
        writer.flush()

    yield write
    for writer in writers:
        writer.close()


@pytest.fixture
def ctx():
    from tensorboard import context

    return context.RequestContext()


def on_ci(environ: Mapping[str, str]) -> bool:
    """Whether `environ` says this is a CI run (CI=true, as CI services set)."""
    return environ.get("CI", "").lower() in ("true", "1")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None:
        return
    problem = browser_problem()
    if problem is None:
        return
    if on_ci(os.environ):
        pytest.fail(f"{problem} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()
