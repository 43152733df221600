"""Trains one demo model with the gradient logger and Keras's TensorBoard."""

from __future__ import annotations

import os
import shutil

import keras

import tb_rnngrad
from demo import models
from demo.config import TrainConfig, run_name
from demo.tasks import Task


def train(
    model_name: str, train: Task, heldout: Task, logdir: str, config: TrainConfig
) -> float:
    """Trains `model_name` on `train`; returns its final loss on `heldout`.

    Logs into `<logdir>/<run_name>`, replacing an earlier run of that name:
    `GradientLogger` writes the recurrent layer's output gradient, its state
    gradients (through time), each timestep's share of its weight update and
    the input gradient on the first `probe_samples` held-out samples, Keras's
    `TensorBoard` the training and held-out loss of every epoch.
    """
    model = models.build(
        model_name,
        train.x.shape[1:],
        config.units,
        config.learning_rate,
        config.clipnorm,
        config.seed,
    )
    directory = os.path.join(logdir, run_name(train, model_name))
    shutil.rmtree(directory, ignore_errors=True)
    probe = (heldout.x[: config.probe_samples], heldout.y[: config.probe_samples])
    callbacks = [
        tb_rnngrad.GradientLogger(
            directory,
            data=probe,
            every_n_steps=config.every_n_steps,
            kinds=(
                "gradients",
                "state_gradients",
                "weight_contributions",
                "input_gradients",
                "weights",
                "weight_gradients",
            ),
        ),
        keras.callbacks.TensorBoard(directory, update_freq="epoch"),
    ]
    print(f"== {run_name(train, model_name)}: {model.count_params()} parameters")
    history = model.fit(
        train.x,
        train.y,
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_data=(heldout.x, heldout.y),
        validation_batch_size=256,
        callbacks=callbacks,
        verbose=2,
    )
    return history.history["val_loss"][-1]
