"""The demo's PyTorch models trained through PyTorch Lightning.

    python -m testkit.lightning_fit OUT_DIR

`Demo` is a LightningModule around `demo.torch_models.Model` (as its
submodule `model`, trained with SGD on the mean squared error); `Weights`
keeps the model's weights before each step. Run as above, it trains the LSTM
model with `strategy="ddp"` on two CPU processes (gloo on loopback), a
`TensorBoardLogger` in OUT_DIR/tb and `tb_rnngrad.lightning.GradientLogger`;
each rank writes OUT_DIR/rank_<global rank>.json (its pid and the steps its
callback logged), rank 0 also OUT_DIR/weights.npz (`<step>/<name>`).
`tests/test_lightning.py` runs it.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch import nn

from demo.tasks import adding_problem
from demo.torch_models import Model
from tb_rnngrad.lightning import GradientLogger

SAMPLES, TIMESTEPS, UNITS, BATCH = 48, 12, 4, 8
PROBE = 6
STEPS, EVERY = 5, 2
KINDS = ("gradients", "state_gradients", "weight_contributions", "input_gradients")
QUIET = dict(
    enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False
)


def data() -> tuple[torch.Tensor, torch.Tensor]:
    """The training set (the demo's adding problem); its first `PROBE`
    samples are the probe batch."""
    task = adding_problem(SAMPLES, TIMESTEPS, seed=0)
    return torch.from_numpy(task.x), torch.from_numpy(task.y)


def loader(batch_size: int = BATCH) -> torch.utils.data.DataLoader:
    """The training set in order, as batches of `(x, y)`."""
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*data()), batch_size=batch_size
    )


class Demo(pl.LightningModule):
    """`demo.torch_models.Model(model_name, 2, UNITS)` (seeded) as `model`."""

    def __init__(self, model_name: str = "lstm") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.model = Model(model_name, 2, UNITS)
        self.loss_fn = nn.MSELoss()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss_fn(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Weights(pl.Callback):
    """The model's weights before each training batch, by `global_step`."""

    def __init__(self) -> None:
        self.at: dict[int, dict[str, np.ndarray]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.at[trainer.global_step] = {
            name: value.detach().cpu().numpy().copy()
            for name, value in pl_module.model.state_dict().items()
        }


def main(out: pathlib.Path) -> None:
    torch.set_num_threads(1)
    x, y = data()
    callback = GradientLogger(
        (x[:PROBE], y[:PROBE]), loss_fn=nn.MSELoss(), every_n_steps=EVERY,
        module="model", kinds=KINDS,
    )  # fmt: skip
    weights = Weights()
    trainer = pl.Trainer(
        accelerator="cpu", devices=2, strategy="ddp", max_steps=STEPS,
        logger=TensorBoardLogger(out / "tb"), callbacks=[callback, weights],
        **QUIET,
    )  # fmt: skip
    trainer.fit(Demo("lstm"), loader())
    rank = trainer.global_rank
    report = {"pid": os.getpid(), "logged": callback.logged_steps}
    (out / f"rank_{rank}.json").write_text(json.dumps(report))
    if rank == 0:
        np.savez(
            out / "weights.npz",
            **{
                f"{step}/{name}": value
                for step, named in weights.at.items()
                for name, value in named.items()
            },
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    main(pathlib.Path(sys.argv[1]))
