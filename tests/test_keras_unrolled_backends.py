"""Unrolled Keras recurrences on the JAX and PyTorch backends.

Keras fixes its backend at import, so each backend runs
`tests/backends/unrolled.py` in its own subprocess, on the same NumPy-drawn
weights and batch. TensorFlow's numbers are checked against independent
tapes in tests/test_keras_unrolled.py; here JAX and PyTorch must give the
same entries (the same chains) and the same numbers for every model.
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
    _, facts = _load(runs, "tensorflow")
    assert facts["errors"] == {}
    assert facts["layers"]["cell_loop"] == {"cell": [1, 1, 1, 1]}
    reset = {"cell": [], "cell/call_0": [1, 1], "cell/call_1": [1, 1]}
    assert facts["layers"]["reset"] == reset
    assert facts["layers"]["decoder"]["decoder"] == [1, 1, 1]
    siamese = sorted(facts["layers"]["siamese"])
    assert siamese == ["shared", "shared/call_0", "shared/call_1"]


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_same_entries_and_numbers_as_tensorflow(runs, backend):
    tensorflow, expected_facts = _load(runs, "tensorflow")
    arrays, facts = _load(runs, backend)
    assert facts == expected_facts
    assert sorted(arrays) == sorted(tensorflow)
    for key in tensorflow:
        np.testing.assert_allclose(
            arrays[key], tensorflow[key], rtol=2e-5, atol=1e-6, err_msg=key
        )
