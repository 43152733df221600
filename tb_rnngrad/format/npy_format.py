"""The `.npy` bytes stored for each logged tensor: encoding and decoding.

`header` reproduces NumPy's own version 1.0 header so that the TensorFlow op,
which builds the header with string ops, and `encode` agree byte for byte.
`layout` and `slice_sample` read stored blobs back without copying them.
"""

from __future__ import annotations

import io
import math
import sys

import numpy as np

MAGIC = b"\x93NUMPY\x01\x00"
ALIGN = 64
_ORDER = "<" if sys.byteorder == "little" else ">"

#: Stored dtype descriptors; float16/32/64 are stored as logged, int64 is a
#: reduction index (`reduction`).
DESCR = {
    "float16": _ORDER + "f2",
    "float32": _ORDER + "f4",
    "float64": _ORDER + "f8",
    "bool": "|b1",
    "int64": _ORDER + "i8",
}


def header_text(descr: str, shape: tuple[int, ...]) -> str:
    """The header dict text before padding, exactly as NumPy writes it."""
    dims = "".join(f"{d}, " for d in shape).rstrip(" ")
    if len(shape) != 1:
        dims = dims.rstrip(",")
    return f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}"


def header(descr: str, shape: tuple[int, ...]) -> bytes:
    """The complete `.npy` version 1.0 header for a C-ordered array."""
    text = header_text(descr, shape).encode("latin1")
    padding = ALIGN - (len(MAGIC) + 2 + len(text) + 1) % ALIGN
    text += b" " * (padding % ALIGN) + b"\n"
    return MAGIC + len(text).to_bytes(2, "little") + text


def encode(array: np.ndarray) -> bytes:
    """`.npy` bytes of `array` (float16/32/64 or bool), C order."""
    array = np.ascontiguousarray(array)
    descr = DESCR[array.dtype.name]
    return header(descr, array.shape) + array.astype(descr, copy=False).tobytes()


def layout(blob: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """Dtype, shape and data offset of a stored `.npy` blob.

    Raises:
      ValueError: the blob is not a C-ordered `.npy` of a stored dtype whose
        data fills the blob exactly.
    """
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, TypeError, SyntaxError) as error:
        raise ValueError(f"stored tensor is not a readable .npy: {error}") from error
    if fortran_order or dtype.name not in DESCR or not shape:
        raise ValueError(
            f"stored tensor has an unsupported layout: dtype {dtype.str}, "
            f"shape {shape}, fortran_order {fortran_order}"
        )
    offset = stream.tell()
    if offset + math.prod(shape) * dtype.itemsize != len(blob):
        raise ValueError("stored tensor is truncated or has extra bytes")
    return dtype, tuple(shape), offset


def slice_sample(blob: bytes, sample: int) -> bytes:
    """`.npy` of shape (1, ...) holding sample `sample` of the `.npy` `blob`.

    Copies only that sample's bytes.

    Raises:
      ValueError: `sample` is not below the batch size, or the blob is not a
        stored `.npy` (see `layout`).
    """
    dtype, shape, offset = layout(blob)
    batch = shape[0]
    if not 0 <= sample < batch:
        raise ValueError(
            f"no sample {sample}: the batch has {batch} samples (0..{batch - 1})"
        )
    count = math.prod(shape[1:])
    array = np.frombuffer(
        blob, dtype=dtype, count=count, offset=offset + sample * count * dtype.itemsize
    )
    return encode(array.reshape((1, *shape[1:])))
