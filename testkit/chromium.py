"""Debian's headless Chromium through Playwright, as the browser tests and the
benchmarks launch it.

`TB_RNNGRAD_CHROMIUM` names another Chromium executable (read at each call).
"""

from __future__ import annotations

import importlib.util
import os

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}


def chromium_path() -> str:
    """The Chromium executable: `$TB_RNNGRAD_CHROMIUM`, else Debian's."""
    return os.environ.get("TB_RNNGRAD_CHROMIUM") or DEFAULT_CHROMIUM


def browser_problem() -> str | None:
    """Why no browser can be launched (no Chromium, no Playwright); None if none."""
    path = chromium_path()
    if not os.path.exists(path):
        return (
            f"Chromium is not installed at {path}: `apt-get install chromium`, "
            "or set TB_RNNGRAD_CHROMIUM to a Chromium executable"
        )
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed: `pip install -e .[test]`"
    return None


def launch(playwright):
    """Launches headless Chromium with `playwright` (a sync_playwright()).

    Raises:
      RuntimeError: `browser_problem()` says why it cannot be launched.
    """
    problem = browser_problem()
    if problem:
        raise RuntimeError(problem)
    return playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS
    )
