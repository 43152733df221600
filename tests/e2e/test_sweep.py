"""A sweep of 200 runs in the tab, in a real TensorBoard: the run filter (a regular
expression) with all / none, the compare view opened by default, its table's values
against an independent computation from the event files, sorting by a header, and
a row that opens its run's views."""

from __future__ import annotations

import glob
import io
import os
import re
import struct
import urllib.parse

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2

from tb_rnngrad.summary import pb as summary_pb
from testkit.data import write_run
from testkit.plugin_page import open_plugin, plugin_frame, redraw
from testkit.sweep import gradient, write_sweep

pytestmark = pytest.mark.browser

RUNS = 200
TAG = "state/rnn"
#: A run whose name is markup: it must show as text.
HOSTILE = "<img src=x onerror=alert(1)>"
CHECKED = "xs => xs.map(x => x.value)"
ROWS = "#rg-compare-table tbody tr"


@pytest.fixture(scope="module")
def sweep(serve_logs):
    """(TensorBoard URL, log directory, run names) of the sweep."""
    written = {}

    def write(logdir):
        written["logdir"] = str(logdir)
        runs = write_sweep(logdir, runs=RUNS - 1, steps=3, tags=2)
        data = gradient(runs[0], 0, 0, (2, 40, 4))
        write_run(logdir / HOSTILE, [(0, summary_pb.state_gradients_pb(TAG, data))])
        written["runs"] = sorted([*runs, HOSTILE])

    url = serve_logs(write)
    return url, written["logdir"], written["runs"]


def logged(logdir: str, run: str, tag: str) -> dict[int, np.ndarray]:
    """{step: array} of `tag` in `run`, read from its event files here."""
    out = {}
    for path in glob.glob(os.path.join(logdir, run, "events.out.tfevents.*")):
        for record in records(path):
            event = event_pb2.Event.FromString(record)
            for value in event.summary.value:
                if value.tag == tag:
                    blob = value.tensor.string_val[0]
                    out[event.step] = np.load(io.BytesIO(blob), allow_pickle=False)
    return out


def records(path: str):
    """The records of a TFRecord file: length, its CRC, data, the data's CRC."""
    with open(path, "rb") as f:
        content = f.read()
    offset = 0
    while offset < len(content):
        (length,) = struct.unpack_from("<Q", content, offset)
        yield content[offset + 12 : offset + 12 + length]
        offset += 12 + length + 4


def figures(logdir: str, run: str) -> dict:
    """The compare table's figures of `run`, computed from its logged tensors."""
    by_step = logged(logdir, run, TAG)
    last = max(by_step)
    data = by_step[last].astype(np.float64)
    norms = np.sqrt((data**2).sum(axis=(0, 2)))
    finite = np.where(np.isfinite(norms), norms, 0)
    first = int(np.argmax(finite >= 0.01 * finite.max()))
    return {
        "reach": data.shape[1] - 1 - first,
        "max_abs": float(np.abs(data[np.isfinite(data)]).max()),
        "nonfinite": int(sum((~np.isfinite(a)).sum() for a in by_step.values())),
        "last_step": last,
    }


def table(frame) -> list[list[str]]:
    return frame.locator(ROWS).evaluate_all(
        "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
    )


def checked(frame) -> list[str]:
    return frame.locator("#rg-runs input:checked").evaluate_all(CHECKED)


def shown_runs(frame) -> list[str]:
    return frame.locator("#rg-runs label:not([hidden]) input").evaluate_all(CHECKED)


def open_tag(page, url: str):
    """The plugin's frame, opened on TAG by an address that names no runs."""
    page.goto(f"{url}/#rnngrad&p.rnngrad.tag={urllib.parse.quote(TAG, safe='')}")
    frame = plugin_frame(page)
    assert frame.locator("#rg-tag").input_value() == TAG
    return frame


