"""A log directory of good series beside corrupt and hostile ones.

`write(root)` writes it with TensorBoard's own `EventFileWriter` and protos
(no TensorFlow op), and records what was stored:

- run `GOOD_RUN`, `UNICODE_RUN`: ordinary series written by the NumPy twin
  (`gradients_pb`), one event per value as the TF op writes them;
- run `HOSTILE_RUN`: the good series "ok" beside series whose metadata, blobs
  or profile are broken (`UNREADABLE`, `BAD_BLOBS`, `BAD_PROFILES`, ...);
- runs `TRUNCATED_RUN` (the last record cut in half), `APPENDED_RUN` (random
  bytes after the last record), `GARBAGE_RUN` (an events file of random
  bytes) and `EMPTY_RUN` (an empty events file).

`STORED[(run, tag)][step]` holds the blobs (tensor, mask) of every step that a
reader must serve byte for byte; `READABLE` the series it must serve in full.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterable

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.summary.writer import event_file_writer
from tensorboard.util import tensor_util

from tb_rnngrad.format import metadata, npy_format
from tb_rnngrad.format.layer_info import LayerInfo
from tb_rnngrad.proto import plugin_data_pb2
from tb_rnngrad.summary import pb as summary_pb

GOOD_RUN = "good"
UNICODE_RUN = "évál ü 😀"
HOSTILE_RUN = "hostile"
TRUNCATED_RUN = "truncated"
APPENDED_RUN = "appended"
GARBAGE_RUN = "garbage_only"
EMPTY_RUN = "empty_file"
LAYER = LayerInfo(name="lstm", layer_class="LSTM", units=4)

#: Series whose metadata is unreadable: listed as {"error": "unreadable: ..."}.
UNREADABLE = ("garbage_meta", "future")
#: Series with readable metadata whose blob is not what tb-rnngrad writes.
NPY_PROBLEMS = ("not_npy", "npy_truncated", "npy_pickle", "npy_fortran")
#: Blob sequences that are not a list of byte strings (the Rust data server
#: drops them; the Python multiplexer lists them).
NOT_BYTES = ("float_blob", "scalar_blob")
#: Good full tensors whose profile companion is broken.
BAD_PROFILES = ("prof_rank", "prof_rank3", "prof_string", "prof_garbage_meta")
#: Other edge cases that are not errors.
EDGE = ("shape_mismatch", "empty_blobs", "prof_int")


def wall_time(step: int) -> float:
    return 1.7e9 + 3.5 * step


def gradients(seed: int, shape, dtype=np.float32) -> np.ndarray:
    """Deterministic data with a NaN, +Inf, -Inf and -0.0 in it."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape).astype(dtype)
    flat = data.reshape(-1)
    flat[1], flat[2], flat[3], flat[0] = np.nan, np.inf, -np.inf, -0.0
    return data


