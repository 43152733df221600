"""GradientLogger: a Keras callback that logs recurrent-layer gradients.

Where it writes: `os.path.join(log_dir, subdir)`, by default `log_dir/rnngrad`.
`keras.callbacks.TensorBoard(log_dir)` writes to `log_dir/train` and
`log_dir/validation`, so both callbacks can share one `log_dir` and TensorBoard
shows three runs side by side.

When it writes: once in `on_train_begin`, before any weight update, then every
`every_n_steps` optimizer steps (checked when a batch begins, and at the end of
training). The step is `model.optimizer.iterations`, so a fresh model logs steps
0, N, 2N, ... and a resumed one continues its count. With
`steps_per_execution=k` the step advances by k per batch, so a record lands at
the first step at or after each multiple of N.

Under `tf.distribute` (`capture.distribution`): only the process the strategy
names to save summaries (the chief) captures and writes. Every other worker
validates the setup in `on_train_begin`, as the chief does, so a bad setup
stops all of them alike, and then does nothing. In a multi-worker cluster the
chief never raises after validation: a log directory it cannot write is a
warning, because an exception would leave the other workers waiting in the
next step's collective.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

import keras

from tb_rnngrad import callback_writers
from tb_rnngrad.capture.api import get_capture
from tb_rnngrad.capture.data import (
    Batch,
    is_dataset,
    prepare_batch,
    stateful_batch_size,
    take_samples,
)
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.forward import CaptureBase
from tb_rnngrad.capture.layers import LayerSelector
from tb_rnngrad.capture.model_check import check_kinds
from tb_rnngrad.deprecated_arguments import keras_arguments
from tb_rnngrad.format.budget import DEFAULT_MAX_BYTES
from tb_rnngrad.health.findings import Finding, Thresholds
from tb_rnngrad.health.watch import problem_watch
from tb_rnngrad.logger_options import (
    DEFAULT_EVERY_N_STEPS,
    DEFAULT_KINDS,
    DEFAULT_MAX_SAMPLES,
    check_positive_int,
    run_with_kinds,
)
from tb_rnngrad.records import ShapeFilter, records
from tb_rnngrad.result import CaptureResult
from tb_rnngrad.step_budget import StepBudget, check_max_bytes

# Errors that a capture or a write may raise once training runs (with the
# writer's own). Anything else is a bug and propagates.
_RUNTIME_ERRORS = (OSError, ValueError, TypeError, RuntimeError)


def _first_batch(data: Any) -> tuple:
    """`(x, y, sample_weight)` from a tuple or from a dataset's first element."""
    if is_dataset(data):
        try:
            element = next(iter(data))
        except StopIteration:
            raise ValueError(
                "GradientLogger got an empty tf.data.Dataset as `data`; pass a "
                "dataset that yields at least one (x, y) batch."
            ) from None
        what = "the dataset's first element"
        data = element
    else:
        what = "`data`"
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        kind = type(data).__name__
        size = f" of length {len(data)}" if isinstance(data, (tuple, list)) else ""
        raise TypeError(
            f"GradientLogger: {what} is a {kind}{size}; expected (x, y), "
            "(x, y, sample_weight) or a tf.data.Dataset yielding such tuples. "
            "Pass one batch of your training data."
        )
    x, y, *rest = data
    return x, y, rest[0] if rest else None


