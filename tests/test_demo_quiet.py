"""The demo's output has no TensorFlow start-up lines (`demo/quiet.py`).

TensorFlow 2.21 prints them on import whatever TF_CPP_MIN_LOG_LEVEL says;
the demo imports it with stderr filtered, and filters its TensorBoard too.
"""

import io
import os
import subprocess
import sys

from demo import quiet

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _startup_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if quiet.is_startup_line(line)]


def test_a_plain_import_prints_them_so_the_check_below_means_something():
    found = subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert found.returncode == 0, found.stderr
    assert any("oneDNN custom operations" in line for line in found.stderr.split("\n"))


def test_a_tiny_demo_run_prints_none_of_them(tmp_path):
    command = [
        sys.executable, "-m", "demo", "--no-serve", "--models", "simplernn",
        "--epochs", "1", "--timesteps", "10", "--logdir", str(tmp_path),
    ]  # fmt: skip
    found = subprocess.run(
        command, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert found.returncode == 0, found.stderr
    assert "adding-simplernn" in found.stdout  # it trained and printed its table
    assert (tmp_path / "outcome.json").is_file()
    assert _startup_lines(found.stdout) == []
    assert _startup_lines(found.stderr) == []


def test_an_import_error_still_raises():
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "import importlib.util; importlib.util.find_spec = lambda name: True\n"
        "from demo import quiet\n"
        "try:\n"
        "    quiet.import_tensorflow()\n"
        "except ImportError as error:\n"
        "    print('raised', error.name)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.strip() == "raised tensorflow", found.stderr


def test_forward_copies_every_other_line_of_a_child():
    child = io.StringIO(
        "WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR\n"
        "I0000 port.cc:153] oneDNN custom operations are on. You may see ...\n"
        "TensorBoard 2.21.0 at http://127.0.0.1:6006/ (Press CTRL+C to quit)\n"
    )
    out = io.StringIO()
    quiet.forward(child, out).join(timeout=10)
    assert out.getvalue() == (
        "TensorBoard 2.21.0 at http://127.0.0.1:6006/ (Press CTRL+C to quit)\n"
    )
