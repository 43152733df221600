"""The translate demo's outcome: held-out accuracy of greedy decoding against
chance, a verdict, and `<logdir>/outcome.json`."""

from __future__ import annotations

import dataclasses
import json
import os

from demo.outcome import OUTCOME_FILE, earlier

LEARNED_FROM = 0.9  # token accuracy
NOT_LEARNED_BELOW = 2.0  # times chance


@dataclasses.dataclass(frozen=True)
class TranslateOutcome:
    """One run's training losses per epoch and held-out figures."""

    run: str
    train_losses: list[float]
    final_loss: float  # held-out, teacher forced
    token_accuracy: float  # held-out, greedy
    sequence_accuracy: float
    chance: float  # token accuracy of a uniform guess
    length: int  # tokens per sequence: source positions and target steps
    logged_steps: list[int]
    reach: dict[str, int]  # "<kind>/<key>" -> reach after training, on the probe

    @property
    def verdict(self) -> str:
        """ "learned", "did not learn", or "partly" in between."""
        if self.token_accuracy >= LEARNED_FROM:
            return "learned"
        if self.token_accuracy < NOT_LEARNED_BELOW * self.chance:
            return "did not learn"
        return "partly"

    def report(self) -> str:
        """Lines for the terminal: the held-out figures and the verdict."""
        return "\n".join(
            [
                f"Held-out token accuracy (greedy decoding): "
                f"{self.token_accuracy:.4f} (chance {self.chance:.4f})",
                f"Held-out sequences reversed without a mistake: "
                f"{self.sequence_accuracy:.4f}",
                f"Held-out loss (teacher forced): {self.final_loss:.4f}",
                "After training, on the probe batch, the gradient reaches back "
                "(to 1% of its peak):",
                *(
                    f"  {tag}: {lag} of {self.length - 1} steps back"
                    for tag, lag in self.reach.items()
                ),
                f"Verdict: {self.verdict} (learned: token accuracy >= {LEARNED_FROM})",
            ]
        )


def write(logdir: str, found: TranslateOutcome) -> str:
    """Adds the run to `<logdir>/outcome.json` (other runs kept); returns it."""
    path = os.path.join(logdir, OUTCOME_FILE)
    content = earlier(path)
    content[found.run] = dataclasses.asdict(found) | {"verdict": found.verdict}
    del content[found.run]["run"]
    with open(path, "w", encoding="utf-8") as file:
        json.dump(content, file, indent=2)
    return path