def mask(shape) -> np.ndarray:
    values = np.ones(shape, bool)
    values[0, : shape[1] // 2] = False
    return values


#: Good series: {(run, tag): {step: (data, mask or None)}}.
GOOD = {
    (GOOD_RUN, "gradients/lstm"): {
        s: (gradients(s, (3, 6, 4)), mask((3, 6))) for s in (0, 1, 2, 5, 9)
    },
    (GOOD_RUN, "gradients/last"): {
        s: (gradients(10 + s, (3, 4), np.float64), None) for s in range(4)
    },
    (UNICODE_RUN, "grads/ü <b>"): {
        s: (gradients(20 + s, (2, 3, 2), np.float16), None) for s in range(3)
    },
    (HOSTILE_RUN, "ok"): {s: (gradients(30 + s, (2, 3, 4)), None) for s in range(3)},
    (TRUNCATED_RUN, "gradients/x"): {
        s: (gradients(40 + s, (2, 3, 4)), None) for s in range(4)
    },
    (APPENDED_RUN, "gradients/x"): {
        s: (gradients(50 + s, (2, 3, 4)), None) for s in range(5)
    },
}
#: The step of TRUNCATED_RUN whose last record is cut: it must not be served.
TRUNCATED_STEP = 4

READABLE = tuple(GOOD)
#: {(run, tag): {step: [blob bytes, ...]}} that the `tensor`/`mask` routes serve.
STORED: dict[tuple[str, str], dict[int, list[bytes]]] = {
    key: {
        step: [npy_format.encode(d)] + ([] if m is None else [npy_format.encode(m)])
        for step, (d, m) in by_step.items()
    }
    for key, by_step in GOOD.items()
}


def _content(**overrides) -> bytes:
    fields = dict(
        kind="gradients",
        content=plugin_data_pb2.FULL_TENSOR,
        layer=LAYER,
        shape=(2, 3, 4),
        dtype="float32",
        has_mask=False,
        reach_threshold=0.01,
    )
    fields.update(overrides)
    return metadata.create_plugin_data(**fields).SerializeToString()


def _value(tag: str, plugin: str, content: bytes, tensor, data_class) -> summary_pb2:
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=tag,
        metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name=plugin, content=content
            ),
            data_class=data_class,
        ),
        tensor=tensor,
    )
    return summary


def blob_summary(tag: str, content: bytes, blobs: list[bytes]) -> summary_pb2.Summary:
    """A full-tensor value with any metadata content and blobs."""
    return _value(
        tag,
        metadata.PLUGIN_NAME,
        content,
        tensor_util.make_tensor_proto(blobs, dtype=np.object_),
        summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


def profile_summary(tag: str, content: bytes, array: np.ndarray) -> summary_pb2.Summary:
    """A profile value (`<tag>/profile`) holding any array."""
    dtype = np.object_ if array.dtype == object else None
    return _value(
        metadata.profile_tag(tag),
        metadata.PROFILE_PLUGIN_NAME,
        content,
        tensor_util.make_tensor_proto(array, dtype=dtype),
        summary_pb2.DATA_CLASS_TENSOR,
    )


def _good_events(key) -> list[tuple[int, summary_pb2.Summary]]:
    run, tag = key
    events = []
    for step, (data, mask_) in GOOD[key].items():
        summary = summary_pb.gradients_pb(
            tag, data, layer=LAYER, mask=mask_, description=f"*{tag}*"
        )
        events += [(step, summary_pb2.Summary(value=[v])) for v in summary.value]
    return events


def _npy_header(descr: str, shape, fortran: bool = False) -> bytes:
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {shape}, }}"
    text = text.encode("latin1")
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    return npy_format.MAGIC + len(text).to_bytes(2, "little") + text


#: The tensor of the hostile series whose blob itself is fine.
HOSTILE_DATA = gradients(99, (2, 3, 4))
_BLOB = npy_format.encode(HOSTILE_DATA)
#: {tag: blob} of the hostile series whose step 0 holds one byte string.
HOSTILE_BLOBS = {
    "garbage_meta": _BLOB,
    "future": _BLOB,
    "not_npy": b"not an npy file",
    "npy_truncated": _BLOB[:-5],
    "npy_pickle": _npy_header("|O", (2,)),
    "npy_fortran": _npy_header("<f4", (2, 3, 4), True) + HOSTILE_DATA.tobytes("F"),
    "shape_mismatch": npy_format.encode(np.ones((1, 2), np.float32)),
    **{tag: _BLOB for tag in BAD_PROFILES + ("prof_int",)},
}


