"""Opening a log directory for the commands, and their user-facing error."""

from __future__ import annotations

import os
import sys
import types

from tb_rnngrad import versions


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def open_logdir(logdir: str, keep_all_tensors: bool = False):
    """The `LogdirReader` of `logdir`.

    Raises:
      CliError: `logdir` is a local path that does not exist.
    """
    remote = "://" in logdir
    if not remote and not os.path.isdir(logdir):
        raise CliError(f"log directory {logdir!r} does not exist")
    if remote:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TF loads
    else:
        _read_without_tensorflow()
    from tb_rnngrad.server.logdir import LogdirReader

    return LogdirReader(logdir, keep_all_tensors=keep_all_tensors)


def _read_without_tensorflow() -> None:
    """Where TensorBoard's multiplexer reads a local directory (see
    `LogdirReader`), makes it read with its own stub, as its `no_tensorflow`
    build does, so that the command does not load TensorFlow (seconds of
    start-up and its console lines). Not done once TensorFlow is imported:
    TensorBoard would then also take the stub for its summary ops, which
    that process may still use."""
    if "tensorflow" not in sys.modules:
        versions.check(
            "tensorboard",
            "tb-rnngrad's CLI stubs TensorBoard's private `tensorboard.compat.notf`",
        )
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("notf"))
