"""Opens a log directory through TensorBoard's own data provider code."""

from __future__ import annotations

import logging

from tensorboard import context, program
from tensorboard.backend.event_processing import data_ingester
from tensorboard.plugins.core import core_plugin

from tb_rnngrad import versions
from tb_rnngrad.format import metadata
from tb_rnngrad.server.loader import RnnGradLoader
from tb_rnngrad.server.reader import Reader


class LogdirReader:
    """A `Reader` over a local log directory, loaded once.

    Uses TensorBoard's multiplexer data provider (what `tensorboard
    --load_fast=false` uses), with this plugin's retention defaults.

    Args:
      logdir: Path of the log directory (anything `tf.io.gfile` reads).
      keep_all_tensors: Keep every full tensor instead of the plugin's default
        sample (needed to export all steps).
    """

    def __init__(self, logdir: str, *, keep_all_tensors: bool = False) -> None:
        versions.check(
            "tensorboard",
            "tb-rnngrad's CLI reads logs through TensorBoard's undocumented "
            "`program.TensorBoard` flags and `data_ingester`",
        )
        tensorboard = program.TensorBoard(
            plugins=[core_plugin.CorePluginLoader, RnnGradLoader]
        )
        tensorboard.configure(logdir=logdir, reload_interval=0)
        flags = tensorboard.flags
        flags.reload_task = "blocking"
        if keep_all_tensors:
            flags.samples_per_plugin[metadata.PLUGIN_NAME] = 0
        logging.getLogger("tensorboard").setLevel(logging.ERROR)
        ingester = data_ingester.LocalDataIngester(flags)
        ingester.start()
        self.reader = Reader(ingester.data_provider)
        self.ctx = context.RequestContext()
        self.experiment_id = ""
