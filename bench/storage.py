"""Storage: bytes on disk per logged value, against raw float32 (4 bytes).

    python -m bench.storage [--quick] [--json OUT]

Logs the same (16, 200, 64) gradient at N steps in each of these ways and
divides the event files' size by the number of values logged (N x 204,800):

- `summary.gradients` (TF op, what `GradientLogger` writes), float32 and
  float16: the full tensor as `.npy` bytes in a blob sequence, plus the
  per-timestep profile (3 x timesteps float32) and the reach scalar;
- `summary.gradients_pb` written as one event per step with TensorBoard's
  `EventFileWriter` (the NumPy twin, as a tensorboardX or PyTorch user would);
- `tf.summary.histogram` of the same tensor (what TensorBoard users log today:
  30 buckets, the time axis and channels are gone);
- `np.save` of the tensor: the raw floor, 4 bytes per value plus a 128-byte
  header.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.summary.writer import event_file_writer  # noqa: E402

from bench.timing import Recorder  # noqa: E402
from tb_rnngrad import summary  # noqa: E402
from testkit.data import gradient_like  # noqa: E402

SHAPE = (16, 200, 64)


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def tf_writer(fn: Callable[[np.ndarray, int], None]) -> Callable:
    """A logger: (dir, data, steps) -> sizes after each step, with a TF writer."""

    def log(path: Path, data: np.ndarray, steps: int) -> list[int]:
        writer = tf.summary.create_file_writer(str(path))
        sizes = []
        with writer.as_default():
            for step in range(steps):
                fn(data * (1 + step % 3), step)
                writer.flush()
                sizes.append(dir_bytes(path))
        writer.close()
        return sizes

    return log


def pb_events(path: Path, data: np.ndarray, steps: int) -> list[int]:
    writer = event_file_writer.EventFileWriter(str(path))
    sizes = []
    for step in range(steps):
        pb = summary.gradients_pb("gradients/lstm", data * (1 + step % 3))
        writer.add_event(event_pb2.Event(step=step, wall_time=1e9 + step, summary=pb))
        writer.flush()
        sizes.append(dir_bytes(path))
    writer.close()
    return sizes


def npy_files(path: Path, data: np.ndarray, steps: int) -> list[int]:
    path.mkdir(parents=True)
    sizes = []
    for step in range(steps):
        np.save(path / f"step_{step}.npy", data)
        sizes.append(dir_bytes(path))
    return sizes


WAYS: dict[str, tuple[str, Callable]] = {
    "gradients_f32": (
        "summary.gradients, float32 (GradientLogger)",
        tf_writer(lambda d, s: summary.gradients("gradients/lstm", d, s)),
    ),
    "gradients_f16": (
        "summary.gradients, float16",
        tf_writer(
            lambda d, s: summary.gradients("gradients/lstm", d.astype(np.float16), s)
        ),
    ),
    "gradients_pb": ("summary.gradients_pb, one event per step", pb_events),
    "histogram": (
        "tf.summary.histogram (time axis lost)",
        tf_writer(lambda d, s: tf.summary.histogram("gradients/lstm", d, step=s)),
    ),
    "npy": ("np.save, raw float32 (floor)", npy_files),
}


def run(steps: int, workdir: Path) -> dict:
    data = gradient_like(SHAPE)
    values = data.size
    out = {}
    for key, (label, log) in WAYS.items():
        sizes = log(workdir / key, data, steps)
        later = (sizes[-1] - sizes[0]) / (steps - 1) if steps > 1 else sizes[0]
        out[key] = {
            "label": label,
            "steps": steps,
            "bytes_total": sizes[-1],
            "bytes_first_step": sizes[0],
            "bytes_per_later_step": later,
            "bytes_per_value": sizes[-1] / (steps * values),
            "bytes_per_value_later": later / values,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--steps", type=int, default=None, help="logged steps")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    steps = args.steps or (4 if args.quick else 20)
    rec = Recorder(
        "storage",
        args.quick,
        {"steps": steps, "shape": list(SHAPE), "values_per_step": int(np.prod(SHAPE))},
    )
    with tempfile.TemporaryDirectory(prefix="bench_storage_") as workdir:
        rec["ways"] = run(steps, Path(workdir))
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
