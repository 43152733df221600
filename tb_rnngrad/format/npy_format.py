"""The `.npy` bytes stored for each logged tensor (and served unchanged).

`header` reproduces NumPy's own version 1.0 header so that the TensorFlow op,
which builds the header with string ops, and `encode` agree byte for byte.
"""

from __future__ import annotations

import sys

import numpy as np

MAGIC = b"\x93NUMPY\x01\x00"
ALIGN = 64
_ORDER = "<" if sys.byteorder == "little" else ">"

#: Stored dtype descriptors; float16/32/64 are stored as logged.
DESCR = {
    "float16": _ORDER + "f2",
    "float32": _ORDER + "f4",
    "float64": _ORDER + "f8",
    "bool": "|b1",
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
