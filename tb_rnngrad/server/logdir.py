"""Opens a log directory through TensorBoard's own data provider code."""

from __future__ import annotations

import logging
from typing import Any

from tensorboard import context

from tb_rnngrad import versions
from tb_rnngrad.format import metadata
from tb_rnngrad.server import data_server
from tb_rnngrad.server.loader import RnnGradLoader, retention, samples_flag
from tb_rnngrad.server.reader import Reader


class LogdirReader:
    """A `Reader` over a local log directory, loaded once.

    A local directory is read by TensorBoard's Rust data server (what
    `tensorboard --load_fast=true` uses, `server.data_server`); a remote one,
    or any where no data server binary runs, by its Python multiplexer (what
    `--load_fast=false` uses). Both with this plugin's retention defaults.

    Args:
      logdir: Path of the log directory (anything `tf.io.gfile` reads).
      keep_all_tensors: Keep every full tensor instead of the plugin's default
        sample (needed to export all steps).
    """

    def __init__(self, logdir: str, *, keep_all_tensors: bool = False) -> None:
        samples = retention()
        if keep_all_tensors:
            samples[metadata.PLUGIN_NAME] = 0
        self._server = None
        if "://" not in logdir:
            self._server = data_server.start(logdir, samples_flag(samples))
        if self._server is not None and not data_server.reads_every_blob(
            self._server.provider, metadata.PLUGIN_NAME
        ):
            self._server.close()
            self._server = None
        if self._server is not None:
            provider = self._server.provider
        else:
            provider = _multiplexer(logdir, samples)
        self.reader = Reader(provider)
        self.ctx = context.RequestContext()
        self.experiment_id = ""

    def close(self) -> None:
        """Stops the data server, if one was started (else nothing to do)."""
        if self._server is not None:
            self._server.close()


def _multiplexer(logdir: str, samples: dict[str, int]) -> Any:
    """TensorBoard's multiplexer data provider over `logdir`, loaded once."""
    from tensorboard import program
    from tensorboard.backend.event_processing import data_ingester
    from tensorboard.plugins.core import core_plugin

    versions.check(
        "tensorboard",
        "tb-rnngrad reads logs through TensorBoard's undocumented "
        "`program.TensorBoard` flags and `data_ingester`",
    )
    tensorboard = program.TensorBoard(
        plugins=[core_plugin.CorePluginLoader, RnnGradLoader]
    )
    tensorboard.configure(logdir=logdir, reload_interval=0)
    flags = tensorboard.flags
    flags.reload_task = "blocking"
    flags.samples_per_plugin.update(samples)
    logging.getLogger("tensorboard").setLevel(logging.ERROR)
    ingester = data_ingester.LocalDataIngester(flags)
    ingester.start()
    return ingester.data_provider
