"""The experiment's outcome: final held-out loss against the baseline."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

OUTCOME_FILE = "outcome.json"
LEARNED_BELOW = 0.25  # of the baseline
NOT_LEARNED_ABOVE = 0.75  # of the baseline


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One run's final held-out loss and the baseline it is judged against."""

    run: str
    final_loss: float
    baseline: float

    @property
    def verdict(self) -> str:
        """ "learned", "did not learn", or "partly" in between."""
        if self.final_loss < LEARNED_BELOW * self.baseline:
            return "learned"
        if self.final_loss > NOT_LEARNED_ABOVE * self.baseline:
            return "did not learn"
        return "partly"


def baseline(train_y: np.ndarray, heldout_y: np.ndarray) -> float:
    """Held-out mse of always predicting the mean training target."""
    return float(np.mean(np.square(heldout_y - train_y.mean())))


def table(
    outcomes: list[Outcome], extra: tuple[str, dict[str, object]] | None = None
) -> str:
    """The outcomes as a fixed-width text table, in the given order.

    `extra`, if given, is one more column: its header and each run's value
    ("-" for a run without one).
    """
    w = max([18] + [len(o.run) + 2 for o in outcomes])
    header, values = extra or ("", {})
    lines = [f"{'run':<{w}}{'held-out loss':>14}{'baseline':>10}  {'verdict':<15}"]
    lines += [
        f"{o.run:<{w}}{o.final_loss:>14.4f}{o.baseline:>10.4f}  {o.verdict:<15}"
        for o in outcomes
    ]
    if extra:
        lines[0] += f"{header:>8}"
        for i, o in enumerate(outcomes, 1):
            value = values.get(o.run)
            lines[i] += f"{'-' if value is None else value:>8}"
    return "\n".join(line.rstrip() for line in lines)


def write(logdir: str, outcomes: list[Outcome]) -> str:
    """Writes `<logdir>/outcome.json`, run -> {final_loss, baseline, verdict}.

    Runs of an earlier demo in the same directory (e.g. the Keras runs, when
    the PyTorch ones are added beside them) are kept; a run of the same name
    is replaced.
    """
    path = os.path.join(logdir, OUTCOME_FILE)
    content = earlier(path)
    content |= {
        o.run: {
            "final_loss": o.final_loss,
            "baseline": o.baseline,
            "verdict": o.verdict,
        }
        for o in outcomes
    }
    with open(path, "w", encoding="utf-8") as file:
        json.dump(content, file, indent=2)
    return path


def earlier(path: str) -> dict:
    """The outcomes already in `path`; {} if there is none or it is not ours."""
    try:
        with open(path, encoding="utf-8") as file:
            found = json.load(file)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
