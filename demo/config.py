"""The demo's training settings and run names, for either framework."""

from __future__ import annotations

import dataclasses

from demo.tasks import Task

#: The demo's models, by name (`demo.models`, `demo.torch_train`).
MODEL_NAMES = ("simplernn", "gru", "lstm")

#: What the demo's loggers write, in either framework.
KINDS = (
    "gradients",
    "state_gradients",
    "weight_contributions",
    "input_gradients",
    "weights",
    "weight_gradients",
)


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


def run_name(task: Task, model_name: str) -> str:
    """`<task>-<model>`, the run's name in TensorBoard."""
    return f"{task.name}-{model_name}"
