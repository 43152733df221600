"""`GradientLogger`: capture on a fixed probe batch from a PyTorch training loop
and write the result for TensorBoard's RNN Gradients tab.

It writes the NumPy `*_pb` summaries (one event per summary value) with
`events.EventWriter` into `<directory>/<subdir>`, the directory given or the
local log directory of a `SummaryWriter` given (torch's or tensorboardX's):
a run of its own, as TensorBoard reads only the newest event file of a run
while it is written to. TensorBoard's record writer, which a `SummaryWriter`
writes through, checksums with a pure-Python CRC-32C (about 4 MB/s); this
one, with NumPy, is hundreds of times faster. With `subdir=""`, or a writer
without a local directory (or any object with `add_summary(summary,
global_step)`), the summaries go through the writer. Importing
`torch.utils.tensorboard` (and opening TensorBoard's `EventFileWriter`)
imports TensorFlow when it is installed; the logger itself never does.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

from tensorboard.compat.proto import event_pb2
from torch import nn

from tb_rnngrad import versions
from tb_rnngrad.errors import CaptureError
from tb_rnngrad.events import EventWriter, add_records
from tb_rnngrad.format.budget import DEFAULT_MAX_BYTES
from tb_rnngrad.health.findings import Thresholds
from tb_rnngrad.health.watch import LoggedStep, ProblemWatch
from tb_rnngrad.pytorch import capture_pass as _capture
from tb_rnngrad.pytorch.capture_pass import LossFn
from tb_rnngrad.pytorch.inputs import check_call_inputs
from tb_rnngrad.pytorch.modules import Selector, resolve
from tb_rnngrad.records import ShapeFilter, records
from tb_rnngrad.step_budget import StepBudget, check_max_bytes


class GradientLogger:
    """Logs recurrent-module gradients every `every_n_steps` training steps.

    ```python
    logger = GradientLogger("runs/exp1", model, loss_fn, (x_probe, y_probe))
    for step, (x, y) in enumerate(loader):
        ...  # forward, backward, optimizer.step()
        logger.step(step)
    logger.close()
    ```

    The first `step()` call logs that step and raises if the setup is wrong;
    after it, `step(s)` logs when `s` reaches the next multiple of
    `every_n_steps`. An error while logging after the first step is reported
    once as a RuntimeWarning and logging stops; training goes on.

    Args:
        log_dir_or_writer: A log directory (the logger writes to
            `<dir>/<subdir>`, its own run), or a
            `torch.utils.tensorboard.SummaryWriter` (or tensorboardX's): the
            logger writes to `<writer's log dir>/<subdir>` itself, or through
            the writer with `subdir=""` or a writer without a local log
            directory; or any object with `add_summary(summary,
            global_step)`, written through.
        module: The model.
        loss_fn: Called as `loss_fn(module(inputs), targets)`.
        probe: The fixed batch `(inputs, targets)`, as `capture` takes them;
            every logged step is measured on it.
        every_n_steps: Log every this many steps.
        kinds: Any of `tb_rnngrad.pytorch.KINDS`.
        layers: As for `capture`: None for every recurrent module.
        batch_first: As for `capture`.
        subdir: Subdirectory of the log directory to write to ("" for the
            directory itself, or to write through a writer given).
        max_bytes_per_step: Byte budget of one logged step, all modules and
            kinds together (default 8 MiB; None for no limit); as for the
            Keras `tb_rnngrad.GradientLogger`.
        health: Check each logged step (`tb_rnngrad.health`) and return the
            findings from `step()`: True for the default thresholds, a
            `tb_rnngrad.health.Thresholds`, or False for no check.

    Raises:
        CaptureError: An argument is of the wrong type or range, or `layers`
            names modules `module` does not have.
    """

    def __init__(
        self,
        log_dir_or_writer: str | os.PathLike | Any,
        module: nn.Module,
        loss_fn: LossFn,
        probe: tuple[Any, Any],
        every_n_steps: int = 100,
        *,
        kinds: Sequence[str] = ("gradients",),
        layers: Selector | Sequence[Selector] | None = None,
        batch_first: bool | None = None,
        subdir: str = "rnngrad",
        max_bytes_per_step: int | None = DEFAULT_MAX_BYTES,
        health: bool | Thresholds = True,
    ) -> None:
        self.kinds = _capture.check_kinds(kinds)
        check_max_bytes(max_bytes_per_step, CaptureError)
        if not isinstance(module, nn.Module):
            raise CaptureError(
                f"module must be a torch.nn.Module; got {type(module).__name__}."
            )
        if not callable(loss_fn):
            raise CaptureError(
                f"loss_fn must be callable as loss_fn(outputs, targets); got "
                f"{type(loss_fn).__name__}. Pass e.g. nn.MSELoss()."
            )
        if not isinstance(probe, (tuple, list)) or len(probe) != 2:
            raise CaptureError(
                f"probe must be the pair (inputs, targets); got "
                f"{type(probe).__name__}. Pass e.g. probe=(x[:16], y[:16])."
            )
        check_call_inputs(probe[0])
        if not (isinstance(every_n_steps, int) and every_n_steps > 0):
            raise CaptureError(
                f"every_n_steps must be a positive int; got {every_n_steps!r}."
            )
        resolve(module, layers, self.kinds)  # unknown layers fail here
        self.path, self._writer = _destination(log_dir_or_writer, subdir)
        self._owns_writer = self._writer is None
        self.module, self.loss_fn, self.probe = module, loss_fn, tuple(probe)
        self.layers, self.batch_first = layers, batch_first
        self.every_n_steps = every_n_steps
        self.logged_steps: list[int] = []
        self._next_step: int | None = None  # None until the first step
        self._failed = False
        self._shapes = ShapeFilter(self._warn)
        self.max_bytes_per_step = max_bytes_per_step
        self._budget = StepBudget(max_bytes_per_step, self._warn)
        self._watch = _health_watch(health, self.path)

    def step(self, global_step: int) -> bool | LoggedStep:
        """Logs `global_step` if it is due; call once per training step.

        Returns:
            False when this call did not log; else the findings of the run so
            far (`tb_rnngrad.health.Finding`s, problems first), a list that is
            true (and equal to True) even when empty.

        Raises:
            CaptureError, OSError: On the first call only, if the capture or
                the write fails (later failures warn once and stop logging).
        """
        if self._failed or (
            self._next_step is not None and global_step < self._next_step
        ):
            return False
        if self._next_step is None:
            self.log(global_step)
        else:
            try:
                self.log(global_step)
            except Exception as error:  # any failure: training must go on
                self._failed = True
                self._warn(
                    f"logging step {global_step} failed ({type(error).__name__}: "
                    f"{error}); no more steps are logged, steps already written "
                    "are kept"
                )
                return False
        n = self.every_n_steps
        self._next_step = (global_step // n + 1) * n
        return LoggedStep(self._watch.findings if self._watch else [])

    def log(self, global_step: int) -> None:
        """Captures on the probe batch and writes at `global_step` now;
        errors propagate."""
        found = _capture.result(
            _capture.run(
                self.module, self.loss_fn, self.probe[0], self.probe[1],
                self.layers, self.kinds, self.batch_first,
            )
        )  # fmt: skip
        loggable = (r for r in records(found, self.kinds) if self._shapes.loggable(r))
        add_records(self._adder(), self._budget.apply(loggable), global_step)
        self._flush()
        self.logged_steps.append(int(global_step))
        if self._watch is not None:
            self._watch.check(found, int(global_step))

    def close(self) -> None:
        """Flushes; closes the writer if the logger created it."""
        if self._writer is None:
            return
        self._flush()
        if self._owns_writer:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> GradientLogger:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _adder(self):
        """`add(summary, step)` for the writer, opened on first use."""
        if self._writer is None:
            self._writer = EventWriter(self.path)
        writer = self._writer
        get_file_writer = getattr(writer, "_get_file_writer", None)
        if callable(get_file_writer) and type(writer).__module__.startswith("torch."):
            versions.check(
                "torch",
                "tb-rnngrad writes through a SummaryWriter's private "
                "`_get_file_writer` (pass the log directory instead to avoid it)",
            )
        target = get_file_writer() if callable(get_file_writer) else writer
        if hasattr(target, "add_summary"):
            return target.add_summary
        return lambda summary, step: target.add_event(
            event_pb2.Event(step=step, wall_time=time.time(), summary=summary)
        )

    def _flush(self) -> None:
        flush = getattr(self._writer, "flush", None)
        if callable(flush):
            flush()

    def _warn(self, message: str) -> None:
        where = self.path or type(self._writer).__name__
        warnings.warn(f"GradientLogger ({where}): {message}.", RuntimeWarning, 3)


def _destination(target: Any, subdir: str) -> tuple[str, Any]:
    """(directory, None) to write a file of our own; ("", writer) to write
    through a writer."""
    if not isinstance(subdir, str):
        raise CaptureError(f"subdir must be a string; got {subdir!r}.")
    if isinstance(target, (str, os.PathLike)):
        path = os.fspath(target)
        if not path:
            raise CaptureError(
                "log_dir_or_writer is an empty path. Pass the directory "
                "TensorBoard reads, e.g. 'runs/exp1', or a SummaryWriter."
            )
        return (os.path.join(path, subdir) if subdir else path), None
    path = _local_log_dir(target)
    if path and subdir:
        return os.path.join(path, subdir), None
    usable = (
        hasattr(target, "_get_file_writer")
        or hasattr(target, "add_summary")
        or hasattr(target, "add_event")
    )
    if not usable:
        raise CaptureError(
            f"log_dir_or_writer must be a log directory or a summary writer; got "
            f"{type(target).__name__}. Pass e.g. 'runs/exp1' or "
            "torch.utils.tensorboard.SummaryWriter('runs/exp1')."
        )
    return "", target


def _local_log_dir(writer: Any) -> str:
    """The local directory a SummaryWriter writes to ("" if it has none, or
    if it is a remote path such as gs://...)."""
    get_logdir = getattr(writer, "get_logdir", None)
    path = get_logdir() if callable(get_logdir) else None
    if not isinstance(path, (str, os.PathLike)):
        return ""
    path = os.fspath(path)
    return "" if "://" in path else path


def _health_watch(health: bool | Thresholds, path: str) -> ProblemWatch | None:
    """The logger's health check (`health=`), or None; validates it."""
    if health is False:
        return None
    if health is True:
        return ProblemWatch(f"GradientLogger ({path})", warn=False)
    if isinstance(health, Thresholds):
        return ProblemWatch(f"GradientLogger ({path})", health, warn=False)
    raise CaptureError(
        f"health must be True, False or a tb_rnngrad.health.Thresholds; got {health!r}."
    )
