"""Trains one demo model in PyTorch, logging with tb_rnngrad.pytorch.

The same models as `demo.models` (one recurrent layer returning its last
output, then a linear head), the same optimizer settings as `TrainConfig`
(Adam, gradient norm clipped), the same data; the loop is a plain PyTorch
loop with the three lines a PyTorch user adds: make a `GradientLogger`, call
`logger.step(step)` after each optimizer step, close it.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from demo.config import KINDS, TrainConfig, run_name
from demo.tasks import Task
from demo.torch_models import Model
from tb_rnngrad.pytorch import GradientLogger

#: Appended to a run's name: "adding-lstm-torch" sits beside "adding-lstm".
RUN_SUFFIX = "-torch"


def torch_run_name(task: Task, model_name: str) -> str:
    """`<task>-<model>-torch`, the run's name in TensorBoard."""
    return run_name(task, model_name) + RUN_SUFFIX


def train(
    model_name: str, train: Task, heldout: Task, logdir: str, config: TrainConfig
) -> float:
    """Trains `model_name` on `train`; returns its final mse on `heldout`.

    Logs into `<logdir>/<run name>`, replacing an earlier run of that name:
    a `SummaryWriter` the training and held-out loss of every epoch,
    `GradientLogger` through it (into its `rnngrad` subdirectory) the kinds
    of the Keras demo on the first `probe_samples` held-out samples.
    """
    # The models are small: one thread is as fast as a pool, which on a busy
    # machine spins waiting for its cores.
    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = Model(model_name, train.x.shape[-1], config.units)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    loss_fn = nn.MSELoss()
    x, y = torch.from_numpy(train.x), torch.from_numpy(train.y)
    probe = (
        torch.from_numpy(heldout.x[: config.probe_samples]),
        torch.from_numpy(heldout.y[: config.probe_samples]),
    )
    name = torch_run_name(train, model_name)
    directory = os.path.join(logdir, name)
    shutil.rmtree(directory, ignore_errors=True)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"== {name}: {parameters} parameters")
    writer = SummaryWriter(directory)
    logger = GradientLogger(
        writer, model, loss_fn, probe, config.every_n_steps, kinds=KINDS
    )
    step = 0  # optimizer steps taken, as Keras's optimizer.iterations
    for epoch in range(config.epochs):
        model.train()
        losses = []
        for rows in torch.randperm(len(x), generator=generator).split(
            config.batch_size
        ):
            logger.step(step)  # the weights after `step` updates
            optimizer.zero_grad()
            loss = loss_fn(model(x[rows]), y[rows])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clipnorm)
            optimizer.step()
            losses.append(loss.item())
            step += 1
        train_loss = float(np.mean(losses))
        heldout_loss = evaluate(model, heldout)
        writer.add_scalar("epoch_loss/train", train_loss, epoch)
        writer.add_scalar("epoch_loss/validation", heldout_loss, epoch)
        print(
            f"Epoch {epoch + 1}/{config.epochs} - loss: {train_loss:.4f} - "
            f"val_loss: {heldout_loss:.4f}",
            flush=True,
        )
    logger.step(step)  # the trained weights, if due (as Keras's logger)
    logger.close()
    writer.close()
    return heldout_loss


def evaluate(model: nn.Module, task: Task, batch_size: int = 256) -> float:
    """Mean squared error of `model` on `task`, in eval mode."""
    model.eval()
    x, y = torch.from_numpy(task.x), torch.from_numpy(task.y)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            prediction = model(x[start : start + batch_size])
            total += float(((prediction - y[start : start + batch_size]) ** 2).sum())
    return total / y.numel()
