"""Benchmark: capture on each Keras 3 backend against that backend's own bare
forward+backward.

Run from the repository root:

    python -m bench.bench_backends            # a few minutes on 2 cores
    python -m bench.bench_backends --quick    # a smoke run
    python -m bench.bench_backends --json out.json

Keras fixes its backend at import, so each backend (TensorFlow, JAX,
PyTorch) runs in its own subprocess (`--worker BACKEND`), one after the
other, on the `bench_capture` model (`bench.keras_model`: input (16, 200, 8),
LSTM(64) -> LSTM(64) -> Dense(1)). In each, side by side and rotated
(`bench.timing`), after a warm-up that compiles everything:

- bare: the backend's own forward and backward of the compiled loss with
  respect to the trainable weights, compiled as that backend trains
  (`tf.function` with a `GradientTape`; `jax.jit` of `jax.value_and_grad`
  over `model.stateless_call`; eager `torch.autograd.grad`);
- `capture.capture` of "gradients" (target: at most 1.2x bare);
- `capture.capture` of "gradients", "state_gradients" and
  "weight_contributions" (the through-time kinds), for reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from bench.timing import Recorder, interleave, ratio, spread

BACKENDS = ("tensorflow", "jax", "torch")
LIMIT = 1.2
STATE_KINDS = ("gradients", "state_gradients", "weight_contributions")


def bare_step(model: Any, x: Any, y: Any) -> Callable[[], object]:
    """The backend's forward+backward of the loss w.r.t. the weights."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step(x: Any, y: Any) -> list:
            with tf.GradientTape() as tape:
                loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
            return tape.gradient(loss, model.trainable_variables)

        xs, ys = tf.constant(x), tf.constant(y)
        return lambda: [g.numpy() for g in step(xs, ys)]
    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def loss(trainable: list, frozen: list, x: Any, y: Any) -> Any:
            y_pred, _ = model.stateless_call(trainable, frozen, x, training=False)
            return keras.ops.mean(keras.losses.mean_squared_error(y, y_pred))

        grad = jax.jit(jax.value_and_grad(loss))
        return lambda: jax.block_until_ready(grad(trainable, frozen, x, y))
    import torch

    params = [v.value for v in model.trainable_variables]
    xs, ys = torch.tensor(x), torch.tensor(y)

    def step() -> tuple:
        loss = model.compute_loss(x=xs, y=ys, y_pred=model(xs, training=False))
        return torch.autograd.grad(loss, params)

    return step


def worker(reps: int) -> dict:
    """This process's backend: the three sides, rotated, and their ratios."""
    import keras

    from bench.keras_model import SAMPLES, build_model, make_data
    from tb_rnngrad.capture import capture

    model = build_model()
    x, y = make_data(SAMPLES)
    sides = {
        "capture_gradients": lambda: capture(model, x, y, kinds=("gradients",)),
        "capture_states": lambda: capture(model, x, y, kinds=STATE_KINDS),
        "bare": bare_step(model, x, y),
    }
    raw = interleave(sides, reps)
    out = {"backend": keras.backend.backend()}
    for name, times in raw.items():
        out[name] = {
            "ms": spread(times["wall"], 1e3),
            "cpu_ms": spread(times["cpu"], 1e3),
        }
        if name != "bare":
            out[name]["ratio"] = ratio(times["wall"], raw["bare"]["wall"])
            out[name]["cpu_ratio"] = ratio(times["cpu"], raw["bare"]["cpu"])
    return out


def run_worker(backend: str, reps: int) -> dict:
    """Runs `worker` under KERAS_BACKEND=backend; returns its figures."""
    with tempfile.TemporaryDirectory(prefix="bench_backends_") as tmp:
        path = os.path.join(tmp, "out.json")
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [sys.executable, "-m", "bench.bench_backends"]
        command += ["--worker", "--reps", str(reps), "--json", path]
        subprocess.run(command, env=env, check=True)
        with open(path) as file:
            return json.load(file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="rotated rounds")
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps = 3
    if args.worker:
        with open(args.json, "w") as file:
            json.dump(worker(args.reps), file)
        return 0
    rec = Recorder("bench_backends", args.quick, {"reps": args.reps})
    found = {backend: run_worker(backend, args.reps) for backend in BACKENDS}
    rows = []
    for backend, figures in found.items():
        for side, label in (
            ("capture_gradients", "capture gradients / bare fwd+bwd"),
            ("capture_states", "capture + state kinds / bare fwd+bwd"),
        ):
            rows.append(
                {
                    "label": f"{backend}: {label}",
                    "ms": figures[side]["ms"],
                    "b_ms": figures["bare"]["ms"],
                    "ratio": figures[side]["ratio"],
                    "cpu_ratio": figures[side]["cpu_ratio"],
                    "target": LIMIT if side == "capture_gradients" else None,
                }
            )
    rec["backends"] = found
    rec["rows"] = rows
    print_table(rows)
    for row in rows:
        if row["target"] is not None:
            rec.check(row["label"], row["ratio"]["median"], "<=", row["target"], "x")
    if args.json:
        rec.write(args.json)
    return 0


def print_table(rows: list[dict]) -> None:
    header = f"{'comparison':52} {'A (ms)':>9} {'B (ms)':>9} {'A/B':>7} {'cpu':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        wall = row["ratio"]["median"]
        mark = "" if row["target"] is None else ("ok" if wall <= LIMIT else "MISS")
        print(
            f"{row['label']:52} {row['ms']['median']:9.1f} "
            f"{row['b_ms']['median']:9.1f} {wall:7.3f} "
            f"{row['cpu_ratio']['median']:7.3f} {mark}"
        )


if __name__ == "__main__":
    sys.exit(main())
