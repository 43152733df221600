"""Trains one demo model with the gradient logger and Keras's TensorBoard."""

from __future__ import annotations

import dataclasses
import os

import keras

import tb_rnngrad
from demo import models
from demo.tasks import Task


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How long to train and how often to log."""

    epochs: int = 10
    batch_size: int = 64
    every_n_steps: int = 16
    probe_samples: int = 16
    units: int = 32
    verbose: int | str = "auto"


def run_dir(logdir: str, task: Task, model_name: str) -> str:
    """`<logdir>/<task>-<model>`, the run's own log directory."""
    return os.path.join(logdir, f"{task.name}-{model_name}")


def train(task: Task, model_name: str, logdir: str, config: TrainConfig) -> keras.Model:
    """Trains `model_name` on `task`, logging into `run_dir(logdir, ...)`.

    `GradientLogger` writes the gradients of both recurrent layers and the
    input gradient on a fixed probe batch held out from training; Keras's
    `TensorBoard` callback writes the loss curves beside them.
    """
    model = models.build(model_name, task, units=config.units)
    directory = run_dir(logdir, task, model_name)
    probe = slice(0, config.probe_samples)
    train_part = slice(config.probe_samples, None)
    callbacks = [
        tb_rnngrad.GradientLogger(
            directory,
            data=(task.x[probe], task.y[probe]),
            every_n_steps=config.every_n_steps,
            kinds=("gradients", "input_gradients"),
        ),
        keras.callbacks.TensorBoard(directory, update_freq="epoch"),
    ]
    print(f"== {task.name}-{model_name}: {model.count_params()} parameters")
    model.fit(
        task.x[train_part],
        task.y[train_part],
        batch_size=config.batch_size,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=config.verbose,
    )
    return model
