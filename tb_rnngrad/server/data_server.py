"""TensorBoard's Rust data server, started for one load of a log directory.

What `tensorboard --load_fast=true` runs, started here with `--reload once`
for the command line: it reads a log directory about ten times faster than
the Python multiplexer (whose record reader checksums every byte in Python),
and answers through the same `DataProvider` interface over gRPC.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import threading
import weakref
from typing import Any

from tb_rnngrad import versions

logger = logging.getLogger(__name__)

#: The data server's log line (with `--verbose`) when a load cycle ends.
_LOADED = "Finished load cycle"
#: Characters JSON escapes in a string.
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')
#: Largest gRPC message read (TensorBoard's own limit for its data server).
_MAX_MESSAGE = 256 * 1024 * 1024


class DataServer:
    """A running data server over one log directory, loaded once.

    Use `start`; `provider` is its `DataProvider`. The server stops with
    `close()`, when this object is collected, or when this process exits.
    """

    def __init__(self, process: subprocess.Popen, port: int) -> None:
        import grpc
        from tensorboard.data import grpc_provider

        address = f"localhost:{port}"
        channel = grpc.insecure_channel(
            address, options=[("grpc.max_receive_message_length", _MAX_MESSAGE)]
        )
        self.provider = grpc_provider.GrpcDataProvider(
            address, grpc_provider.make_stub(channel)
        )
        self._stop = weakref.finalize(self, _stop, process, channel)

    def close(self) -> None:
        """Stops the server."""
        self._stop()


def _stop(process: subprocess.Popen, channel: Any) -> None:
    channel.close()
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdin is not None:
        process.stdin.close()


def start(logdir: str, samples_per_plugin: str) -> DataServer | None:
    """Starts a data server over `logdir` and waits for its one load.

    Args:
      logdir: A local log directory.
      samples_per_plugin: Its `--samples-per-plugin` value.

    Returns:
      The loaded `DataServer`, or None when no data server binary is
      installed for this platform or it stops before loading (the caller
      then reads with the multiplexer).
    """
    binary = _binary()
    if binary is None or not versions.usable(
        "tensorboard",
        "tb-rnngrad starts TensorBoard's data server with --reload once and "
        "waits for its load-cycle log line",
        "reading with TensorBoard's Python multiplexer (slower)",
    ):
        return None
    with tempfile.TemporaryDirectory(prefix="tb_rnngrad_data_server_") as tmp:
        port_file = os.path.join(tmp, "port")
        command = [
            binary,
            f"--logdir={os.path.abspath(logdir)}",
            "--reload=once",
            f"--samples-per-plugin={samples_per_plugin}",
            "--port=0",
            f"--port-file={port_file}",
            "--die-after-stdin",
            "--verbose",
        ]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        if not _wait_for_load(process):
            logger.info("data server stopped before loading %s", logdir)
            process.kill()
            process.communicate()  # and closes its pipes
            return None
        with open(port_file) as f:
            port = int(f.read())
    return DataServer(process, port)


def reads_every_blob(provider: Any, plugin_name: str) -> bool:
    """Whether the data server can read every blob of `plugin_name`.

    Its blob keys are JSON holding the run and tag names, and it fails to
    parse a key whose names JSON escapes (control characters, `"`, `\\`).
    """
    from tensorboard import context

    listing = provider.list_blob_sequences(
        context.RequestContext(), experiment_id="", plugin_name=plugin_name
    )
    names = [run for run in listing] + [
        tag for tags in listing.values() for tag in tags
    ]
    return not any(_ESCAPED.search(name) for name in names)


def _binary() -> str | None:
    try:
        import tensorboard_data_server
    except ImportError:
        return None
    return tensorboard_data_server.server_binary()


def _wait_for_load(process: subprocess.Popen) -> bool:
    """Reads the server's log until its load cycle ends (True), or until it
    exits (False); then drains the log in the background."""
    stream: Any = process.stderr
    for line in stream:
        if _LOADED in line:
            threading.Thread(target=_drain, args=(stream,), daemon=True).start()
            return True
    return False


def _drain(stream: Any) -> None:
    for _ in stream:
        pass
    stream.close()
