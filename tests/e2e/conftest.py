"""Fixtures of the browser tests: one headless Chromium per module."""

from __future__ import annotations

import pytest
from plugin_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM


@pytest.fixture(scope="module")
def browser():
    if not HAVE_CHROMIUM:
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records dialogs (dismissed) and uncaught errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
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


@pytest.fixture(scope="session")
def artifacts():
    """Directory for screenshots and benchmark results."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
