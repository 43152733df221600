"""TensorBoard's own data providers over real log directories, for tests."""

from __future__ import annotations

import time

from tensorboard import program
from tensorboard.backend.event_processing import data_ingester
from tensorboard.data import server_ingester
from tensorboard.plugins.core import core_plugin
from tensorboard.util import grpc_util

from tb_rnngrad.server.loader import RnnGradLoader

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
