"""Without a browser the browser tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from testkit.chromium import browser_problem

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_a_missing_chromium_is_named_with_the_fix(tmp_path, monkeypatch):
    missing = tmp_path / "chromium"
    monkeypatch.setenv("TB_RNNGRAD_CHROMIUM", str(missing))
    assert browser_problem() == (
        f"Chromium is not installed at {missing}: `apt-get install chromium`, "
        "or set TB_RNNGRAD_CHROMIUM to a Chromium executable"
    )


@pytest.mark.parametrize(
    "ci, returncode, summary",
    [("true", 1, "1 error"), ("", 0, " skipped")],
    ids=["ci-fails", "local-skips"],
)
def test_browser_tests_without_chromium(tmp_path, ci, returncode, summary):
    env = dict(os.environ, CI=ci, TB_RNNGRAD_CHROMIUM=str(tmp_path / "chromium"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-m", "browser", "-x"]
        + ["-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = run.stdout.strip().splitlines()[-1]
    assert run.returncode == returncode, run.stdout[-3000:]
    assert summary in last and "passed" not in last, last
    assert f"Chromium is not installed at {tmp_path / 'chromium'}" in run.stdout
    assert ("CI=true: the browser tests must run" in run.stdout) == bool(ci)
