"""Fixtures of the browser tests: one headless Chromium per module.

A test marked `browser` is skipped when no browser can be launched, and fails
instead when CI=true: a CI run must not pass without its browser tests.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

import pytest

from testkit.chromium import VIEWPORT, browser_problem, launch

#: Screenshots (not committed).
ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "artifacts"


def on_ci(environ: Mapping[str, str]) -> bool:
    """Whether `environ` says this is a CI run (CI=true, as CI services set)."""
    return environ.get("CI", "").lower() in ("true", "1")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None:
        return
    problem = browser_problem()
    if problem is None:
        return
    if on_ci(os.environ):
        pytest.fail(f"{problem} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()


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


@pytest.fixture(scope="session")
def artifacts():
    """Directory for screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
