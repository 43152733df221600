"""Where `GradientLogger` writes: a `tf.summary` writer on TensorFlow, or the
TensorFlow-free event writer (`events`) on Keras's JAX and PyTorch backends.

Both write the same records (`tb_rnngrad.records`) as the same summaries (the
TF ops and their NumPy `*_pb` twins write identical bytes), into a new event
file in one directory, and can tell whether that file was removed while open.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from tb_rnngrad.events import EventWriter, add_records
from tb_rnngrad.records import Record


class EventFileWriter:
    """Writes records through `events.EventWriter` (a local directory).

    Args:
        path: The directory, created if missing.

    Raises:
        OSError: If the directory or the file cannot be created.
    """

    errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, path: str) -> None:
        self._events = EventWriter(path)
        self.event_file: str | None = self._events.path

    def write(self, found: Iterable[Record], step: int) -> None:
        """Writes the records at `step` and flushes."""
        add_records(self._events.add_summary, found, step)
        self._events.flush()

    def gone(self) -> bool:
        """Whether the event file was removed while open."""
        return not os.path.exists(self._events.path)

    def close(self) -> None:
        self._events.flush()
        self._events.close()


class SummaryFileWriter:
    """Writes records through `tf.summary.create_file_writer` (any
    `tf.io.gfile` path), as the summaries the NumPy twins of the TF ops build.

    Args:
        path: The directory, created if missing.

    Raises:
        OSError: If the directory cannot be created.
    """

    def __init__(self, path: str) -> None:
        import tensorflow as tf

        self._tf = tf
        self.errors = (OSError, tf.errors.OpError)
        self._path = path
        try:
            tf.io.gfile.makedirs(path)
            before = set(tf.io.gfile.listdir(path))
            self._writer = tf.summary.create_file_writer(path)
            created = [
                name
                for name in tf.io.gfile.listdir(path)
                if name not in before and name.startswith("events.out.tfevents.")
            ]
        except tf.errors.OpError as error:
            raise OSError(str(error)) from error
        # Another writer starting in the same instant makes it ambiguous.
        self.event_file = os.path.join(path, created[0]) if len(created) == 1 else None

    def write(self, found: Iterable[Record], step: int) -> None:
        """Writes the records at `step` and flushes.

        Each summary is built by the NumPy twins of the TF ops, which write the
        same bytes (a test pins them), and written as one event through the
        writer: a few milliseconds a record, where the TF ops' eager calls
        cost about ten times as much.
        """
        with self._writer.as_default(step=step):
            add_records(self._write_raw, found, step)
        self._writer.flush()

    def _write_raw(self, proto: Any, step: int) -> None:
        """Writes one `Summary` through the default writer, as one event."""
        self._tf.summary.experimental.write_raw_pb(proto.SerializeToString(), step=step)

    def gone(self) -> bool:
        """Whether the event file (or the directory) was removed while open."""
        return not self._tf.io.gfile.exists(self.event_file or self._path)

    def close(self) -> None:
        self._writer.flush()
        self._writer.close()


def open_writer(path: str, tensorflow: bool) -> Any:
    """A `SummaryFileWriter` if `tensorflow`, else an `EventFileWriter`."""
    return SummaryFileWriter(path) if tensorflow else EventFileWriter(path)
