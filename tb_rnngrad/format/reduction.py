"""What a reduced full tensor keeps of what was captured, and how, with NumPy.

A `Reduction` is applied in one fixed order (the TF op does the same with TF
ops, byte for byte; `tests/test_reduction.py` pins both):

1. samples: the first `samples` of the batch (the probe batch is fixed, so
   every logged step shows the same samples);
2. timesteps: groups of `pool` consecutive timesteps (the last may be
   shorter) become one, the value of largest magnitude with its sign; a NaN
   in the group wins, then +-Inf, so pooling never averages a NaN, an Inf or
   a spike away; a pooled mask is True where any timestep of the group is;
3. channels: the `channels` with the largest L2 norm over every captured
   sample and timestep (a channel holding NaN or Inf ranks first; ties go to
   the lower index), kept in their original order;
4. float16: the float32 values times 2**-e, e a power of two chosen per
   logged step so that the largest finite magnitude lands in [2**14, 2**15):
   small gradients keep float16's 11 significant bits instead of flushing to
   zero, and nothing finite overflows. Readers multiply back by 2**e.

Statistics (profiles, reach, NaN/Inf counts) are computed before, on the
whole capture; only the stored tensor is reduced.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Exponent bias of float32, for the exponent read from its bits.
_FLOAT32_BIAS = 126
#: Largest finite magnitude lands in [2**(_TOP - 1), 2**_TOP) in float16.
_TOP = 15


@dataclasses.dataclass(frozen=True)
class Reduction:
    """How to reduce one full tensor (None / 1 / False: not that step).

    Attributes:
      samples: Keep the first this many samples.
      pool: Pool this many consecutive timesteps into one by largest |g|.
      channels: Keep this many channels, those with the largest norm.
      float16: Store as float16 scaled by a power of two.
    """

    samples: int | None = None
    pool: int = 1
    channels: int | None = None
    float16: bool = False

    def __post_init__(self) -> None:
        for name in ("samples", "channels"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(
                    f"Reduction.{name} must be a positive int or None; got {value!r}."
                )
        if isinstance(self.pool, bool) or not isinstance(self.pool, int):
            raise ValueError(f"Reduction.pool must be an int >= 1; got {self.pool!r}.")
        if self.pool < 1:
            raise ValueError(f"Reduction.pool must be an int >= 1; got {self.pool!r}.")

    def is_identity(self) -> bool:
        """Whether this keeps everything as captured."""
        return self == Reduction()


@dataclasses.dataclass(frozen=True)
class Reduced:
    """A reduced tensor, its reduced mask and its reduction index.

    Attributes:
      data: The stored array.
      mask: The stored (samples, pooled timesteps) mask, or None.
      index: int64 (1 + kept channels,): the float16 exponent e (0 if not
        float16), then the original indices of the kept channels when
        channels were reduced.
    """

    data: np.ndarray
    mask: np.ndarray | None
    index: np.ndarray


def effective(reduction: Reduction, shape: tuple[int, ...]) -> Reduction:
    """`reduction` with each step that changes nothing for `shape` dropped.

    Args:
      reduction: The requested reduction.
      shape: (batch, timesteps, channels) or (batch, channels) as captured;
        a (rows, columns) matrix takes `float16` only (see `check_matrix`).
    """
    samples = reduction.samples if reduction.samples is not None else shape[0]
    channels = reduction.channels if reduction.channels is not None else shape[-1]
    pool = reduction.pool if len(shape) == 3 and shape[1] > 1 else 1
    return Reduction(
        samples=samples if samples < shape[0] else None,
        pool=min(pool, shape[1]) if len(shape) == 3 else 1,
        channels=channels if channels < shape[-1] else None,
        float16=reduction.float16,
    )


def resolve(
    reduction: Reduction | None, kind: str, shape: tuple[int, ...], role: str
) -> Reduction | None:
    """The effective reduction a summary call applies, None for none.

    Args:
      reduction: What the caller asked for.
      kind: The summary's kind (for messages).
      shape: The captured shape.
      role: "sequence", "matrix" (float16 only) or "fixed" (no reduction).

    Raises:
      TypeError: `reduction` is not a `Reduction`.
      ValueError: the kind cannot be reduced so.
    """
    if reduction is None:
        return None
    if not isinstance(reduction, Reduction):
        raise TypeError(
            f"reduction must be a tb_rnngrad.format.reduction.Reduction or None; "
            f"got {type(reduction).__name__}."
        )
    if role == "matrix":
        check_matrix(reduction, kind)
        return reduction if reduction.float16 else None
    if role == "fixed":
        if not reduction.is_identity():
            raise ValueError(
                f"{kind} data is small and stored as is: pass no reduction."
            )
        return None
    chosen = effective(reduction, shape)
    return None if chosen.is_identity() else chosen


def check_matrix(reduction: Reduction | None, kind: str) -> None:
    """Raises ValueError unless `reduction` is None or float16 only: a weight
    matrix keeps its rows and gate columns."""
    if reduction is None or reduction in (Reduction(), Reduction(float16=True)):
        return
    raise ValueError(
        f"{kind} data is a weight matrix: its reduction can only be "
        f"Reduction(float16=True); got {reduction}."
    )


def stored_shape(shape: tuple[int, ...], reduction: Reduction) -> tuple[int, ...]:
    """The shape `apply` stores for captured `shape` (an effective reduction)."""
    samples = reduction.samples or shape[0]
    channels = reduction.channels or shape[-1]
    if len(shape) == 3:
        return (samples, -(-shape[1] // reduction.pool), channels)
    return (samples, channels)


def apply(data: np.ndarray, mask: np.ndarray | None, reduction: Reduction) -> Reduced:
    """Reduces `data` (and its mask) as the module docstring says.

    Args:
      data: (batch, timesteps, channels), (batch, channels) or, for float16
        only, a weight matrix; float16/32/64.
      mask: (batch, timesteps) bool or None.
      reduction: An effective reduction (`effective`).

    Returns:
      The stored data, mask and reduction index.
    """
    kept = channel_order(data, reduction.channels)
    stored = data[: reduction.samples] if reduction.samples else data
    if mask is not None and reduction.samples:
        mask = mask[: reduction.samples]
    if reduction.pool > 1:
        stored = pool_timesteps(stored, reduction.pool)
        mask = None if mask is None else pool_mask(mask, reduction.pool)
    if kept is not None:
        stored = np.take(stored, kept, axis=-1)
    exponent = 0
    if reduction.float16:
        stored, exponent = to_float16(stored)
    index = np.array([exponent, *(() if kept is None else kept)], dtype=np.int64)
    return Reduced(np.ascontiguousarray(stored), mask, index)


def channel_scores(data: np.ndarray) -> np.ndarray:
    """Sum of squares of each channel over all other axes, in float64; +Inf
    for a channel holding a NaN or an Inf."""
    axes = tuple(range(data.ndim - 1))
    with np.errstate(invalid="ignore", over="ignore"):
        scores = np.sum(np.square(data.astype(np.float64)), axis=axes)
    return np.where(np.isnan(scores), np.inf, scores)


def channel_order(data: np.ndarray, channels: int | None) -> np.ndarray | None:
    """Indices, increasing, of the `channels` channels of largest norm (ties:
    the lower index); None to keep every channel."""
    if channels is None:
        return None
    ranked = np.argsort(-channel_scores(data), kind="stable")[:channels]
    return np.sort(ranked).astype(np.int64)


def pool_timesteps(data: np.ndarray, pool: int) -> np.ndarray:
    """(batch, ceil(T / pool), channels): each group's value of largest
    magnitude, with its sign (+ on a tie; zero as +0); NaN if the group
    holds one."""
    batch, timesteps, channels = data.shape
    groups = -(-timesteps // pool)
    padded = np.zeros((batch, groups * pool, channels), data.dtype)
    padded[:, :timesteps] = data
    grouped = padded.reshape(batch, groups, pool, channels)
    has_nan = np.isnan(grouped).any(axis=2)
    finite_or_inf = np.where(np.isnan(grouped), 0, grouped)
    high = finite_or_inf.max(axis=2)
    low = finite_or_inf.min(axis=2)
    pooled = np.where(high >= -low, high, low)
    pooled = np.where(pooled == 0, np.array(0, data.dtype), pooled)  # no -0
    return np.where(has_nan, np.array(np.nan, data.dtype), pooled)


def pool_mask(mask: np.ndarray, pool: int) -> np.ndarray:
    """(batch, ceil(T / pool)): True where any timestep of the group is."""
    batch, timesteps = mask.shape
    groups = -(-timesteps // pool)
    padded = np.zeros((batch, groups * pool), bool)
    padded[:, :timesteps] = mask
    return padded.reshape(batch, groups, pool).any(axis=2)


def float16_exponent(data: np.ndarray) -> int:
    """e such that the largest finite |value| times 2**-e is in [2**14,
    2**15) (read from float32 exponent bits; 0 when nothing finite is
    non-zero)."""
    values = np.asarray(data, np.float32)
    finite = np.abs(np.where(np.isfinite(values), values, np.float32(0)))
    peak = finite.max(initial=np.float32(0))
    if peak == 0:
        return 0
    bits = int(np.array(peak, np.float32).view(np.int32))
    biased = max((bits >> 23) & 0xFF, 1)
    return biased - _FLOAT32_BIAS - _TOP


def to_float16(data: np.ndarray) -> tuple[np.ndarray, int]:
    """(float16 of float32(data) * 2**-e, e); every NaN stored as the one
    quiet NaN 0x7e00. The scale is two exact multiplications by powers of two
    (2**-e alone may not be a float32)."""
    values = np.asarray(data, np.float32)
    exponent = float16_exponent(values)
    first, second = _scale_factors(exponent)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        scaled = values * first * second
        stored = scaled.astype(np.float16)
    return np.where(np.isnan(stored), np.float16(np.nan), stored), exponent


def _scale_factors(exponent: int) -> tuple[np.float32, np.float32]:
    """Two float32 powers of two whose product is 2**-exponent (each within
    float32's normal range for every exponent `float16_exponent` gives)."""
    half = -exponent // 2
    return np.float32(2.0**half), np.float32(2.0 ** (-exponent - half))


def restore(data: np.ndarray, exponent: int) -> np.ndarray:
    """float32 values of stored float16 `data` with float16 `exponent`, exactly
    (float16 times a power of two is a float32 for every exponent the writers
    choose)."""
    first, second = _scale_factors(-exponent)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return data.astype(np.float32) * first * second


def load_index(blob: bytes) -> np.ndarray:
    """The int64 reduction index from its `.npy` blob.

    Raises:
      ValueError: the blob is not a non-empty rank-1 int64 `.npy`.
    """
    from tb_rnngrad.format import npy_format

    dtype, shape, offset = npy_format.layout(blob)
    if dtype.name != "int64" or len(shape) != 1 or shape[0] < 1:
        raise ValueError(
            f"the reduction index is not a rank-1 int64 array (dtype {dtype.name}, "
            f"shape {shape})"
        )
    return np.frombuffer(blob, np.int64, count=shape[0], offset=offset)


def restore_npy(blob: bytes, index: np.ndarray) -> bytes:
    """The float32 `.npy` of a stored float16 `.npy` `blob` times 2**e (e is
    `index[0]`); other blobs unchanged."""
    from tb_rnngrad.format import npy_format

    dtype, shape, offset = npy_format.layout(blob)
    if dtype.name != "float16":
        return blob
    data = np.frombuffer(blob, np.float16, count=int(np.prod(shape)), offset=offset)
    return npy_format.encode(restore(data.reshape(shape), int(index[0])))