def test_compare_view_values_and_sorting(page, sweep):
    url, logdir, runs = sweep
    frame = open_tag(page, url)
    # 200 runs: the page opens on the compare view of every run.
    assert frame.locator("#rg-compare").is_visible()
    assert frame.locator("#rg-compare-toggle").is_checked()
    assert checked(frame) == runs
    # One run's controls (step, samples, scale, layout, views) do nothing here.
    for control in ("#rg-step", "#rg-sample-mode", "#rg-scale", "#rg-reflect"):
        assert frame.locator(control).is_hidden(), control
    rows = table(frame)
    assert len(rows) == RUNS
    header = frame.locator("#rg-compare-table th").all_inner_texts()
    assert header[1].startswith("latest gradient horizon")
    expected = {run: figures(logdir, run) for run in runs}
    for run, reach, max_abs, nonfinite, last, *_ in rows:
        want = expected[run]
        assert int(reach) == want["reach"], run
        assert float(max_abs) == pytest.approx(want["max_abs"], rel=5e-3), run
        assert (int(nonfinite), int(last)) == (want["nonfinite"], want["last_step"])
    assert any(e["nonfinite"] for e in expected.values())
    # Default order: latest horizon, largest first, ties by run name.
    by_reach = sorted(runs, key=lambda r: (-expected[r]["reach"], r))
    assert [r[0] for r in rows] == by_reach
    # A header click sorts by its column; a second click reverses it.
    redraw(frame, lambda: frame.locator("th[data-key=max_abs] button").click())
    by_max = sorted(runs, key=lambda r: (-expected[r]["max_abs"], r))
    assert [r[0] for r in table(frame)] == by_max
    assert "p.rnngrad.sort=max_abs" in urllib.parse.unquote(page.url)
    redraw(frame, lambda: frame.locator("th[data-key=max_abs] button").click())
    assert [r[0] for r in table(frame)] == by_max[::-1]
    sort = frame.locator("th[data-key=max_abs]").get_attribute("aria-sort")
    assert sort == "ascending"
    drawn = frame.evaluate("window.rnngrad.compared()")
    assert drawn["extent"]["lines"] == RUNS
    name = frame.locator(f"{ROWS} .rg-compare-run").filter(has_text="<img").inner_text()
    assert name.strip() == HOSTILE, "a run name shows as text"
    assert frame.locator("#rg-compare img").count() == 0
    assert page.errors == [] and page.dialogs == []


def test_run_filter_with_all_and_none(page, sweep):
    url, _, runs = sweep
    frame = open_plugin(page, url)
    pattern = "^lstm-u32.*s[01]$"
    matching = [r for r in runs if re.search(pattern, r, re.IGNORECASE)]
    assert 0 < len(matching) < RUNS
    redraw(frame, lambda: frame.fill("#rg-run-filter", pattern))
    assert shown_runs(frame) == matching
    note = frame.locator("#rg-run-filter-note").inner_text()
    assert note == f"{len(matching)} of {RUNS} runs match; {RUNS} selected, " + (
        f"{RUNS - len(matching)} of them hidden by the filter"
    )
    assert f"p.rnngrad.runFilter={pattern}" in urllib.parse.unquote(page.url)
    # As in TensorBoard's charts, the compare table shows the runs the filter shows.
    assert sorted(r[0] for r in table(frame)) == sorted(matching)
    # None: the matching runs leave the selection; the filter hides the others.
    redraw(frame, lambda: frame.click("#rg-runs-none"))
    rest = [r for r in runs if r not in matching]
    assert checked(frame) == rest
    assert table(frame) == []
    # All of an upper-case filter (case-insensitive): only those come back.
    redraw(frame, lambda: frame.fill("#rg-run-filter", "LSTM-U32.*S0$"))
    redraw(frame, lambda: frame.click("#rg-runs-all"))
    back = [r for r in runs if re.search("lstm-u32.*s0$", r)]
    assert sorted(checked(frame)) == sorted(rest + back)
    assert sorted(r[0] for r in table(frame)) == sorted(back)
    # An invalid expression is said so and hides nothing; nothing crashes.
    redraw(frame, lambda: frame.fill("#rg-run-filter", "lstm("))
    note = frame.locator("#rg-run-filter-note")
    assert note.inner_text().startswith("invalid regular expression")
    assert frame.locator("#rg-run-filter").get_attribute("aria-invalid") == "true"
    assert shown_runs(frame) == runs
    assert frame.locator("#rg-runs-all").is_disabled()
    assert page.errors == []


def test_a_row_click_opens_that_runs_views(page, sweep):
    url, _, runs = sweep
    frame = open_tag(page, url)
    run = runs[17]
    redraw(frame, lambda: frame.locator(f"{ROWS}[data-run='{run}']").click())
    assert frame.locator("#rg-compare").is_hidden()
    assert not frame.locator("#rg-compare-toggle").is_checked()
    assert checked(frame) == [run]
    assert frame.locator(".rg-run-name").all_inner_texts() == [run]
    for control in ("#rg-step", "#rg-sample-mode", "#rg-scale", "#rg-reflect"):
        assert frame.locator(control).is_visible(), control
    # And back to the comparison of the one run, then of every run.
    redraw(frame, lambda: frame.check("#rg-compare-toggle"))
    assert [r[0] for r in table(frame)] == [run]
    redraw(frame, lambda: frame.click("#rg-runs-all"))
    assert len(table(frame)) == RUNS
    assert page.errors == []
