"""What the reader hands out: a series' description, its steps and profiles.

Plain data, NumPy only; `reader.Reader` builds them from a data provider.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tb_rnngrad.format import stats

#: `downsample` that asks a provider for every retained point: retention is
#: set by `--samples_per_plugin`, the routes serve all that is kept.
ALL_RETAINED = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """Metadata of one full-tensor series (one run, one tag)."""

    run: str
    tag: str
    kind: str
    layer_name: str
    layer_class: str
    units: int
    bidirectional: bool
    merge_mode: str
    direction: str
    shape: tuple[int, ...]
    dtype: str
    description: str
    max_step: int
    has_mask: bool
    reach_threshold: float
    version: int
    weights: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    call_timesteps: tuple[int, ...] = ()
    #: Wall time of the newest datum (with `max_step`, the series' version).
    max_wall_time: float = 0.0
    #: A reduced series (`format.reduction`): the captured shape and dtype and
    #: the timestep pooling; () / "" / 0 for a tensor stored as captured.
    captured_shape: tuple[int, ...] = ()
    captured_dtype: str = ""
    timestep_pool: int = 0

    @property
    def reduced(self) -> bool:
        """Whether the stored tensor is reduced (then a reduction index
        blob ends each step's blob sequence)."""
        return bool(self.captured_shape)

    @property
    def index_position(self) -> int:
        """Position of the reduction index in a step's blob sequence."""
        return 2 if self.has_mask else 1


@dataclasses.dataclass(frozen=True)
class UnreadableSeries:
    """A series whose metadata is corrupt or of a newer format version."""

    run: str
    tag: str
    reason: str


@dataclasses.dataclass(frozen=True)
class StepInfo:
    """A retained step of a full-tensor series."""

    step: int
    wall_time: float


@dataclasses.dataclass(frozen=True)
class ProfileSeries:
    """The profile companion of a full-tensor series, without its data."""

    run: str
    tag: str
    max_step: int
    max_wall_time: float
    reach_threshold: float
    has_mask: bool = False


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Every retained per-timestep profile of a series, in step order.

    Attributes:
      run: Run name.
      tag: Tag of the full tensor (the profile's tag is `<tag>/profile`).
      steps: Steps, increasing.
      wall_times: Wall time of each step, in seconds.
      arrays: float32 (3, timesteps) per step: L2 norm, NaN count, Inf count.
      reach_threshold: Relative threshold of the reach (`stats.reach`).
      end_norms: Per step, the end-aligned profile (`stats.end_profile`) of a
        masked series, or None (no mask, or logged before it was written).
    """

    run: str
    tag: str
    steps: list[int]
    wall_times: list[float]
    arrays: list[np.ndarray]
    reach_threshold: float
    end_norms: list[np.ndarray | None] | None = None

    def reach(self) -> list[int]:
        """Gradient reach (`stats.reach`) of each step: counted from each
        sample's last valid timestep where the end-aligned profile is kept,
        else from the last timestep."""
        ends = self.end_norms or [None] * len(self.arrays)
        return [
            stats.reach(a[0] if end is None else end, self.reach_threshold)
            for a, end in zip(self.arrays, ends, strict=True)
        ]


def float32_value(value: float) -> float:
    """A float32 field as the shortest decimal that round-trips in float32."""
    return float(str(np.float32(value))) if math.isfinite(value) else 0.0


def wall_time(value: float) -> float:
    """A stored wall time; non-finite (corrupt) values read as 0."""
    return float(value) if math.isfinite(value) else 0.0


def series_label(run: str, tag: str) -> str:
    """How messages name a series: "run 'a', tag 'b'"."""
    return f"run {run!r}, tag {tag!r}"