class GradientLogger(keras.callbacks.Callback):
    """Logs per-timestep gradients of recurrent layers to TensorBoard.

    On a fixed probe batch (the same samples at every logged step, so steps are
    comparable) it runs one forward and backward pass in inference mode with
    the model's compiled loss, and writes one `tb_rnngrad.summary` record per
    layer and kind under the tags `<kind>/<layer>` (`tb_rnngrad.records`).

    Example:

        logger = tb_rnngrad.GradientLogger("logs", data=(x_val[:16], y_val[:16]))
        model.fit(x, y, callbacks=[logger,
                                   keras.callbacks.TensorBoard("logs")])

    The PyTorch `tb_rnngrad.pytorch.GradientLogger` takes the same arguments
    after its module and loss, under the same names and defaults.

    Args:
        log_dir: Directory of the TensorBoard logs (local or any path
            `tf.io.gfile` writes).
        data: The probe batch: `(x, y)`, `(x, y, sample_weight)`, or a
            `tf.data.Dataset` whose first element is such a tuple (taken once,
            here, and kept).
        every_n_steps: Log every this many optimizer steps.
        layers: None for every recurrent layer, or a layer name, an index into
            `model.layers`, a layer object, or a list of these.
        kinds: What to log: any of "gradients", "activations",
            "input_gradients", "state_gradients", "weight_contributions",
            "weights", "weight_gradients" (tags and kinds:
            `tb_rnngrad.records`). None (the default) logs "gradients" and
            "state_gradients" (`logger_options.DEFAULT_KINDS`), or, where
            state gradients cannot be captured (tf_keras; a layer whose
            states cannot be probed), "gradients" alone with a one-line
            UserWarning that says why.
        max_samples: Keep only the first `max_samples` samples of `data`
            (None keeps all). A model with stateful layers runs on batches of
            exactly its input batch size: keep that many.
        max_bytes_per_step: Byte budget of one logged step, all layers and
            kinds together (default 8 MiB; None for no limit). The stored
            tensors are reduced to fit it (fewer samples, float16, timesteps
            pooled by largest |g|, the channels of largest norm, in that
            order: `tb_rnngrad.format.budget`); profiles, reach and NaN/Inf
            counts are computed on everything captured, and the metadata
            records what was reduced. A step that cannot fit even at the
            floor is written at the floor, with one warning.
        subdir: Subdirectory of `log_dir` to write to ("" writes to `log_dir`).
        on_problem: What to do when the health check (`tb_rnngrad.health`) of
            a logged step finds a problem: None (no check), "warn" (a
            RuntimeWarning per new problem) or "stop" (warn, then set
            `model.stop_training`, as SageMaker Debugger's StopTraining
            action does). The findings so far are in `findings`.
        health_thresholds: The check's `tb_rnngrad.health.Thresholds`
            (default: the documented defaults).

    Raises:
        TypeError: If `data` is not a supported structure.
        ValueError: If an argument is out of range or `data` is empty.
    """

    @keras_arguments
    def __init__(
        self,
        log_dir: str | os.PathLike,
        data: Any,
        every_n_steps: int = DEFAULT_EVERY_N_STEPS,
        *,
        layers: LayerSelector | Sequence[LayerSelector] | None = None,
        kinds: Sequence[str] | None = None,
        max_samples: int | None = DEFAULT_MAX_SAMPLES,
        max_bytes_per_step: int | None = DEFAULT_MAX_BYTES,
        subdir: str = "rnngrad",
        on_problem: str | None = None,
        health_thresholds: Thresholds | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)) or not os.fspath(log_dir):
            raise ValueError(
                f"log_dir must be a non-empty path; got {log_dir!r}. Pass the "
                "directory TensorBoard reads, e.g. 'logs'."
            )
        if not isinstance(subdir, str):
            raise ValueError(f"subdir must be a string; got {subdir!r}.")
        check_positive_int("every_n_steps", every_n_steps)
        check_positive_int("max_samples", max_samples, allow_none=True)
        check_max_bytes(max_bytes_per_step)
        self._kinds_asked = None if kinds is None else check_kinds(kinds)
        self.kinds = self._kinds_asked or DEFAULT_KINDS
        self.log_dir = os.fspath(log_dir)
        self.path = os.path.join(self.log_dir, subdir) if subdir else self.log_dir
        self.every_n_steps = every_n_steps
        self.max_samples = max_samples
        self.layers = layers
        x, y, sample_weight = _first_batch(data)
        if max_samples is not None:
            x, y, sample_weight = take_samples((x, y, sample_weight), max_samples)
        self._data = (x, y, sample_weight)
        self._capture: CaptureBase | None = None
        self._batch: Batch | None = None
        self._writer: Any = None
        self._event_file: str | None = None
        self._next_step = 0
        self._countdown = 0
        self._failed = False
        self._shapes = ShapeFilter(self._warn)
        self.max_bytes_per_step = max_bytes_per_step
        self._budget = StepBudget(max_bytes_per_step, self._warn)
        self.logged_steps: list[int] = []
        self.on_problem = on_problem
        self._watch = problem_watch(
            on_problem, health_thresholds, f"GradientLogger ({self.path})"
        )

    @property
    def findings(self) -> list[Finding]:
        """The health findings of the steps logged so far (empty without
        `on_problem`), problems first."""
        return list(self._watch.findings) if self._watch else []

    # tf_keras (Keras 2) asks each callback which batch hooks it implements
    # (Keras 3 does not): only the training batch begin. Private, unchecked
    # (`versions`): a tf_keras that stops asking runs every hook, all no-ops
    # but the training batch begin.
    def _implements_train_batch_hooks(self) -> bool:
        return True

    def _implements_test_batch_hooks(self) -> bool:
        return False

    def _implements_predict_batch_hooks(self) -> bool:
        return False

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Checks the setup against the model and logs the first step.

        Raises:
            CaptureError: If the model is not compiled, a layer is unknown or
                not recurrent, or `data` does not match the model (for
                stateful layers, its batch size and `max_samples`).
            OSError: If the log directory cannot be written.
        """
        model = self.model

        def validate(kinds: tuple[str, ...]) -> tuple[CaptureResult | None, int, bool]:
            capture = get_capture(model, self.layers, kinds)
            # A later fit() of the same model and loss was validated by the first.
            validated = capture is self._capture and self._batch is not None
            batch = self._batch
            if not validated:
                batch = prepare_batch(model, *self._data)
                self._check_batch_size(model, batch.size)
            step = self._current_step()
            due = not self.logged_steps or self.logged_steps[-1] != step
            result = capture.run(batch) if due or not validated else None
            self._capture, self._batch = capture, batch
            return result, step, due

        self.kinds, (result, step, due) = run_with_kinds(
            self._kinds_asked, validate, self._note
        )
        self._kinds_asked = self.kinds  # chosen once, noted once
        self._failed = False
        if not _writes_summaries(model):
            self._countdown = math.inf  # a worker: validated, nothing more
            return
        try:
            # not again when fit() resumes where the last one logged
            self._start_writing(result if due else None, step)
        except OSError as error:
            if not _is_multi_worker(model):
                raise
            self._countdown = math.inf
            self._warn(f"{error} Nothing is logged in this run")
            return
        self._schedule(step, upcoming=1)

    def _start_writing(self, result: CaptureResult | None, step: int) -> None:
        """Opens the writer and writes `result` (if any) at `step`.

        Raises:
            OSError: If the log directory cannot be written.
        """
        self._writer = self._open_writer()
        try:
            if result is not None:
                self._write(result, step)
        except self._writer.errors as error:
            self._writer = None
            raise OSError(
                f"GradientLogger cannot write to '{self.path}': {error}. Pass a "
                "log_dir you can write to."
            ) from error

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Counts down to the next logging step; logs when it is reached.

        At a batch's beginning the weights are those after `iterations`
        updates, so this logs the same step as the previous batch's end would,
        without defining `on_train_batch_end`, which would stop Keras from
        dispatching batch-end callbacks asynchronously.
        """
        self._countdown -= 1
        if self._countdown > 0:
            return
        self._maybe_log()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Logs the last step if it is due, then flushes and closes the writer."""
        if self._writer is None:
            return
        self._maybe_log()
        try:
            self._writer.close()
        except self._writer.errors as error:
            self._warn(f"closing the writer failed ({error})")
        self._writer = None

    def log(self, step: int | None = None) -> None:
        """Captures and writes now, outside the schedule; errors propagate.

        Args:
            step: The step to write at; defaults to `model.optimizer.iterations`.

        Raises:
            RuntimeError: If the logger is not set up: it runs between
                `on_train_begin` and `on_train_end` (that is, inside `fit`).
        """
        if self._batch is not None and not _writes_summaries(self.model):
            return
        if self._writer is None or self._batch is None:
            raise RuntimeError(
                "GradientLogger.log() runs during training only: pass the logger "
                "to model.fit(callbacks=[...]), or call on_train_begin() first."
            )
        step = self._current_step() if step is None else int(step)
        self._write(self._capture.run(self._batch), step)

    def _check_batch_size(self, model: keras.Model, size: int) -> None:
        """Raises CaptureError if the model's stateful layers cannot take
        a probe batch of `size` samples."""
        expected = stateful_batch_size(model)
        if expected is None or size == expected:
            return
        raise CaptureError(
            f"GradientLogger: model '{model.name}' has stateful layers, which "
            f"take batches of exactly {expected} samples (the batch size of its "
            f"inputs), but the probe batch has {size} samples "
            f"(max_samples={self.max_samples}). Pass max_samples={expected} with "
            f"at least {expected} samples in `data`, or a probe batch of exactly "
            f"{expected} samples."
        )

    def _open_writer(self) -> Any:
        """A new writer in `self.path`: TensorFlow's summary writer on the
        TensorFlow backend, else the TensorFlow-free event writer."""
        tensorflow = keras.backend.backend() == "tensorflow"
        try:
            writer = callback_writers.open_writer(self.path, tensorflow)
        except OSError as error:
            raise OSError(
                f"GradientLogger cannot create the log directory '{self.path}': "
                f"{error}. Pass a log_dir you can write to."
            ) from error
        self._event_file = writer.event_file  # None if ambiguous
        return writer

    def _current_step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    def _schedule(self, step: int, upcoming: int = 0) -> None:
        """Sets the next logging step and how many batch begins until a check.

        Args:
            step: The current step.
            upcoming: 1 if the next batch begin is still at `step` (right after
                `on_train_begin`), 0 if it comes after the next execution.
        """
        n = self.every_n_steps
        self._next_step = (step // n + 1) * n
        per_call = getattr(self.model, "steps_per_execution", 1)
        per_call = per_call if isinstance(per_call, int) and per_call > 0 else 1
        calls = math.ceil((self._next_step - step) / per_call)
        self._countdown = max(1, calls + upcoming)

    def _maybe_log(self) -> None:
        if self._failed or self._writer is None:
            self._countdown = math.inf
            return
        step = self._current_step()
        if step >= self._next_step:
            try:
                self._write(self._capture.run(self._batch), step)
            except (*_RUNTIME_ERRORS, *self._writer.errors) as error:
                self._failed = True
                self._countdown = math.inf
                self._warn(
                    f"logging step {step} failed ({type(error).__name__}: {error}); "
                    "no more steps are logged in this run, steps already written "
                    "are kept"
                )
                return
        self._schedule(step)

    def _warn(self, message: str) -> None:
        warnings.warn(f"GradientLogger ({self.path}): {message}.", RuntimeWarning, 2)

    def _note(self, message: str) -> None:
        warnings.warn(f"GradientLogger ({self.path}): {message}.", UserWarning, 2)

    def _write(self, result: CaptureResult, step: int) -> None:
        """Writes every entry of `result` at `step`, flushes, and checks that
        it landed: if the event file was removed meanwhile (say, the log
        directory was deleted), writes the step again into a new one."""
        self._write_entries(result, step)
        if self._writer.gone():
            lost = self._writer.event_file or self.path
            with contextlib.suppress(*self._writer.errors):
                self._writer.close()
            self._writer = self._open_writer()
            self._write_entries(result, step)
            if self._writer.gone():
                raise OSError(f"the new event file in '{self.path}' vanished too")
            self._warn(
                f"'{lost}' was removed during training, with the steps written "
                f"to it; step {step} and later go to a new event file"
            )
        self.logged_steps.append(step)
        if self._watch is not None and self._watch.check(result, step):
            if self.on_problem == "stop":
                self.model.stop_training = True

    def _write_entries(self, result: CaptureResult, step: int) -> None:
        """Writes every record of `result` at `step` and flushes."""
        found = records(result, self.kinds)
        loggable = (r for r in found if self._shapes.loggable(r))
        self._writer.write(self._budget.apply(loggable), step)


def _writes_summaries(model: Any) -> bool:
    """Whether this process writes (`distribution.writes_summaries`; always
    on Keras's JAX and PyTorch backends, which have no `tf.distribute`)."""
    if keras.backend.backend() != "tensorflow":
        return True
    from tb_rnngrad.capture import distribution

    return distribution.writes_summaries(model)


def _is_multi_worker(model: Any) -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    from tb_rnngrad.capture import distribution

    return distribution.is_multi_worker(model)


__all__ = ["CaptureError", "GradientLogger"]
