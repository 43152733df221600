"""`GradientLogger`: a PyTorch Lightning callback that logs recurrent-module
gradients beside the Trainer's TensorBoard logs.

It hands the work to `tb_rnngrad.pytorch.GradientLogger`, which it makes when
fit starts: the same capture, tags and files, at the same steps (the
Trainer's `global_step`, the optimizer steps taken). Importing this module
imports `lightning`; `import tb_rnngrad` alone never does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

try:
    from lightning.pytorch import Callback, LightningModule, Trainer
    from lightning.pytorch.loggers import TensorBoardLogger
    from lightning.pytorch.utilities import move_data_to_device
except ImportError as error:
    raise ImportError(
        "tb_rnngrad.lightning needs PyTorch Lightning (the `lightning` package): "
        "pip install tb-rnngrad[lightning]"
    ) from error
from torch import nn

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.format.budget import DEFAULT_MAX_BYTES
from tb_rnngrad.health.findings import Thresholds
from tb_rnngrad.logger_options import DEFAULT_EVERY_N_STEPS, DEFAULT_MAX_SAMPLES
from tb_rnngrad.pytorch import GradientLogger as TorchGradientLogger
from tb_rnngrad.pytorch.capture_pass import LossFn
from tb_rnngrad.pytorch.modules import Selector


class GradientLogger(Callback):
    """Logs recurrent-module gradients every `every_n_steps` optimizer steps.

    ```python
    logger = GradientLogger((x[:16], y[:16]), loss_fn=nn.MSELoss())
    trainer = lightning.pytorch.Trainer(max_steps=300, callbacks=[logger])
    trainer.fit(model, loader)
    ```

    It logs before the training batch of each due step (the weights after
    `trainer.global_step` updates, as the PyTorch logger called before each
    update) and once more at the end of training, if due. Where: the run
    `<log dir>/<subdir>`, the log dir being `log_dir` if given, else that of
    the Trainer's first `TensorBoardLogger` (`<save_dir>/<name>/version_<n>`),
    else `trainer.log_dir` (another logger's directory, or the Trainer's
    `default_root_dir` without a logger). Under DDP only global rank 0
    writes; every rank checks the arguments when fit starts, and the first
    logged step raises if the capture fails.

    Args:
        data: The fixed probe batch `(inputs, targets)`, as
            `tb_rnngrad.pytorch.capture` takes them; moved to the module's
            device when fit starts.
        loss_fn: Called as `loss_fn(module(inputs), targets)`; the loss of
            your `training_step`, e.g. `nn.functional.mse_loss`.
        every_n_steps: Log every this many optimizer steps.
        module: The LightningModule itself (None), or the path of one of
            its submodules ("model"), whose forward takes `inputs`.
        log_dir: A local directory to log into instead of the Trainer's.
        layers, kinds, max_samples, max_bytes_per_step, subdir, on_problem,
            health_thresholds, batch_first: As for
            `tb_rnngrad.pytorch.GradientLogger` (the same names, order and
            defaults; `on_problem="stop"` also stops the Trainer).

    Raises:
        CaptureError: `module` is not None or a string, or `log_dir` not a
            path; when fit starts, any argument the PyTorch logger refuses,
            or a `module` path the LightningModule does not have.
    """

    def __init__(
        self,
        data: tuple[Any, Any],
        every_n_steps: int = DEFAULT_EVERY_N_STEPS,
        *,
        loss_fn: LossFn,
        module: str | None = None,
        log_dir: str | os.PathLike | None = None,
        layers: Selector | Sequence[Selector] | None = None,
        kinds: Sequence[str] | None = None,
        max_samples: int | None = DEFAULT_MAX_SAMPLES,
        max_bytes_per_step: int | None = DEFAULT_MAX_BYTES,
        subdir: str = "rnngrad",
        on_problem: str | None = None,
        health_thresholds: Thresholds | None = None,
        batch_first: bool | None = None,
    ) -> None:
        if module is not None and not isinstance(module, str):
            raise CaptureError(
                f"module must be None (the LightningModule) or the path of one of "
                f"its submodules; got {type(module).__name__}. Pass e.g. "
                "module='model'."
            )
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise CaptureError(
                f"log_dir must be None (the Trainer's log directory) or a path; "
                f"got {type(log_dir).__name__}."
            )
        self.data, self.loss_fn, self.every_n_steps = data, loss_fn, every_n_steps
        self.module, self.log_dir = module, log_dir
        self._options = dict(
            layers=layers, kinds=kinds, max_samples=max_samples,
            max_bytes_per_step=max_bytes_per_step, subdir=subdir,
            on_problem=on_problem, health_thresholds=health_thresholds,
            batch_first=batch_first,
        )  # fmt: skip
        self.logger: TorchGradientLogger | None = None

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Makes the PyTorch logger (on every rank, so that every rank
        checks the arguments) when fit starts."""
        if stage != "fit":
            return
        directory = _directory(trainer, self.log_dir)
        self.logger = TorchGradientLogger(
            directory, _watched(pl_module, self.module), self.loss_fn,
            move_data_to_device(self.data, pl_module.device),
            every_n_steps=self.every_n_steps, **self._options,
        )  # fmt: skip

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._step(trainer)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._step(trainer)
        self._close()

    def teardown(
        self, trainer: Trainer, pl_module: LightningModule, stage: str
    ) -> None:
        self._close()

    @property
    def logged_steps(self) -> list[int]:
        """The steps written so far (none on a rank other than 0)."""
        return self.logger.logged_steps if self.logger else []

    def _step(self, trainer: Trainer) -> None:
        if self.logger is None:
            return
        if trainer.is_global_zero:
            self.logger.step(trainer.global_step)
        if self._options["on_problem"] == "stop":  # every rank stops together
            stop = trainer.strategy.reduce_boolean_decision(
                self.logger.should_stop, all=False
            )
            trainer.should_stop = trainer.should_stop or stop

    def _close(self) -> None:
        if self.logger is not None:
            self.logger.close()


def _directory(trainer: Trainer, log_dir: str | os.PathLike | None) -> str:
    """The directory the run goes under (see `GradientLogger`); call it on
    every rank (`trainer.log_dir` is a collective)."""
    if log_dir is not None:
        return os.fspath(log_dir)
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.log_dir
    return trainer.log_dir


def _watched(pl_module: LightningModule, path: str | None) -> nn.Module:
    """The module the capture calls: `pl_module` or its submodule `path`."""
    if path is None:
        return pl_module
    try:
        return pl_module.get_submodule(path)
    except AttributeError:
        children = [name for name, _ in pl_module.named_children()]
        raise CaptureError(
            f"module='{path}' is not a submodule of {type(pl_module).__name__}; "
            f"its submodules: {children}. Pass one of them, or None for the "
            "LightningModule itself."
        ) from None
