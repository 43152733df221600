"""`python -m demo --task translate`: a seq2seq with attention learns to
reverse a sequence, logged with `tb_rnngrad.pytorch.GradientLogger`.

The model (`demo.seq2seq`) is the PyTorch translation tutorial's encoder and
attention decoder; the decoder's nn.GRU runs once per target step, so the
tab shows `encoder.gru` (one call over the source) beside `decoder.gru` (its
calls stacked along time). Training uses teacher forcing; the held-out
accuracy is of greedy decoding.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from demo import reversal
from demo.config import TRANSLATE_KINDS, TranslateConfig
from demo.seq2seq import Seq2Seq, nll_loss
from demo.translate_outcome import TranslateOutcome
from tb_rnngrad import pytorch as tp
from tb_rnngrad.format import metadata, stats
from tb_rnngrad.pytorch import GradientLogger

RUN = "reverse-seq2seq-torch"
#: The figures of the story: (kind, key) whose reach the demo reports.
REACHES = (("state_gradients", "decoder.gru"), ("gradients", "encoder.gru"))


def train(logdir: str, config: TranslateConfig) -> TranslateOutcome:
    """Trains the seq2seq on reversal; logs into `<logdir>/<RUN>`.

    A `SummaryWriter` gets each epoch's training and held-out loss and the
    held-out token accuracy; `GradientLogger`, through it (in its `rnngrad`
    subdirectory), every kind of both GRUs on the first `probe_samples`
    held-out pairs, teacher forced.
    """
    torch.set_num_threads(1)  # small model: a thread pool only spins
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    data = reversal.reversal(
        config.train_samples, config.length, config.symbols, config.seed
    )
    heldout = reversal.reversal(
        config.heldout_samples, config.length, config.symbols, config.seed + 1
    )
    source, target = torch.from_numpy(data.source), torch.from_numpy(data.target)
    model = Seq2Seq(config.symbols + 1, config.hidden, config.length)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    steps = config.epochs * -(-len(source) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    directory = os.path.join(logdir, RUN)
    shutil.rmtree(directory, ignore_errors=True)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"== {RUN}: {parameters} parameters, {steps} steps", flush=True)
    writer = SummaryWriter(directory)
    probe_source = torch.from_numpy(heldout.source[: config.probe_samples])
    probe_target = torch.from_numpy(heldout.target[: config.probe_samples])
    probe = ((probe_source, probe_target), probe_target)
    logger = GradientLogger(
        writer, model, nll_loss, probe, config.every_n_steps, kinds=TRANSLATE_KINDS
    )
    losses: list[float] = []
    step = 0
    for epoch in range(config.epochs):
        model.train()
        batch_losses = []
        for rows in torch.randperm(len(source), generator=generator).split(
            config.batch_size
        ):
            logger.step(step)  # the weights after `step` updates
            optimizer.zero_grad()
            loss = nll_loss(model(source[rows], target[rows]), target[rows])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clipnorm)
            optimizer.step()
            schedule.step()
            batch_losses.append(loss.item())
            step += 1
        losses.append(float(np.mean(batch_losses)))
        heldout_loss, accuracy = evaluate(model, heldout)
        writer.add_scalar("epoch_loss/train", losses[-1], epoch)
        writer.add_scalar("epoch_loss/validation", heldout_loss, epoch)
        writer.add_scalar("epoch_accuracy/validation", accuracy, epoch)
        print(
            f"Epoch {epoch + 1}/{config.epochs} - loss: {losses[-1]:.4f} - "
            f"val_loss: {heldout_loss:.4f} - val_token_accuracy: {accuracy:.4f}",
            flush=True,
        )
    logger.step(step)  # the trained weights, if due
    logger.close()
    writer.close()
    predicted = greedy(model, heldout)
    return TranslateOutcome(
        run=RUN,
        train_losses=losses,
        final_loss=heldout_loss,
        token_accuracy=reversal.token_accuracy(predicted, heldout.target),
        sequence_accuracy=reversal.sequence_accuracy(predicted, heldout.target),
        chance=reversal.chance_accuracy(config.symbols),
        length=config.length,
        logged_steps=list(logger.logged_steps),
        reach=reaches(model, probe),
    )


def evaluate(model: Seq2Seq, pairs: reversal.Pairs) -> tuple[float, float]:
    """(teacher-forced mean NLL, greedy token accuracy) on `pairs`, in eval mode."""
    source, target = torch.from_numpy(pairs.source), torch.from_numpy(pairs.target)
    model.eval()
    with torch.no_grad():
        loss = float(nll_loss(model(source, target), target))
    accuracy = reversal.token_accuracy(greedy(model, pairs), pairs.target)
    return loss, accuracy


def greedy(model: Seq2Seq, pairs: reversal.Pairs) -> np.ndarray:
    """The model's greedy translations of `pairs.source`, token ids."""
    return model.translate(torch.from_numpy(pairs.source)).numpy()


def reaches(model: Seq2Seq, probe: tuple) -> dict[str, int]:
    """`{"<kind>/<key>": reach}` of `REACHES` on the probe (as the logs'
    `<tag>/reach` scalars): the largest lag, counted back from the last step,
    whose gradient norm is at least 1% of the peak."""
    kinds = tuple(dict.fromkeys(kind for kind, _ in REACHES))
    found = tp.capture(model, nll_loss, *probe, kinds=kinds)
    return {
        f"{kind}/{key}": stats.reach(
            stats.profile(getattr(found, kind)[key])[0],
            metadata.DEFAULT_REACH_THRESHOLD,
        )
        for kind, key in REACHES
    }
