"""The demo's PyTorch LSTM trained by two processes under DistributedDataParallel.

    python -m testkit.torch_ddp OUT_DIR 0 & python -m testkit.torch_ddp OUT_DIR 1

Two processes, ranks 0 and 1, join a gloo process group on loopback (a file
store in OUT_DIR, so no port to pick), wrap
`demo.torch_models.Model("lstm", ...)` in DistributedDataParallel and train
`STEPS` steps on their halves of each batch, each with a
`tb_rnngrad.pytorch.GradientLogger` on the wrapper into OUT_DIR/logs, its
`layers=` spelled with the wrapper's `module.` prefix. Rank r writes
OUT_DIR/rank_<r>.json: its pid, what each `logger.step` returned and the
logged steps; rank 0 also OUT_DIR/weights.npz, the model's weights before each
step (`<step>/<name>`), to recompute the captures in one process.
`tests/test_pytorch_distributed.py` runs it.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import numpy as np
import torch
from torch import distributed, nn
from torch.nn.parallel import DistributedDataParallel

from demo.tasks import adding_problem
from demo.torch_models import Model
from tb_rnngrad.pytorch import GradientLogger

WORLD = 2
STEPS, EVERY = 5, 2  # logged: 0, 2, 4, and 5 is not due
SAMPLES, TIMESTEPS, UNITS, BATCH = 48, 12, 4, 16
PROBE = 6
KINDS = ("gradients", "state_gradients", "weight_gradients")


def data() -> tuple[torch.Tensor, torch.Tensor]:
    """The training set (the demo's adding problem); its first `PROBE`
    samples are the probe batch."""
    task = adding_problem(SAMPLES, TIMESTEPS, seed=0)
    return torch.from_numpy(task.x), torch.from_numpy(task.y)


def model() -> Model:
    """The demo's LSTM model, seeded: the same weights in every process."""
    torch.manual_seed(0)
    return Model("lstm", 2, UNITS)


def worker(rank: int, out: pathlib.Path) -> None:
    torch.set_num_threads(1)
    distributed.init_process_group(
        "gloo", init_method=f"file://{out / 'store'}", rank=rank, world_size=WORLD
    )
    x, y = data()
    net = model()
    wrapped = DistributedDataParallel(net)
    optimizer = torch.optim.SGD(wrapped.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    logger = GradientLogger(
        out / "logs", wrapped, loss_fn, (x[:PROBE], y[:PROBE]), every_n_steps=EVERY,
        kinds=KINDS, layers="module.rnn",
    )  # fmt: skip
    weights, returned = {}, []
    for step in range(STEPS + 1):
        for name, value in net.state_dict().items():
            weights[f"{step}/{name}"] = value.numpy().copy()
        returned.append(logger.step(step) is not False)
        if step == STEPS:
            break
        rows = slice(step * BATCH + rank, (step + 1) * BATCH, WORLD)
        optimizer.zero_grad()
        loss_fn(wrapped(x[rows]), y[rows]).backward()
        optimizer.step()
    logger.close()
    report = {"pid": os.getpid(), "returned": returned, "logged": logger.logged_steps}
    (out / f"rank_{rank}.json").write_text(json.dumps(report))
    if rank == 0:
        np.savez(out / "weights.npz", **weights)
    distributed.destroy_process_group()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    worker(int(sys.argv[2]), pathlib.Path(sys.argv[1]))
