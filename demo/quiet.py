"""TensorFlow's start-up lines, kept out of the demo's output.

TensorFlow 2.21 logs "oneDNN custom operations are on ..." (after "All log
messages before absl::InitializeLog() is called are written to STDERR") while
its libraries load, through absl before absl's logging is set up: absl then
writes every message to the process's stderr, whatever TF_CPP_MIN_LOG_LEVEL,
GLOG_minloglevel, ABSL_MIN_LOG_LEVEL or TF_CPP_MAX_VLOG_LEVEL say (each tried:
the lines stay). TF_ENABLE_ONEDNN_OPTS=0 would hide them by changing the
numerics, so instead the demo imports TensorFlow with file descriptor 2
pointed at a temporary file and writes back every other line, and filters
the TensorBoard it starts the same way.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import threading
from typing import IO

#: Text of the lines TensorFlow prints at start-up, whatever the log level.
STARTUP_LINES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
)


def is_startup_line(line: str) -> bool:
    """Whether `line` is one of TensorFlow's start-up lines."""
    return any(text in line for text in STARTUP_LINES)


def import_tensorflow() -> None:
    """Imports TensorFlow (when installed) without its start-up lines; any
    other output of the import, an error's included, still reaches stderr."""
    if importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            for line in text.splitlines(keepends=True):
                if not is_startup_line(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


def forward(stream: IO[str], out: IO[str] | None = None) -> threading.Thread:
    """Copies the lines of a child's `stream` to `out` (default: stderr) but
    the start-up lines, in a daemon thread, which it returns."""

    def copy() -> None:
        target = out or sys.stderr
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                if not is_startup_line(line):
                    target.write(line)
                    target.flush()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread
