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

#: What the translate demo's logger writes: every kind of a recurrent module.
TRANSLATE_KINDS = (
    "gradients",
    "activations",
    "state_gradients",
    "weight_contributions",
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


@dataclasses.dataclass(frozen=True)
class TranslateConfig:
    """Task, model size, optimizer, how long to train and how often to log."""

    length: int = 12
    symbols: int = 10
    hidden: int = 64
    train_samples: int = 16000  # 250 steps of 64 per epoch
    heldout_samples: int = 1024
    batch_size: int = 64
    epochs: int = 8
    learning_rate: float = 3e-3  # cosine-annealed to 0 over the epochs
    clipnorm: float = 1.0
    every_n_steps: int = 100
    probe_samples: int = 16
    seed: int = 0


def run_name(task: Task, model_name: str) -> str:
    """`<task>-<model>`, the run's name in TensorBoard."""
    return f"{task.name}-{model_name}"
