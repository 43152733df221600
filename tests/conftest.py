"""Shared fixtures: real event files and TensorBoard's own data providers."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import time  # noqa: E402

import pytest  # noqa: E402
from tensorboard import program  # noqa: E402
from tensorboard.backend.event_processing import data_ingester  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.data import server_ingester  # noqa: E402
from tensorboard.plugins.core import core_plugin  # noqa: E402
from tensorboard.summary.writer import event_file_writer  # noqa: E402
from tensorboard.util import grpc_util  # noqa: E402

from tb_rnngrad.loader import RnnGradLoader  # noqa: E402

PROVIDER_KINDS = ("multiplexer", "data_server")


def tensorboard_flags(logdir: str, **overrides):
    """Flags as `tensorboard --logdir logdir` parses them, our defaults applied."""
    tb = program.TensorBoard(plugins=[core_plugin.CorePluginLoader, RnnGradLoader])
    tb.configure(logdir=logdir, reload_interval=0, **overrides)
    return tb.flags


def start_provider(kind: str, logdir: str, samples_per_plugin=None):
    """Starts a data provider over `logdir` the way `tensorboard` does.

    Returns `(provider, ingester)`; the Rust data server is a subprocess.
    """
    flags = tensorboard_flags(logdir)
    if samples_per_plugin is not None:
        flags.samples_per_plugin.update(samples_per_plugin)
    if kind == "multiplexer":
        flags.reload_task = "blocking"
        ingester = data_ingester.LocalDataIngester(flags)
    else:
        ingester = server_ingester.SubprocessServerDataIngester(
            server_binary=server_ingester.get_server_binary(),
            logdir=logdir,
            reload_interval=0,
            channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
            samples_per_plugin=flags.samples_per_plugin,
        )
    ingester.start()
    return ingester.data_provider, ingester


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Polls `predicate` until it returns a truthy value, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


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
