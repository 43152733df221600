"""Shared fixtures: real event files and TensorBoard's own data providers."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.summary.writer import event_file_writer  # noqa: E402

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
