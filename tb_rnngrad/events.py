"""A synchronous event-file writer for a local directory, without TensorFlow,
and `add_records`, which writes capture records through any `add_summary`.

TensorBoard's `EventFileWriter` (which torch's SummaryWriter wraps) opens its
file through `tensorboard.compat.tf`, which imports TensorFlow whenever it is
installed. This writes the same records (the TFRecord framing of TensorBoard's
`RecordWriter`: length, masked CRC-32C of the length, data, masked CRC-32C of
the data) to a file opened with `open`, with the CRCs of `crc32c`, in NumPy,
hundreds of times faster than TensorBoard's pure-Python loop.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from collections.abc import Callable, Iterable

from tensorboard.compat.proto import event_pb2, summary_pb2

from tb_rnngrad.crc32c import masked_crc32c
from tb_rnngrad.records import Record
from tb_rnngrad.summary.pb import write_pb

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
        self._file = open(self.path, "wb")
        self.add_event(
            event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
        )
        self.flush()

    def add_event(self, event: event_pb2.Event) -> None:
        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self._file.write(
            header
            + struct.pack("<I", masked_crc32c(header))
            + data
            + struct.pack("<I", masked_crc32c(data))
        )

    def add_summary(self, summary: summary_pb2.Summary, global_step: int) -> None:
        """Writes `summary` as one event at `global_step`."""
        self.add_event(
            event_pb2.Event(step=global_step, wall_time=time.time(), summary=summary)
        )

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def add_records(
    add_summary: Callable[[summary_pb2.Summary, int], None],
    found: Iterable[Record],
    step: int,
) -> None:
    """Writes each record as the NumPy `write_pb` summary, one event per
    summary value (as the TF op writes them), at `step`.

    Args:
        add_summary: `add_summary(summary, global_step)` of a writer.
        found: The records to write (`tb_rnngrad.records.records`).
        step: The step.
    """
    for record in found:
        summary = write_pb(
            record.kind,
            record.tag,
            record.data,
            layer=record.layer,
            mask=record.mask,
            description=record.description,
            weights=record.weights,
            gates=record.gates,
            reduction=record.reduction,
        )
        for value in summary.value:
            add_summary(summary_pb2.Summary(value=[value]), int(step))
