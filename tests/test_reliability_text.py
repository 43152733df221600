"""Untrusted text: run, tag and description strings are shown as text.

Run and tag names come from directory names and event files that anyone can
write; descriptions from whoever logged. They hold HTML and script, `$...$`
(matplotlib mathtext), ANSI escape sequences, tabs and newlines. The CLI
prints them with control characters escaped, one table row per series; the
matplotlib views and `tb-rnngrad export` draw them as literal titles (no
mathtext, no TeX); the `tags` route returns them unchanged as JSON. (The
browser tab is covered by tests/e2e.)
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from reliability import hostile_logs
from reliability.tb_http import strict_json
from test_plugin_handlers import make_app
from test_viz import render
from werkzeug.test import Client

from tb_rnngrad import cli, viz
from tb_rnngrad.cli import export as cli_export
from tb_rnngrad.cli.text import printable
from tb_rnngrad.summary import pb as summary_pb
from testkit.providers import start_provider, wait_for

RUNS = [
    "<img src=x onerror=alert(1)>",
    "$x$ \x1b[31mred\x1b[0m",
    "line1\nline2\ttab",
]
TAGS = ["<script>alert(1)</script>", r"$\alpha$ \x1b" + "\x1b[2J", "a\nb"]
DESCRIPTION = "<img src=x onerror=alert(1)> $x$ \x1b[31m\nsecond line\r\x00"
CONTROL = ("\x1b", "\n", "\t", "\r", "\x00")


def data(step: int) -> np.ndarray:
    rng = np.random.default_rng(step)
    return rng.standard_normal((2, 5, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("text"))
    for run in RUNS:
        records = []
        for step in (0, 1):
            for tag in TAGS:
                pb = summary_pb.gradients_pb(tag, data(step), description=DESCRIPTION)
                records += [(step, pb.__class__(value=[v])) for v in pb.value]
        hostile_logs.write_run(root, run, records)
    assert sorted(os.listdir(root)) == sorted(RUNS)
    return root


def test_cli_summary_prints_names_as_escaped_text(logdir, capsys):
    assert cli.main(["summary", logdir]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 2 + len(RUNS) * len(TAGS)  # one line per series
    body = "\n".join(lines)
    assert not any(c in body for c in CONTROL if c != "\n")
    assert "<img src=x onerror=alert(1)>" in body  # text, shown as is
    assert r"$x$ \x1b[31mred\x1b[0m" in body
    assert r"line1\nline2\ttab" in body
    assert r"$\alpha$ \x1b\x1b[2J" in body  # a literal backslash stays one
    assert r"a\nb" in body


def test_cli_errors_quote_untrusted_names(logdir, tmp_path, capsys):
    argv = ["export", logdir, "--run", "nope\x1b[31m\n", "--tag", "x"]
    assert cli.main([*argv, "-o", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1
    assert r"'nope\x1b[31m\n'" in err and "'<img src=x onerror=alert(1)>'" in err
    argv = ["export", logdir, "--run", RUNS[1], "--tag", "nope"]
    assert cli.main([*argv, "-o", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1


@pytest.mark.parametrize("view", ["heatmap", "grid", "flow"])
def test_cli_export_titles_are_literal(logdir, tmp_path, monkeypatch, view):
    figures = []
    monkeypatch.setattr(cli_export, "_save", lambda fig, path: figures.append(fig))
    for run in RUNS:
        for tag in TAGS:
            argv = ["export", logdir, "--run", run, "--tag", tag, "--view", view]
            assert cli.main([*argv, "-o", str(tmp_path / "x.png")]) == 0
    assert len(figures) == len(RUNS) * len(TAGS)
    for figure, (run, tag) in zip(
        figures, [(r, t) for r in RUNS for t in TAGS], strict=True
    ):
        title = figure._suptitle
        expected = f"{printable(run)} / {printable(tag)}"
        assert title.get_text().startswith(expected)
        assert not any(c in title.get_text() for c in CONTROL)
        assert title.get_parse_math() is False and title.get_usetex() is False
        render(figure)  # "$\alpha$" would be mathtext, a lone "$" would fail


@pytest.mark.parametrize(
    "draw",
    [
        lambda title: viz.heatmap(data(0), title=title),
        lambda title: viz.channel_grid(data(0), title=title),
        lambda title: viz.scatter0d(data(0)[:, -1], title=title),
        lambda title: viz.flow(np.ones((2, 3)), np.array([0, 1]), title=title),
        lambda title: viz.band_histogram(data(0), title=title),
    ],
)
@pytest.mark.parametrize("text", [RUNS[1], TAGS[1], DESCRIPTION, "cost $5 and $"])
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # ESC, NUL, CR
def test_views_draw_any_title_literally(draw, text):
    """The views take the text as given (the CLI escapes control characters
    first); matplotlib draws a control character as a missing glyph."""
    figure, _ = draw(text)
    title = figure._suptitle
    assert title.get_text() == text
    assert title.get_parse_math() is False and title.get_usetex() is False
    render(figure)


def test_tags_route_returns_the_strings_unchanged(logdir):
    provider, ingester = start_provider("multiplexer", logdir)
    client = Client(make_app(provider, logdir))
    assert wait_for(lambda: len(client.get("/data/plugin/rnngrad/tags").json) == 3)
    response = client.get("/data/plugin/rnngrad/tags")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    tags = strict_json(response.data)
    assert sorted(tags) == sorted(RUNS)
    for run in RUNS:
        assert sorted(tags[run]) == sorted(TAGS)
        for tag in TAGS:
            assert tags[run][tag]["description"] == DESCRIPTION
    query = {"run": RUNS[1], "tag": TAGS[1], "step": 1}
    response = client.get("/data/plugin/rnngrad/tensor", query_string=query)
    assert response.status_code == 200
    del ingester
