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
from tb_rnngrad.deprecated_arguments import torch_arguments
from tb_rnngrad.errors import CaptureError
from tb_rnngrad.events import EventWriter, add_records
from tb_rnngrad.format.budget import DEFAULT_MAX_BYTES
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.watch import LoggedStep, problem_watch
from tb_rnngrad.logger_options import (
    DEFAULT_EVERY_N_STEPS,
    DEFAULT_KINDS,
    DEFAULT_MAX_SAMPLES,
    FALLBACK_KINDS,
    check_positive_int,
    run_with_kinds,
)
from tb_rnngrad.pytorch import capture_pass as _capture
from tb_rnngrad.pytorch.capture_pass import LossFn
from tb_rnngrad.pytorch.distributed import writes_logs
from tb_rnngrad.pytorch.inputs import check_call_inputs
from tb_rnngrad.pytorch.modules import Selector, resolve
from tb_rnngrad.pytorch.probe_batch import first_samples
from tb_rnngrad.records import ShapeFilter, records
from tb_rnngrad.result import CaptureResult
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

    Under `torch.distributed` (e.g. DistributedDataParallel) only rank 0
    logs: on the other ranks `step()` returns False and `log()` does nothing,
    and no file is written. A DDP or DataParallel wrapper may be given as
    `module`: the capture runs on the model inside, keyed by its own paths.

    After `module`, `loss_fn` and `data` it takes the arguments of the Keras
    `tb_rnngrad.GradientLogger`, with the same names, order and defaults,
    and `batch_first`.

    Args:
        log_dir: A log directory (the logger writes to `<dir>/<subdir>`, its
            own run), or a `torch.utils.tensorboard.SummaryWriter` (or
            tensorboardX's): the logger writes to `<writer's log
            dir>/<subdir>` itself, or through the writer with `subdir=""` or
            a writer without a local log directory; or any object with
            `add_summary(summary, global_step)`, written through.
        module: The model.
        loss_fn: Called as `loss_fn(module(inputs), targets)`.
        data: The probe batch `(inputs, targets)`, as `capture` takes them;
            every logged step is measured on it.
        every_n_steps: Log every this many steps.
        layers: As for `capture`: None for every recurrent module.
        kinds: Any of `tb_rnngrad.pytorch.KINDS`. None (the default) logs
            "gradients" and "state_gradients", or, if `layers` names a module
            without states, "gradients" alone with a one-line UserWarning
            that says why.
        max_samples: Keep only the first `max_samples` samples of `data`
            (None keeps all): every tensor of the inputs and targets is cut
            along its batch axis (`probe_batch`).
        max_bytes_per_step: Byte budget of one logged step, all modules and
            kinds together (default 8 MiB; None for no limit); as for the
            Keras `tb_rnngrad.GradientLogger`.
        subdir: Subdirectory of the log directory to write to ("" for the
            directory itself, or to write through a writer given).
        on_problem: What to do when the health check (`tb_rnngrad.health`) of
            a logged step finds a problem: None (no check), "warn" (a
            RuntimeWarning per new problem) or "stop" (warn, and set
            `should_stop`: a logger cannot end a loop it does not run, so
            end yours when `logger.should_stop` is true). With a check,
            `step()` returns the findings so far, as `findings` holds them.
        health_thresholds: The check's `tb_rnngrad.health.Thresholds`
            (default: the documented defaults).
        batch_first: As for `capture`.

    Raises:
        CaptureError: An argument is of the wrong type or range, or `layers`
            names modules `module` does not have.
    """

    @torch_arguments
    def __init__(
        self,
        log_dir: str | os.PathLike | Any,
        module: nn.Module,
        loss_fn: LossFn,
        data: tuple[Any, Any],
        every_n_steps: int = DEFAULT_EVERY_N_STEPS,
        *,
        layers: Selector | Sequence[Selector] | None = None,
        kinds: Sequence[str] | None = None,
        max_samples: int | None = DEFAULT_MAX_SAMPLES,
        max_bytes_per_step: int | None = DEFAULT_MAX_BYTES,
        subdir: str = "rnngrad",
        on_problem: str | None = None,
        health_thresholds: Thresholds | None = None,
        batch_first: bool | None = None,
    ) -> None:
        self._kinds_asked = None if kinds is None else _capture.check_kinds(kinds)
        self.kinds = self._kinds_asked or DEFAULT_KINDS
        check_max_bytes(max_bytes_per_step, CaptureError)
        check_positive_int("every_n_steps", every_n_steps, error=CaptureError)
        check_positive_int("max_samples", max_samples, True, CaptureError)
        if not isinstance(module, nn.Module):
            raise CaptureError(
                f"module must be a torch.nn.Module; got {type(module).__name__}."
            )
        if not callable(loss_fn):
            raise CaptureError(
                f"loss_fn must be callable as loss_fn(outputs, targets); got "
                f"{type(loss_fn).__name__}. Pass e.g. nn.MSELoss()."
            )
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise CaptureError(
                f"data must be the probe batch (inputs, targets); got "
                f"{type(data).__name__}. Pass e.g. data=(x[:16], y[:16])."
            )
        check_call_inputs(data[0])
        resolve(module, layers, self._kinds_asked or FALLBACK_KINDS)  # unknown layers
        self.path, self._writer = _destination(log_dir, subdir)
        self._owns_writer = self._writer is None
        self.module, self.loss_fn = module, loss_fn
        self.layers, self.batch_first = layers, batch_first
        self.max_samples = max_samples
        layout = _capture.inputs_batch_first(module, batch_first)
        self.data = tuple(data)
        if max_samples is not None:
            self.data = first_samples(self.data, max_samples, layout)
        self.every_n_steps = every_n_steps
        self.logged_steps: list[int] = []
        self._next_step: int | None = None  # None until the first step
        self._failed = False
        self._shapes = ShapeFilter(self._warn)
        self.max_bytes_per_step = max_bytes_per_step
        self._budget = StepBudget(max_bytes_per_step, self._warn)
        try:
            self._watch = problem_watch(
                on_problem, health_thresholds, f"GradientLogger ({self.path})"
            )
        except ValueError as error:
            raise CaptureError(str(error)) from None
        self.on_problem = on_problem
        self.should_stop = False

    @property
    def findings(self) -> list[Finding]:
        """The health findings of the steps logged so far (empty without
        `on_problem`), problems first."""
        return list(self._watch.findings) if self._watch else []

    def step(self, global_step: int) -> bool | LoggedStep:
        """Logs `global_step` if it is due; call once per training step.

        Returns:
            False when this call did not log; else the findings of the run so
            far (`findings`: empty without `on_problem`), a list that is true
            (and equal to True) even when empty.

        Raises:
            CaptureError, OSError: On the first call only, if the capture or
                the write fails (later failures warn once and stop logging).
        """
        if (
            self._failed
            or (self._next_step is not None and global_step < self._next_step)
            or not writes_logs()
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
        return LoggedStep(self.findings)

    def log(self, global_step: int) -> None:
        """Captures on the probe batch and writes at `global_step` now (on
        rank 0 only, under `torch.distributed`); errors propagate."""
        if not writes_logs():
            return

        def run(kinds: tuple[str, ...]) -> CaptureResult:
            return _capture.result(
                _capture.run(
                    self.module, self.loss_fn, self.data[0], self.data[1],
                    self.layers, kinds, self.batch_first,
                )
            )  # fmt: skip

        self.kinds, found = run_with_kinds(self._kinds_asked, run, self._note)
        self._kinds_asked = self.kinds  # chosen once, noted once
        loggable = (r for r in records(found, self.kinds) if self._shapes.loggable(r))
        add_records(self._adder(), self._budget.apply(loggable), global_step)
        self._flush()
        self.logged_steps.append(int(global_step))
        if self._watch is not None and self._watch.check(found, int(global_step)):
            self._stop_if_asked()

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

    def _stop_if_asked(self) -> None:
        """With on_problem="stop": sets `should_stop`, saying so once."""
        if self.on_problem != "stop" or self.should_stop:
            return
        self.should_stop = True
        self._warn(
            'on_problem="stop": logger.should_stop is now True; end the '
            "training loop when it is (if logger.should_stop: break)"
        )

    def _warn(self, message: str) -> None:
        where = self.path or type(self._writer).__name__
        warnings.warn(f"GradientLogger ({where}): {message}.", RuntimeWarning, 3)

    def _note(self, message: str) -> None:
        where = self.path or type(self._writer).__name__
        warnings.warn(f"GradientLogger ({where}): {message}.", UserWarning, 3)


def _destination(target: Any, subdir: str) -> tuple[str, Any]:
    """(directory, None) to write a file of our own; ("", writer) to write
    through a writer."""
    if not isinstance(subdir, str):
        raise CaptureError(f"subdir must be a string; got {subdir!r}.")
    if isinstance(target, (str, os.PathLike)):
        path = os.fspath(target)
        if not path:
            raise CaptureError(
                "log_dir is an empty path. Pass the directory "
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
            f"log_dir must be a log directory or a summary writer; got "
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
