"""A tiny training run under a `tf.distribute` strategy, as its own process.

    python -m testkit.distributed_fit mirrored OUT_DIR
    TF_CONFIG=... python -m testkit.distributed_fit multi_worker OUT_DIR

A strategy fixes the devices of the process it starts in (two logical CPUs for
`mirrored`; the cluster of `TF_CONFIG` for `multi_worker`), so every run is a
fresh process. It trains `model()` on `data()` with `GradientLogger`s in
OUT_DIR (see `train` for how) and writes OUT_DIR/report.json and
OUT_DIR/weights.npz: the weights at each step (to recompute the capture on one
device), the steps each logger wrote, how often each ran a capture, the
warnings, `rnn_gradients` called inside `strategy.scope()` and the error it
raises inside `strategy.run`. `tests/test_distribute.py` runs it;
`bench/bench_distribute.py` shares its `strategy_for`.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tb_rnngrad  # noqa: E402
from tb_rnngrad.capture import CaptureError  # noqa: E402
from tb_rnngrad.capture.tf_pass import GradientCapture  # noqa: E402

SAMPLES, TIMESTEPS, FEATURES, BATCH = 64, 10, 3, 8  # 8 steps per epoch
PROBE = 6  # probe samples
EVERY = 3  # logging interval of the loggers
KINDS = ("gradients", "state_gradients", "weight_gradients")


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The training set; its first `PROBE` samples are the probe batch."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, TIMESTEPS, FEATURES)).astype("float32")
    return x, x[:, :3, :1].sum(axis=1)


def model(units: int = 4):
    """LSTM(units) -> Dense(1), seeded, compiled with SGD and MSE."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((TIMESTEPS, FEATURES))
    hidden = keras.layers.LSTM(units, name="lstm")(inputs)
    out = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    out.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return out


def strategy_for(kind: str):
    """The strategy `kind` names, its devices configured first."""
    if kind == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        logical = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, logical)
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    if kind == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise SystemExit(f"unknown strategy {kind!r}: use mirrored or multi_worker")


class WeightsAtSteps(keras.callbacks.Callback):
    """The weights at every batch begin and at the end, by optimizer step."""

    def __init__(self):
        super().__init__()
        self.weights: dict[int, list[np.ndarray]] = {}

    def _keep(self):
        step = int(self.model.optimizer.iterations.numpy())
        self.weights[step] = [w.numpy() for w in self.model.weights]

    def on_train_begin(self, logs=None):
        self._keep()

    def on_train_batch_begin(self, batch, logs=None):
        self._keep()

    def on_train_end(self, logs=None):
        self._keep()


class ReplaceByFile(keras.callbacks.Callback):
    """Replaces directory `path` by a file when the step reaches `at_step`."""

    def __init__(self, path: pathlib.Path, at_step: int):
        super().__init__()
        self.path, self.at_step = path, at_step

    def on_train_batch_begin(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.at_step:
            shutil.rmtree(self.path)
            self.path.write_text("not a directory")


def train(kind: str, strategy, net, xy, callbacks: list) -> None:
    """One epoch of batches of `BATCH`: `model.fit` under MirroredStrategy.

    Under MultiWorkerMirroredStrategy Keras 3's `fit` fails before the first
    step (keras-team/keras#20585), so this is the loop Keras documents for
    custom training: `strategy.run` of a step over the distributed dataset,
    with the callbacks driven by a `keras.callbacks.CallbackList`.
    """
    if kind == "mirrored":
        net.fit(*xy, batch_size=BATCH, epochs=1, callbacks=callbacks, verbose=0)
        return
    dataset = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(xy).batch(BATCH)
    )

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            loss = net.compute_loss(x=x, y=y, y_pred=net(x, training=True))
        grads = tape.gradient(loss, net.trainable_variables)
        net.optimizer.apply_gradients(zip(grads, net.trainable_variables, strict=True))

    step = tf.function(lambda batch: strategy.run(replica_step, args=batch))
    hooks = keras.callbacks.CallbackList(callbacks, model=net)
    hooks.on_train_begin()
    for i, batch in enumerate(dataset):
        hooks.on_train_batch_begin(i)
        step(batch)
        hooks.on_train_batch_end(i)
    hooks.on_train_end()


def _counting(capture_class) -> dict[str, int]:
    """Counts the calls of `capture_class.run` from now on."""
    counts = {"runs": 0}
    run = capture_class.run

    def counted(self, batch):
        counts["runs"] += 1
        return run(self, batch)

    capture_class.run = counted
    return counts


def main(kind: str, out: pathlib.Path) -> None:
    strategy = strategy_for(kind)
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    x, y = data()
    with strategy.scope():
        net = model()
    counts = _counting(GradientCapture)
    ok_dir = out / "logs"
    broken_dir = out / "broken"  # replaced by a file during training
    file_dir = out / "a_file"  # a file from the start
    broken_dir.mkdir(parents=True)
    file_dir.write_text("not a directory")
    probe = (x[:PROBE], y[:PROBE])
    loggers = {
        "ok": tb_rnngrad.GradientLogger(
            ok_dir, probe, every_n_steps=EVERY, kinds=KINDS
        ),
        "broken": tb_rnngrad.GradientLogger(broken_dir, probe, every_n_steps=EVERY),
    }
    weights = WeightsAtSteps()
    callbacks = [weights, *loggers.values()]
    if kind == "multi_worker":  # a write error must not stop the cluster
        loggers["file"] = tb_rnngrad.GradientLogger(file_dir, probe, every_n_steps=2)
        callbacks.append(loggers["file"])
    if strategy.extended.should_save_summary:
        callbacks.append(ReplaceByFile(broken_dir, at_step=EVERY + 1))
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        train(kind, strategy, net, (x, y), callbacks)
    seconds = time.monotonic() - started
    runs_in_fit = counts["runs"]
    with strategy.scope():
        in_scope = tb_rnngrad.rnn_gradients(net, *probe)["lstm"]
    try:
        strategy.run(lambda: tb_rnngrad.rnn_gradients(net, *probe))
        in_replica = None
    except CaptureError as error:
        in_replica = str(error)
    np.savez(
        out / "weights.npz",
        **{
            f"{step}_{i}": w
            for step, ws in weights.weights.items()
            for i, w in enumerate(ws)
        },
        in_scope=in_scope,
        **{f"final_{i}": w.numpy() for i, w in enumerate(net.weights)},
    )
    report = {
        "kind": kind,
        "task": task,
        "should_save_summary": bool(strategy.extended.should_save_summary),
        "replicas": strategy.num_replicas_in_sync,
        "steps": int(net.optimizer.iterations.numpy()),
        "logged_steps": {name: lg.logged_steps for name, lg in loggers.items()},
        "captures": runs_in_fit,
        "warnings": [str(w.message) for w in caught],
        "fit_seconds": seconds,
        "in_replica_error": in_replica,
        "devices": [d.name for d in tf.config.list_logical_devices("CPU")],
    }
    (out / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], pathlib.Path(sys.argv[2]))
