"""Trains one demo model with the gradient logger and Keras's TensorBoard."""

from __future__ import annotations

import dataclasses
import os
import shutil

import keras

import tb_rnngrad
from demo import models
from demo.tasks import Task


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Model size, optimizer, how long to train and how often to log."""

    epochs: int = 8
    batch_size: int = 64
    units: int = 32
    learning_rate: float = 1e-2
    clipnorm: float = 1.0
    every_n_steps: int = 80
    probe_samples: int = 16
    seed: int = 0
    kinds: tuple[str, ...] = (
        "gradients",
        "state_gradients",
        "weight_contributions",
        "input_gradients",
        "weights",
        "weight_gradients",
    )
    verbose: int = 2
    #: Train without tracing `tf.function`s: faster for a few steps of a tiny model.
    run_eagerly: bool = False


def run_name(task: Task, model_name: str) -> str:
    """`<task>-<model>`, the run's name in TensorBoard."""
    return f"{task.name}-{model_name}"


def train(
    model_name: str,
    train: Task,
    heldout: Task,
    logdir: str,
    config: TrainConfig,
    run: str | None = None,
) -> float:
    """Trains `model_name` on `train`; returns its final loss on `heldout`.

    Logs into `<logdir>/<run>` (default `run_name(train, model_name)`),
    replacing an earlier run of that name: `GradientLogger` writes
    `config.kinds` (by default the recurrent layer's output gradient, its state
    gradients (through time), each timestep's share of its weight update, the
    input gradient, its weights and their gradients) on the first
    `probe_samples` held-out samples, Keras's `TensorBoard` the training and
    held-out loss of every epoch.
    """
    run = run or run_name(train, model_name)
    model = models.build(
        model_name,
        train.x.shape[1:],
        config.units,
        config.learning_rate,
        config.clipnorm,
        config.seed,
    )
    model.run_eagerly = config.run_eagerly
    directory = os.path.join(logdir, run)
    shutil.rmtree(directory, ignore_errors=True)
    probe = (heldout.x[: config.probe_samples], heldout.y[: config.probe_samples])
    callbacks = [
        tb_rnngrad.GradientLogger(
            directory,
            data=probe,
            every_n_steps=config.every_n_steps,
            kinds=config.kinds,
        ),
        keras.callbacks.TensorBoard(directory, update_freq="epoch"),
    ]
    print(f"== {run}: {model.count_params()} parameters")
    history = model.fit(
        train.x,
        train.y,
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_data=(heldout.x, heldout.y),
        validation_batch_size=256,
        callbacks=callbacks,
        verbose=config.verbose,
    )
    return history.history["val_loss"][-1]
