"""The public names of the README and docs/capture.md, reached from
`import tb_rnngrad` in a fresh interpreter, as a new user reaches them."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"

# The documented public API (`pytorch` is checked in its own
# tests), in an order where no access imports a later submodule first:
# `rnn_gradients` and `GradientLogger` import `tb_rnngrad.capture` and
# `tb_rnngrad.summary`, which would set those attributes as a side effect.
PUBLIC_NAMES = (
    "__version__",
    "viz.heatmap",
    "summary.gradients",
    "summary.gradients_pb",
    "summary.weights",
    "summary.weights_pb",
    "summary.weight_gradients",
    "summary.weight_gradients_pb",
    "capture.capture",
    "capture.KINDS",
    "rnn_gradients",
    "GradientLogger",
    "describe_weights",
)


def _run(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_every_public_name_is_reachable_from_the_package():
    code = f"""
import sys
import tb_rnngrad

seen = set()
for dotted in {PUBLIC_NAMES!r}:
    module, _, rest = dotted.partition(".")
    if rest and module not in seen:
        assert "tb_rnngrad." + module not in sys.modules, module + " imported early"
        seen.add(module)
    value = tb_rnngrad
    for part in dotted.split("."):
        value = getattr(value, part)
    print(dotted, type(value).__name__)
"""
    done = _run(code)
    assert done.returncode == 0, done.stderr[-3000:]
    reached = dict(line.split() for line in done.stdout.splitlines())
    assert list(reached) == list(PUBLIC_NAMES)
    assert reached["capture.capture"] == "function"
    assert reached["GradientLogger"] == "type"
    assert reached["capture.KINDS"] == "tuple"


def _capture_md_example() -> str:
    text = (DOCS / "capture.md").read_text(encoding="utf-8")
    after = text.split("Example: a two-layer LSTM", 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_the_capture_md_example_runs_in_a_fresh_interpreter():
    example = _capture_md_example()
    assert example.startswith("import keras\n")
    assert "tb_rnngrad.capture.capture(" in example
    checks = """
assert g1.shape == (16, 200, 64), g1.shape
assert profile.shape == (200,)
assert result.gradients["lstm_2"].shape == (16, 64)
(name,) = result.input_gradients
assert result.input_gradients[name].shape == (16, 200, 8)
assert np.all(np.isfinite(profile)) and profile[-1] > 0
print("ok")
"""
    done = _run(example + checks)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "ok"
