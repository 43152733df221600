"""Fixtures of the browser tests: pages of the headless Chromium that
tests/conftest.py launches (and requires under CI=true)."""

from __future__ import annotations

import pathlib

import pytest

from testkit.chromium import VIEWPORT

#: Screenshots (not committed).
ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def page(browser):
    """A fresh page that records dialogs (dismissed) and uncaught errors."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.dialogs = []
    page.errors = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def serve_logs(tmp_path_factory):
    """`serve_logs(write_logs)`: the URL of a `tensorboard --load_fast=false` that
    serves the event files `write_logs(logdir)` writes; stopped after the module."""
    from testkit.tensorboard_server import start_tensorboard

    servers = []

    def serve(write_logs) -> str:
        logdir = tmp_path_factory.mktemp("logs")
        write_logs(logdir)
        servers.append(start_tensorboard(str(logdir), load_fast=False))
        return servers[-1].url

    try:
        yield serve
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def artifacts():
    """Directory for screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
