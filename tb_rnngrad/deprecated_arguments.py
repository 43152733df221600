"""The loggers' argument forms from before their shared signature.

They keep working for one release, each with a DeprecationWarning that names
the new form:

- Keras `GradientLogger(log_dir, data, layers[, every_n_steps])`: `layers`
  was the third positional argument; it is now `layers=`, and the third is
  `every_n_steps`. A third positional int is `every_n_steps` (it used to be
  a layer index).
- PyTorch `GradientLogger(..., probe=...)` is `data=`,
  `log_dir_or_writer=` is `log_dir=`, and `health=` is `on_problem=` (and
  `health_thresholds=`): `health=True` or a `Thresholds` becomes
  `on_problem="warn"`, `health=False` becomes `on_problem=None`.

Imports neither Keras nor torch.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.health.findings import Thresholds


def _deprecated(message: str, stacklevel: int = 3) -> None:
    """Warns at the caller of the logger's constructor: `stacklevel` 3 from
    the wrapper, 4 from a function the wrapper calls."""
    warnings.warn(
        f"{message}. The old form will be removed in the next release.",
        DeprecationWarning,
        stacklevel,
    )


def _move(kwargs: dict, old: str, new: str) -> None:
    """Moves keyword `old` to `new` in place."""
    if new in kwargs:
        raise TypeError(
            f"GradientLogger got both {old}= and {new}=; {old}= is the "
            f"deprecated name of {new}=: pass only {new}=."
        )
    kwargs[new] = kwargs.pop(old)


def keras_arguments(init: Callable) -> Callable:
    """Wraps the Keras logger's `__init__` to accept `layers` as the third
    positional argument (with `every_n_steps` as the fourth)."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        extra = args[2:]
        old_form = len(extra) == 2 or (len(extra) == 1 and not _is_count(extra[0]))
        if old_form:
            kwargs = dict(kwargs)
            for name, value in zip(("layers", "every_n_steps"), extra, strict=False):
                if name in kwargs:
                    raise TypeError(
                        f"GradientLogger got {name} twice, positionally and as "
                        f"{name}=. Pass GradientLogger(log_dir, data, "
                        "every_n_steps, layers=...)."
                    )
                kwargs[name] = value
            _deprecated(
                "GradientLogger(log_dir, data, layers, ...): `layers` as the "
                "third positional argument is deprecated; pass it as layers=... "
                "(the third positional argument is now every_n_steps)"
            )
            args = args[:2]
        init(self, *args, **kwargs)

    return wrapper


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def torch_arguments(init: Callable) -> Callable:
    """Wraps the PyTorch logger's `__init__` to accept `probe=`,
    `log_dir_or_writer=` and `health=`."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs = dict(kwargs)
        for old, new in (("log_dir_or_writer", "log_dir"), ("probe", "data")):
            if old in kwargs:
                _move(kwargs, old, new)
                _deprecated(f"GradientLogger({old}=...) is deprecated; pass {new}=")
        if "health" in kwargs:
            _health(kwargs)
        init(self, *args, **kwargs)

    return wrapper


def _health(kwargs: dict) -> None:
    """Translates `health=` into `on_problem=` and `health_thresholds=`."""
    health = kwargs.pop("health")
    if "on_problem" in kwargs or "health_thresholds" in kwargs:
        raise TypeError(
            "GradientLogger got health= with on_problem= or health_thresholds=; "
            "health= is their deprecated form: pass only on_problem= and "
            "health_thresholds=."
        )
    if not isinstance(health, (bool, Thresholds)):
        raise CaptureError(
            f"health must be True, False or a tb_rnngrad.health.Thresholds; got "
            f"{health!r}. (health= is deprecated: pass on_problem='warn' and "
            "health_thresholds= instead.)"
        )
    kwargs["on_problem"] = None if health is False else "warn"
    if isinstance(health, Thresholds):
        kwargs["health_thresholds"] = health
    given, new = health, "on_problem=None" if health is False else 'on_problem="warn"'
    if isinstance(health, Thresholds):
        given, new = "Thresholds(...)", f"{new} and health_thresholds=..."
    _deprecated(
        f"GradientLogger(health={given}) is deprecated; pass {new} (with "
        "on_problem, step() returns the "
        "findings and each new problem is also a RuntimeWarning)",
        stacklevel=4,
    )
