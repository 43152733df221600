"""What a release gives users: the wheel, installed into a fresh virtualenv.

The wheel is built from a copy of the project's files, installed with its
dependencies from the package index into a virtualenv, and that virtualenv's
TensorBoard (run with `python -I`: no source tree, no PYTHONPATH) serves a
small logdir to headless Chromium. An editable install by the pip that Python
bundles must find the frontend too, also where that pip would run a legacy
`setup.py develop` (setuptools and wheel installed, as in many virtualenvs).
"""

from __future__ import annotations

import ensurepip
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer import event_file_writer

from tb_rnngrad import summary
from testkit.plugin_page import draw_count, open_plugin
from testkit.tensorboard_server import fetch, start_tensorboard, wait_for_json

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[1]
RUN, TAG, SHAPE = "train", "lstm", (2, 6, 3)
#: Prints the installed frontend's directory (run by a venv's `python -I`).
FIND_FRONTEND = "import importlib.resources as r; print(r.files('tb_rnngrad.frontend'))"


def run(*args, cwd: Path | None = None) -> str:
    """Runs a command; returns its stdout, or fails with its output."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == 0, f"$ {' '.join(map(str, args))}\n{result.stderr}"
    return result.stdout


def fresh_venv(path: Path) -> Path:
    """A virtualenv with the pip that Python bundles; returns its python."""
    run(sys.executable, "-m", "venv", path)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the project's files (tracked, or new and not ignored)."""
    listed = run(
        "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT
    )
    copy = tmp_path_factory.mktemp("source")
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source
    )
    (built,) = dist.glob("tb_rnngrad-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """The python of a fresh virtualenv with the wheel and its dependencies."""
    python = fresh_venv(tmp_path_factory.mktemp("release") / "venv")
    run(python, "-m", "pip", "install", "--quiet", wheel)
    return python


@pytest.fixture(scope="module")
def installed_frontend(venv, tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("elsewhere")
    return Path(run(venv, "-I", "-c", FIND_FRONTEND, cwd=cwd).strip())


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("logs")
    writer = event_file_writer.EventFileWriter(str(root / RUN))
    rng = np.random.default_rng(0)
    for step in (0, 10):
        data = rng.standard_normal(SHAPE).astype(np.float32)
        pb = summary.gradients_pb(TAG, data)
        writer.add_event(event_pb2.Event(step=step, wall_time=1.7e9, summary=pb))
    writer.close()
    return root


def start_installed_tensorboard(venv: Path, logdir: Path):
    """The venv's TensorBoard, isolated from this process's paths."""
    command = [str(venv), "-I", "-m", "tensorboard.main"]
    return start_tensorboard(str(logdir), command=command)


def open_tab(browser, url: str):
    """(page, plugin frame) of the tab; the page records uncaught errors."""
    page = browser.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page, open_plugin(page, url)


def test_wheel_holds_code_proto_frontend_and_entry_points(wheel, source):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("tb_rnngrad-0.1.0.dist-info/entry_points.txt")
    expected = {
        f"tb_rnngrad/{p.relative_to(source / 'tb_rnngrad')}"
        for p in (source / "tb_rnngrad").rglob("*")
        if p.suffix in (".py", ".proto") and "__pycache__" not in p.parts
    } | {
        f"tb_rnngrad/frontend/{p.relative_to(source / 'frontend')}"
        for p in (source / "frontend").rglob("*")
        if p.suffix in (".py", ".js", ".css", ".json")
    }
    assert "tb_rnngrad/frontend/index.js" in expected
    assert "tb_rnngrad/frontend/views/heatmap.js" in expected
    assert "tb_rnngrad/proto/plugin_data.proto" in expected
    assert expected <= names, sorted(expected - names)
    assert "rnngrad = tb_rnngrad.server.loader:RnnGradLoader" in entry_points.decode()
    assert "tb-rnngrad = tb_rnngrad.cli:main" in entry_points.decode()


@pytest.mark.browser
def test_installed_wheel_serves_the_tab(venv, installed_frontend, logdir, browser):
    assert installed_frontend.is_relative_to(venv.parents[1])
    server = start_installed_tensorboard(venv, logdir)
    try:
        url = server.url
        listing = wait_for_json(
            url + "/data/plugins_listing", lambda x: x["rnngrad"]["enabled"]
        )
        assert listing["rnngrad"]["tab_name"] == "RNN Gradients"
        status, headers, body = fetch(url + "/data/plugin/rnngrad/index.js")
        assert status == 200
        assert headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert body == (installed_frontend / "index.js").read_bytes()
        tags = wait_for_json(url + "/data/plugin/rnngrad/tags", lambda x: RUN in x)
        assert tags[RUN][TAG]["shape"] == list(SHAPE)
        assert tags[RUN][TAG]["max_step"] == 10
        page, frame = open_tab(browser, url)
        assert draw_count(frame) > 0
        assert page.errors == []
    finally:
        server.stop()
    assert "tb-rnngrad cannot show its tab" not in server.output()


def test_installed_console_script(venv, logdir):
    out = run(venv.parent / "tb-rnngrad", "summary", logdir)
    assert RUN in out and TAG in out


@pytest.mark.browser
def test_installed_package_without_frontend_says_what_to_do(
    venv, installed_frontend, logdir, browser
):
    hidden = installed_frontend.with_name("frontend.hidden")
    installed_frontend.rename(hidden)
    try:
        server = start_installed_tensorboard(venv, logdir)
        try:
            status, _, body = fetch(server.url + "/data/plugin/rnngrad/index.js")
            page, frame = open_tab(browser, server.url)
            message = frame.locator("#rg-app > .rg-message").text_content()
        finally:
            server.stop()
    finally:
        hidden.rename(installed_frontend)
    assert status == 200
    assert message.startswith(
        "tb-rnngrad cannot show its tab: the package tb_rnngrad.frontend is not "
        "installed."
    )
    assert "`pip install .`" in message
    assert message.encode() in body
    assert page.errors == []
    assert server.output().count("tb-rnngrad cannot show its tab") == 1


def test_editable_install_by_bundled_pip_finds_the_frontend(source, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    pip_version = run(python, "-m", "pip", "--version").split()[1]
    assert pip_version == ensurepip.version()
    run(python, "-m", "pip", "install", "--quiet", "wheel")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", source)
    site_packages = next((tmp_path / "venv" / "lib").glob("python3*/site-packages"))
    assert not list(site_packages.glob("*.egg-link"))  # not `setup.py develop`
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    frontend = Path(run(python, "-I", "-c", FIND_FRONTEND, cwd=elsewhere).strip())
    assert frontend == source / "frontend"
    assert (frontend / "index.js").is_file()
    assert (frontend / "views" / "heatmap.js").is_file()
