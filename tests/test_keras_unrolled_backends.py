"""Unrolled Keras recurrences on the JAX and PyTorch backends.

Keras fixes its backend at import, so each backend runs
`tests/backends/unrolled.py` in its own subprocess, on the same NumPy-drawn
weights and batch. TensorFlow's numbers are checked against independent
tapes in tests/test_keras_unrolled.py; here PyTorch must give the same
numbers for every model, JAX for the shared layer (independent calls), and
JAX's CaptureError for calls that continue one another names the backends
to use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "backends" / "unrolled.py"
BACKENDS = ("tensorflow", "jax", "torch")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("unrolled")
    processes = {}
    for backend in BACKENDS:
        env = {
            **os.environ,
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), os.environ.get("PYTHONPATH", "")]
            ),
        }
        processes[backend] = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    failed = {}
    for backend, process in processes.items():
        output, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            failed[backend] = output[-3000:]
    assert not failed, failed
    return out


def _load(runs: Path, backend: str) -> tuple[dict, dict]:
    arrays = dict(np.load(runs / f"{backend}.npz"))
    return arrays, json.loads((runs / f"{backend}.json").read_text())


def test_tensorflow_captures_every_model(runs):
    arrays, facts = _load(runs, "tensorflow")
    assert facts["errors"] == {}
    assert facts["layers"]["cell_loop"] == {"cell": [1, 1, 1, 1]}
    assert facts["layers"]["decoder"]["decoder"] == [1, 1, 1]
    siamese = sorted(facts["layers"]["siamese"])
    assert siamese == ["shared", "shared/call_0", "shared/call_1"]


@pytest.mark.parametrize(
    "backend, models",
    [("torch", ("cell_loop", "decoder", "siamese")), ("jax", ("siamese",))],
)
def test_same_numbers_as_tensorflow(runs, backend, models):
    tensorflow, _ = _load(runs, "tensorflow")
    arrays, facts = _load(runs, backend)
    for model in models:
        expected = sorted(k for k in tensorflow if k.startswith(f"{model}/"))
        assert sorted(k for k in arrays if k.startswith(f"{model}/")) == expected
        for key in expected:
            np.testing.assert_allclose(
                arrays[key], tensorflow[key], rtol=2e-5, atol=1e-6, err_msg=key
            )
        assert facts["layers"][model] == _load(runs, "tensorflow")[1]["layers"][model]


def test_jax_refuses_calls_that_continue_one_another_naming_the_backends(runs):
    _, facts = _load(runs, "jax")
    assert sorted(facts["errors"]) == ["cell_loop", "decoder"]
    for model, layer in (("cell_loop", "cell"), ("decoder", "decoder")):
        message = facts["errors"][model]
        assert message.startswith(f"Layer '{layer}' is called")
        assert "KERAS_BACKEND=tensorflow (or torch)" in message