def _hostile_events() -> list[tuple[int, summary_pb2.Summary]]:
    future = plugin_data_pb2.RnnGradPluginData(version=metadata.PROTO_VERSION + 98)
    contents = {
        "garbage_meta": b"\xff\xff\xff\x00garbage",
        "future": future.SerializeToString(),
        "shape_mismatch": _content(shape=(9, 9, 9)),
    }
    events = [
        (0, blob_summary(tag, contents.get(tag) or _content(), [HOSTILE_BLOBS[tag]]))
        for tag in UNREADABLE + NPY_PROBLEMS + ("shape_mismatch",)
    ]
    events += [
        (
            0,
            _value(
                "float_blob",
                metadata.PLUGIN_NAME,
                _content(),
                tensor_util.make_tensor_proto(np.zeros((2, 2), np.float32)),
                summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
            ),
        ),
        (
            0,
            _value(
                "scalar_blob",
                metadata.PLUGIN_NAME,
                _content(),
                tensor_util.make_tensor_proto(_BLOB, dtype=np.object_),
                summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
            ),
        ),
        (0, blob_summary("empty_blobs", _content(), [])),
    ]
    profile_content = _content(content=plugin_data_pb2.PROFILE)
    bad_profiles = {
        "prof_int": (profile_content, np.arange(9, dtype=np.int32).reshape(3, 3)),
        "prof_rank": (profile_content, np.ones(3, np.float32)),
        "prof_rank3": (profile_content, np.ones((3, 3, 1), np.float32)),
        "prof_string": (profile_content, np.array([b"x", b"y"], dtype=object)),
        "prof_garbage_meta": (b"\xff\xff", np.ones((3, 3), np.float32)),
    }
    for tag, (content, array) in bad_profiles.items():
        events.append((0, blob_summary(tag, _content(), [_BLOB])))
        events.append((0, profile_summary(tag, content, array)))
    return events


def write_run(root: str, run: str, events: Iterable) -> str:
    """Writes `[(step, summary)]` to a new events file; returns its path."""
    writer = event_file_writer.EventFileWriter(os.path.join(root, run))
    for step, summary in events:
        writer.add_event(
            event_pb2.Event(step=step, wall_time=wall_time(step), summary=summary)
        )
    writer.close()
    return _only_file(os.path.join(root, run))


def _only_file(directory: str) -> str:
    [name] = os.listdir(directory)
    return os.path.join(directory, name)


def write(root: str) -> None:
    """Writes the whole log directory under `root`."""
    rng = np.random.default_rng(7)
    for run in (GOOD_RUN, UNICODE_RUN):
        events = [e for key in GOOD if key[0] == run for e in _good_events(key)]
        write_run(root, run, sorted(events, key=lambda e: e[0]))
    write_run(root, HOSTILE_RUN, _good_events((HOSTILE_RUN, "ok")) + _hostile_events())

    # A record cut in half: everything before it stays readable.
    path = write_run(root, TRUNCATED_RUN, _good_events((TRUNCATED_RUN, "gradients/x")))
    intact = os.path.getsize(path)
    extra = gradients(TRUNCATED_STEP, (2, 3, 4))
    summary = summary_pb.gradients_pb("gradients/x", extra)
    event = event_pb2.Event(
        step=TRUNCATED_STEP, wall_time=wall_time(TRUNCATED_STEP), summary=summary
    )
    with open(path, "ab") as file:
        record = _record(event.SerializeToString())
        file.write(record[: len(record) // 2])
    assert os.path.getsize(path) > intact

    path = write_run(root, APPENDED_RUN, _good_events((APPENDED_RUN, "gradients/x")))
    with open(path, "ab") as file:
        file.write(rng.bytes(4000))

    os.makedirs(os.path.join(root, GARBAGE_RUN))
    with open(
        os.path.join(root, GARBAGE_RUN, "events.out.tfevents.1.garbage"), "wb"
    ) as f:
        f.write(rng.bytes(4000))
    os.makedirs(os.path.join(root, EMPTY_RUN))
    open(os.path.join(root, EMPTY_RUN, "events.out.tfevents.1.empty"), "wb").close()


def _record(data: bytes) -> bytes:
    """A TFRecord (length, masked CRCs) as `EventFileWriter` writes it."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def load(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)
