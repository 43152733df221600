"""Every Keras: Keras 3 on the TensorFlow, JAX and PyTorch backends, and tf_keras.

Keras fixes its backend at import, so each runs in its own subprocess
(`tests/backends/scenario.py`, all four at once): the model of
`tests/backends/train.py` with the same NumPy-drawn weights, a capture of
every supported kind, on JAX and PyTorch an independent computation in that
backend's autodiff, and the training script with GradientLogger in fit.
Here: each backend against its own autodiff, every backend against
TensorFlow's numbers, the event files read back through TensorBoard's data
provider and a real `tensorboard` process, and the CaptureErrors.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboard import context
from tensorboard.data import provider as dp

from tb_rnngrad.capture import support
from testkit.chromium import VIEWPORT
from testkit.plugin_page import open_plugin
from testkit.providers import start_provider
from testkit.tensorboard_server import fetch_json, tensorboard_server

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "backends" / "scenario.py"
RUNS = ("tensorflow", "jax", "torch", "tf_keras")
TOLERANCE = {"rtol": 2e-5, "atol": 1e-6}


def _environment(backend: str) -> dict[str, str]:
    paths = [str(ROOT), str(SCENARIO.parent), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The four scenario runs, in one directory (`<run>.npz`, `<run>.json`,
    and the logger's `<run>/rnngrad`)."""
    out = tmp_path_factory.mktemp("backends")
    processes = {}
    for run in RUNS:
        backend = "tensorflow" if run == "tf_keras" else run
        extra = ["--tf-keras"] if run == "tf_keras" else []
        processes[run] = subprocess.Popen(
            [sys.executable, str(SCENARIO), str(out), *extra],
            env=_environment(backend),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    failed = {}
    for run, process in processes.items():
        output, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            failed[run] = output[-3000:]
    assert not failed, failed
    return out


def _arrays(runs: Path, run: str) -> dict[str, np.ndarray]:
    return dict(np.load(runs / f"{run}.npz"))


def _facts(runs: Path, run: str) -> dict:
    return json.loads((runs / f"{run}.json").read_text())


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_capture_equals_the_backends_own_autodiff(runs, backend):
    arrays = _arrays(runs, backend)
    references = [k for k in arrays if k.startswith("reference/")]
    assert len(references) == 12  # every kind of the LSTM, the GRU's gradient
    for key in references:
        captured = arrays["capture/" + key.removeprefix("reference/")]
        np.testing.assert_allclose(captured, arrays[key], **TOLERANCE, err_msg=key)


@pytest.mark.parametrize("run", ["jax", "torch", "tf_keras"])
def test_same_numbers_as_tensorflow_on_the_same_weights(runs, run):
    tensorflow, arrays = _arrays(runs, "tensorflow"), _arrays(runs, run)
    captured = sorted(k for k in arrays if k.startswith("capture/"))
    kinds = support.KINDS_BY_PLATFORM[
        "tf_keras/tensorflow" if run == "tf_keras" else f"keras/{run}"
    ]
    expected = sorted(
        k for k in tensorflow if k == "capture/loss" or k.split("/")[1] in kinds
    )
    assert captured == expected
    assert any("/state_gradients/lstm/cell" in k for k in captured) == (
        run != "tf_keras"
    )
    for key in captured:
        np.testing.assert_allclose(
            arrays[key], tensorflow[key], **TOLERANCE, err_msg=key
        )


def _read_back(logdir: Path) -> dict[str, dict[str, dict[int, np.ndarray]]]:
    """{run: {tag: {step: tensor}}} of the rnngrad blob sequences, through
    TensorBoard's data provider."""
    provider, _ = start_provider("multiplexer", str(logdir))
    ctx = context.RequestContext()
    listing = provider.list_blob_sequences(ctx, experiment_id="", plugin_name="rnngrad")
    result = provider.read_blob_sequences(
        ctx,
        experiment_id="",
        plugin_name="rnngrad",
        downsample=1000,
        run_tag_filter=dp.RunTagFilter(runs=list(listing)),
    )
    return {
        run: {
            tag: {
                datum.step: np.load(
                    io.BytesIO(
                        provider.read_blob(ctx, blob_key=datum.values[0].blob_key)
                    )
                )
                for datum in data
            }
            for tag, data in by_tag.items()
        }
        for run, by_tag in result.items()
    }


def test_logged_runs_read_back_alike_through_the_data_provider(runs):
    logged = _read_back(runs)
    assert sorted(logged) == sorted(f"{run}/rnngrad" for run in RUNS)
    reference = logged["tensorflow/rnngrad"]
    assert "gradients/lstm" in reference and "weight_gradients/gru/bias" in reference
    for run in RUNS:
        assert _facts(runs, run)["logged_steps"] == [0, 2, 4]
        found = logged[f"{run}/rnngrad"]
        assert sorted(found) == sorted(reference), run
        for tag, by_step in found.items():
            assert sorted(by_step) == [0, 2, 4], (run, tag)
            for step, tensor in by_step.items():
                np.testing.assert_allclose(
                    tensor, reference[tag][step], rtol=1e-4, atol=1e-6,
                    err_msg=f"{run} {tag} step {step}",
                )  # fmt: skip
        # Step 0 is the capture's batch on the same weights.
        captured = _arrays(runs, run)["capture/gradients/lstm"]
        np.testing.assert_allclose(found["gradients/lstm"][0], captured, **TOLERANCE)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_runs_never_import_tensorflow(runs, backend):
    assert _facts(runs, backend)["tensorflow_imported"] is False


def test_tensorboard_shows_the_four_runs_side_by_side(runs, browser):
    with tensorboard_server(str(runs)) as base:
        tags = fetch_json(f"{base}/data/plugin/rnngrad/tags")
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # A page opened without runs in its address shows every run of the layer.
        frame = open_plugin(page, base)
        shown = frame.locator(".rg-run-name").all_inner_texts()
        heatmaps = frame.locator(".rg-panel canvas.rg-heatmap:visible").count()
        context.close()
    assert sorted(shown) == sorted(f"{run}/rnngrad" for run in RUNS)
    assert heatmaps == len(RUNS) and errors == []
    assert sorted(tags) == sorted(f"{run}/rnngrad" for run in RUNS)
    for run in RUNS:
        entry = tags[f"{run}/rnngrad"]["gradients/lstm"]
        assert entry["kind"] == "gradients" and entry["layer_class"] == "LSTM"
        assert entry["max_step"] == 4


def test_what_is_not_supported_says_so(runs):
    tf_keras = _facts(runs, "tf_keras")["errors"]["unsupported_kinds"]
    assert "['state_gradients', 'weight_contributions', 'gate_activations']" in tf_keras
    assert "tf_keras (Keras 2)" in tf_keras and "import keras" in tf_keras
    for backend in ("jax", "torch"):
        message = _facts(runs, backend)["errors"]["custom_cell_weight_contributions"]
        assert (
            f"not on '{backend}'" in message
            and "Drop 'weight_contributions'" in message
        )


def test_an_unsupported_keras_backend_is_a_capture_error():
    code = (
        "import keras, numpy as np, tb_rnngrad\n"
        "from tb_rnngrad.capture import CaptureError\n"
        "i = keras.Input((3, 2)); m = keras.Model(i, keras.layers.LSTM(2)(i))\n"
        "m.compile(loss='mse')\n"
        "try:\n"
        "    tb_rnngrad.rnn_gradients(m, np.zeros((1, 3, 2)), np.zeros((1, 2)))\n"
        "except CaptureError as error:\n"
        "    print(error)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=_environment("numpy"),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "runs on the 'numpy' backend" in output
    assert "Set KERAS_BACKEND to one of them" in output


def test_other_objects_are_capture_errors_that_say_what_to_pass():
    import torch

    from tb_rnngrad.capture import CaptureError, rnn_gradients

    with pytest.raises(CaptureError, match=r"PyTorch module .*tb_rnngrad\.pytorch"):
        rnn_gradients(torch.nn.LSTM(2, 3), None, None)
    with pytest.raises(
        CaptureError, match=r"Expected a Keras model; got builtins.dict"
    ):
        rnn_gradients({}, None, None)


def _support_table(path: Path) -> dict[str, set[str]]:
    """{column: kinds marked yes} of the support table in a Markdown file."""
    text = path.read_text()
    after = text[text.index("<!-- support-table -->") :].splitlines()[1:]
    lines = []
    for line in after:
        if not line.startswith("|"):
            break
        lines.append(line)
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table: dict[str, set[str]] = {column: set() for column in header[1:]}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        kind = re.match(r"`?(\w+)", cells[0]).group(1)
        for column, cell in zip(header[1:], cells[1:], strict=True):
            if cell.startswith("yes"):
                table[column].add(kind)
    return table


@pytest.mark.parametrize("page", ["docs/capture.md"])
def test_the_support_table_is_what_the_code_supports(page):
    columns = {
        "Keras 3 + TensorFlow": "keras/tensorflow",
        "Keras 3 + JAX": "keras/jax",
        "Keras 3 + PyTorch": "keras/torch",
        "tf_keras (Keras 2)": "tf_keras/tensorflow",
    }
    table = _support_table(ROOT / page)
    assert set(table) == set(columns)
    for column, platform in columns.items():
        kinds = set(support.KINDS_BY_PLATFORM[platform])
        assert table[column] == kinds | {"GradientLogger"}, column
