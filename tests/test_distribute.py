"""GradientLogger and the capture under tf.distribute, in real processes.

Each fit runs `testkit.distributed_fit` in its own process: `MirroredStrategy`
over two logical CPUs, and `MultiWorkerMirroredStrategy` with two worker
processes meeting on 127.0.0.1 through `TF_CONFIG`. The logged numbers are
compared with a single-device capture of the same weights in this process.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tb_rnngrad.capture import capture
from testkit import distributed_fit as fit
from testkit.events import Events
from testkit.tensorboard_server import free_port

#: Seconds a fit may take before the test calls it hung (a fit takes 5-20 s).
TIMEOUT = 240
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(kind: str, outs: list[pathlib.Path], tf_configs: list[dict | None]):
    """Runs one fit process per out dir at once; returns their reports."""
    procs = []
    for out, tf_config in zip(outs, tf_configs, strict=True):
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
        if tf_config is not None:
            env["TF_CONFIG"] = json.dumps(tf_config)
        command = [sys.executable, "-m", "testkit.distributed_fit", kind, str(out)]
        log = (out / "stderr.txt").open("w")
        procs.append(subprocess.Popen(command, env=env, stderr=log, cwd=ROOT))
    try:
        codes = [p.wait(timeout=TIMEOUT) for p in procs]
    except subprocess.TimeoutExpired:
        pytest.fail(f"{kind}: a fit process hung for {TIMEOUT} s")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for out, code in zip(outs, codes, strict=True):
        assert code == 0, (out / "stderr.txt").read_text()[-3000:]
    return [json.loads((out / "report.json").read_text()) for out in outs]


def _weights(out: pathlib.Path) -> dict:
    with np.load(out / "weights.npz") as saved:
        return dict(saved)


def _at(weights: dict, step: int | str) -> list[np.ndarray]:
    n = sum(1 for k in weights if k.startswith(f"{step}_"))
    return [weights[f"{step}_{i}"] for i in range(n)]


def _assert_logged_equals_single_device(out: pathlib.Path, steps: list[int]):
    """Each logged step equals a capture of that step's weights on one device."""
    weights = _weights(out)
    model = fit.model()
    x, y = fit.data()
    events = Events(str(out / "logs"))
    logged = {tag: events.read(tag) for tag in events.tags()}
    for step in steps:
        model.set_weights(_at(weights, step))
        expected = capture(model, x[: fit.PROBE], y[: fit.PROBE], kinds=fit.KINDS)
        assert logged["gradients/lstm"][step][0].shape == (fit.PROBE, 4)
        np.testing.assert_allclose(
            logged["gradients/lstm"][step][0], expected.gradients["lstm"], rtol=1e-6
        )
        np.testing.assert_allclose(
            logged["state_gradients/lstm"][step][0],
            expected.state_gradients["lstm"],
            rtol=1e-6,
        )
        np.testing.assert_allclose(
            logged["weight_gradients/lstm/kernel"][step][0],
            expected.weight_gradients["lstm"]["kernel"],
            rtol=1e-6,
        )
    assert sorted(logged["gradients/lstm"]) == steps
    # rnn_gradients called inside strategy.scope(): no 1/replicas loss scale.
    model.set_weights(_at(weights, "final"))
    single = capture(model, x[: fit.PROBE], y[: fit.PROBE]).gradients["lstm"]
    np.testing.assert_allclose(weights["in_scope"], single, rtol=1e-6)


def _event_files(root: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in root.rglob("*") if "tfevents" in p.name]


def test_mirrored_strategy_logs_single_device_numbers(tmp_path):
    (report,) = _run("mirrored", [tmp_path], [None])

    assert report["replicas"] == 2
    assert report["steps"] == fit.SAMPLES // fit.BATCH
    assert report["logged_steps"]["ok"] == [0, 3, 6]
    _assert_logged_equals_single_device(tmp_path, [0, 3, 6])
    # The directory replaced by a file at step 4: one warning, training went on.
    assert report["logged_steps"]["broken"] == [0, 3]
    (warning,) = report["warnings"]
    assert "logging step 6 failed" in warning and "not a directory" in warning
    assert "cannot run inside strategy.run" in report["in_replica_error"]


def test_multi_worker_only_the_chief_writes_and_errors_do_not_hang(tmp_path):
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    outs = [tmp_path / "chief", tmp_path / "worker"]
    configs = [
        {"cluster": cluster, "task": {"type": "worker", "index": i}} for i in (0, 1)
    ]
    chief, worker = _run("multi_worker", outs, configs)

    steps = fit.SAMPLES // fit.BATCH
    assert chief["replicas"] == worker["replicas"] == 2
    assert chief["steps"] == worker["steps"] == steps  # both finished training
    assert chief["should_save_summary"] and not worker["should_save_summary"]
    # The chief logs what one device computes from its weights...
    assert chief["logged_steps"] == {"ok": [0, 3, 6], "broken": [0, 3], "file": []}
    _assert_logged_equals_single_device(outs[0], [0, 3, 6])
    # ...which are the worker's too (mirrored variables).
    chief_weights, worker_weights = _weights(outs[0]), _weights(outs[1])
    for step in (0, 3, 6, steps):
        for a, b in zip(
            _at(chief_weights, step), _at(worker_weights, step), strict=True
        ):
            np.testing.assert_array_equal(a, b)
    # The worker validated the setup (one capture per logger) and then did
    # nothing: no capture during training, no summaries, no warnings.
    assert worker["logged_steps"] == {"ok": [], "broken": [], "file": []}
    assert worker["captures"] == 3
    assert worker["warnings"] == []
    assert _event_files(outs[1]) == []
    # The chief's write errors were warnings; training went on.
    file_dir, broken = chief["warnings"]
    assert "a_file" in file_dir and "Nothing is logged in this run" in file_dir
    assert "logging step 6 failed" in broken
