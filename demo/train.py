"""Trains one demo model with the gradient logger and Keras's TensorBoard."""

from __future__ import annotations

import os
import shutil

import keras

import tb_rnngrad
from demo import models
from demo.config import KINDS, TrainConfig, run_name
from demo.tasks import Task


def train(
    model_name: str,
    train: Task,
    heldout: Task,
    logdir: str,
    config: TrainConfig,
    *,
    run: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    verbose: int = 2,
    run_eagerly: bool = False,
) -> float:
    """Trains `model_name` on `train`; returns its final loss on `heldout`.

    Logs into `<logdir>/<run>` (default `run_name(train, model_name)`),
    replacing an earlier run of that name: `GradientLogger` writes `kinds` (by
    default the recurrent layer's output gradient, its state gradients (through
    time), each timestep's share of its weight update, the input gradient, the
    weights and their gradients) on the first `probe_samples` held-out samples,
    Keras's `TensorBoard` the training and held-out loss of every epoch.
    `verbose` is `fit`'s; `run_eagerly` trains without tracing `tf.function`s
    (faster for a few steps of a tiny model).
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
    model.run_eagerly = run_eagerly
    directory = os.path.join(logdir, run)
    shutil.rmtree(directory, ignore_errors=True)
    probe = (heldout.x[: config.probe_samples], heldout.y[: config.probe_samples])
    callbacks = [
        tb_rnngrad.GradientLogger(
            directory,
            data=probe,
            every_n_steps=config.every_n_steps,
            kinds=kinds,
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
        verbose=verbose,
    )
    return history.history["val_loss"][-1]
