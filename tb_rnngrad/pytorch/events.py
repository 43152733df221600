"""A synchronous event-file writer for a local directory, without TensorFlow.

TensorBoard's `EventFileWriter` (which torch's SummaryWriter wraps) opens its
file through `tensorboard.compat.tf`, which imports TensorFlow whenever it is
installed. This writes the same records (TensorBoard's `RecordWriter`, the
TFRecord framing with masked CRC-32C) to a file opened with `open`.
"""

from __future__ import annotations

import itertools
import os
import socket
import time

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

_UIDS = itertools.count()


class EventWriter:
    """Writes `Event`s to a new `events.out.tfevents.*` file in `logdir`.

    Args:
        logdir: A local directory, created if missing.

    Raises:
        OSError: If the directory or file cannot be created.
    """

    def __init__(self, logdir: str) -> None:
        os.makedirs(logdir, exist_ok=True)
        host, pid, uid = socket.gethostname(), os.getpid(), next(_UIDS)
        name = f"events.out.tfevents.{int(time.time()):010d}.{host}.{pid}.{uid}"
        self.path = os.path.join(logdir, name)
        self._records = RecordWriter(open(self.path, "wb"))
        self.add_event(
            event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
        )
        self.flush()

    def add_event(self, event: event_pb2.Event) -> None:
        self._records.write(event.SerializeToString())

    def add_summary(self, summary: summary_pb2.Summary, global_step: int) -> None:
        """Writes `summary` as one event at `global_step`."""
        self.add_event(
            event_pb2.Event(step=global_step, wall_time=time.time(), summary=summary)
        )

    def flush(self) -> None:
        self._records.flush()

    def close(self) -> None:
        if not self._records.closed:
            self._records.close()
