"""What the Keras and the PyTorch `GradientLogger` share: their defaults, the
checks of their common arguments, and the choice of the default kinds.

Imports neither Keras nor torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tb_rnngrad.errors import CaptureError

DEFAULT_EVERY_N_STEPS = 100
DEFAULT_MAX_SAMPLES = 16

DEFAULT_KINDS = ("gradients", "state_gradients")
"""What a logger logs with `kinds=None`: the gradient of each layer's output
and the state gradients, whose time axis shows the gradient horizon even of a
layer that returns only its last output."""

FALLBACK_KINDS = ("gradients",)
"""What `kinds=None` logs where state gradients cannot be captured."""

T = TypeVar("T")


def check_positive_int(
    name: str,
    value: Any,
    allow_none: bool = False,
    error: type[Exception] = ValueError,
) -> None:
    """Raises `error` unless `value` is a positive int (or None, if allowed)."""
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        expected = "a positive int or None" if allow_none else "a positive int"
        raise error(f"{name} must be {expected}; got {value!r}.")


def run_with_kinds(
    kinds: tuple[str, ...] | None,
    run: Callable[[tuple[str, ...]], T],
    note: Callable[[str], None],
) -> tuple[tuple[str, ...], T]:
    """`run(kinds)`; with `kinds=None`, the default kinds where they work.

    With None, runs `DEFAULT_KINDS`; if that raises a CaptureError (state
    gradients cannot be captured for this model, layer or framework), runs
    `FALLBACK_KINDS` and, if that works, calls `note` once with a line saying
    why. If the fallback fails too, its error (which has nothing to do with
    state gradients) propagates.

    Args:
        kinds: The kinds asked for, or None for the defaults.
        run: Captures with the given kinds (validating the setup).
        note: Called with the one-line note of a fallback.

    Returns:
        The kinds used, and what `run` returned.
    """
    if kinds is not None:
        return kinds, run(kinds)
    try:
        return DEFAULT_KINDS, run(DEFAULT_KINDS)
    except CaptureError as error:
        done = run(FALLBACK_KINDS)
        reason = str(error).split(". ")[0].rstrip(".")
        note(
            f"logging {list(FALLBACK_KINDS)} only, not the default "
            f"{list(DEFAULT_KINDS)}: state gradients cannot be captured here "
            f"({reason}). Pass kinds={FALLBACK_KINDS!r} to log gradients "
            "alone without this note"
        )
        return FALLBACK_KINDS, done
