"""One tag of many runs side by side: the figures of a sweep's comparison.

The one definition of what the compare view (the `compare` route), `tb-rnngrad
summary --sort` and `tb_rnngrad.viz.compare` show for each run; NumPy only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

import numpy as np

from tb_rnngrad.format import stats

#: Sort keys, each with its default direction (True: largest first).
SORT_KEYS = {
    "run": False,
    "reach": True,
    "max_abs": True,
    "nonfinite": True,
    "last_step": True,
}


@dataclasses.dataclass(frozen=True)
class RunComparison:
    """One run's figures for one tag.

    Attributes:
      run: Run name.
      tag: Full-tensor tag.
      kind: Kind of the series (`metadata.KINDS`).
      steps: Steps with a retained profile, increasing.
      reach: Reach (`stats.reach`; the gradient horizon of the state kinds) at
        each of `steps`; empty when the data has no time axis or no profile.
      max_abs: Largest finite |value| of the latest retained full tensor; None
        when it holds no finite value or could not be read.
      max_abs_step: Step of that tensor; None when there is none.
      nonfinite: NaN and Inf values over every retained profile step.
      last_step: Largest step logged.
    """

    run: str
    tag: str
    kind: str
    steps: tuple[int, ...]
    reach: tuple[int, ...]
    max_abs: float | None
    max_abs_step: int | None
    nonfinite: int
    last_step: int

    @property
    def latest_reach(self) -> int | None:
        """Reach at the last step with a profile, or None."""
        return self.reach[-1] if self.reach else None


def finite_abs_max(data: np.ndarray) -> float | None:
    """Largest |value| over the finite values of `data`, or None if none is."""
    finite = np.abs(data[np.isfinite(data)])
    return float(finite.max()) if finite.size else None


def summarize(
    run: str,
    tag: str,
    *,
    kind: str,
    has_time: bool,
    steps: Sequence[int],
    profiles: Sequence[np.ndarray],
    reach_threshold: float,
    max_abs: float | None,
    max_abs_step: int | None,
    last_step: int,
) -> RunComparison:
    """Builds a run's comparison from its profiles.

    Args:
      run: Run name.
      tag: Full-tensor tag.
      kind: Kind of the series.
      has_time: Whether the data has a time axis (rank 3): without one the
        reach means nothing and is left out.
      steps: Steps of `profiles`, increasing.
      profiles: float32 (3, timesteps) per step: norm, NaN and Inf counts
        (`stats.profile`).
      reach_threshold: Relative threshold of the reach.
      max_abs: `finite_abs_max` of the latest retained full tensor, or None.
      max_abs_step: Step of that tensor, or None.
      last_step: Largest step logged.

    Returns:
      The RunComparison.
    """
    return RunComparison(
        run=run,
        tag=tag,
        kind=kind,
        steps=tuple(int(s) for s in steps),
        reach=_reaches(profiles, reach_threshold) if has_time else (),
        max_abs=max_abs,
        max_abs_step=max_abs_step,
        nonfinite=_nonfinite(profiles),
        last_step=int(last_step),
    )


def _reaches(profiles: Sequence[np.ndarray], threshold: float) -> tuple[int, ...]:
    """`stats.reach` of each profile, a whole run's at once when their lengths
    agree (the usual case)."""
    if len({p.shape[1] for p in profiles}) == 1:
        norms = np.stack([p[0] for p in profiles])
        return tuple(int(r) for r in stats.reach_rows(norms, threshold))
    return tuple(stats.reach(p[0], threshold) for p in profiles)


def _nonfinite(profiles: Sequence[np.ndarray]) -> int:
    """NaN and Inf counts (rows 1 and 2) summed over every profile."""
    if not profiles:
        return 0
    counts = np.concatenate([p[1:].ravel() for p in profiles])
    counts = np.nan_to_num(counts, nan=0.0, posinf=0.0, neginf=0.0)
    return int(counts.astype(np.int64).sum())


def sort_value(row: RunComparison, key: str) -> str | float | None:
    """The value `row` is sorted by under `key` (None: missing, sorted last).

    Raises:
      ValueError: `key` is not one of `SORT_KEYS`.
    """
    if key not in SORT_KEYS:
        raise ValueError(f"sort key must be one of {', '.join(SORT_KEYS)}; got {key!r}")
    if key == "reach":
        return row.latest_reach
    value = getattr(row, key)
    return None if isinstance(value, float) and math.isnan(value) else value


def sort_rows(
    rows: Iterable[RunComparison], key: str, descending: bool | None = None
) -> list[RunComparison]:
    """`rows` sorted by `key`; ties and missing values (last) by run name.

    Args:
      rows: The runs' comparisons.
      key: One of `SORT_KEYS`.
      descending: Largest first; default: the key's own direction
        (`SORT_KEYS`: numbers largest first, run names A to Z).

    Returns:
      A new sorted list.
    """
    if descending is None:
        descending = SORT_KEYS.get(key, False)
    by_run = sorted(rows, key=lambda r: r.run)
    known = [r for r in by_run if sort_value(r, key) is not None]
    missing = [r for r in by_run if sort_value(r, key) is None]
    known.sort(key=lambda r: sort_value(r, key), reverse=descending)
    return known + missing
