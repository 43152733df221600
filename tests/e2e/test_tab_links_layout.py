"""The tab as a TensorBoard user expects it, in a real TensorBoard: the view state
in TensorBoard's own address (a link opens the same picture), a copy-link control,
a page opened without runs showing every run of the layer, and six runs side by
side within a 1,500 px window."""

from __future__ import annotations

import urllib.parse

import pytest

from tb_rnngrad import summary
from testkit.data import gradient_like, write_run
from testkit.plugin_page import open_plugin, plugin_frame, redraw, run_box

pytestmark = pytest.mark.browser

#: Runs with the layer "rnn" (the demo's three first), and one without it.
RUNS = [
    "adding-gru",
    "adding-lstm",
    "adding-simplernn",
    "other-1",
    "other-2",
    "other-3",
]
LONE = "zz-lone"
TAG = "gradients/rnn"
DESCRIPTION = "The <b>adding</b> problem: two marked numbers\nin a sequence of 20."
CHECKED = "xs => xs.map(x => x.value)"


def write_logs(logdir) -> None:
    for i, run in enumerate(RUNS):
        write_run(
            logdir / run,
            [
                (
                    step,
                    summary.gradients_pb(
                        TAG,
                        gradient_like((4, 20, 8), i + step),
                        description=DESCRIPTION,
                    ),
                )
                for step in (0, 100, 200)
            ],
        )
    write_run(
        logdir / LONE,
        [(0, summary.gradients_pb("gradients/other", gradient_like((4, 20, 8))))],
    )


@pytest.fixture(scope="module")
def tb_url(serve_logs):
    return serve_logs(write_logs)


def checked_runs(frame) -> list[str]:
    return frame.locator("#rg-runs input:checked").evaluate_all(CHECKED)


def picture(frame) -> dict:
    return {
        "runs": checked_runs(frame),
        "tag": frame.locator("#rg-tag").input_value(),
        "scale": frame.locator("#rg-scale").input_value(),
        "samples": frame.locator("#rg-sample-mode").input_value(),
        "step": frame.locator("#rg-step-label").inner_text(),
        "panels": frame.locator(".rg-run-name").all_inner_texts(),
    }


def test_a_page_without_runs_in_its_address_opens_every_run_of_the_layer(page, tb_url):
    frame = open_plugin(page, tb_url)
    assert frame.locator("#rg-tag").input_value() == TAG
    assert checked_runs(frame) == RUNS, "every run with the layer, side by side"
    assert frame.locator(".rg-run-name").all_inner_texts() == RUNS
    assert page.errors == []


def test_runs_named_in_the_address_win(page, tb_url):
    named = urllib.parse.quote('["adding-lstm"]')
    page.goto(f"{tb_url}/#rnngrad&p.rnngrad.runs={named}")
    frame = plugin_frame(page)
    assert checked_runs(frame) == ["adding-lstm"]
    assert page.errors == []


def test_the_address_bar_carries_the_state_and_a_link_opens_the_same_picture(
    page, tb_url
):
    frame = open_plugin(page, tb_url)
    for run in RUNS[2:]:
        redraw(frame, run_box(frame, run).uncheck)
    redraw(frame, lambda: frame.select_option("#rg-scale", "log"))
    redraw(frame, lambda: frame.select_option("#rg-sample-mode", "all"))
    redraw(frame, lambda: frame.locator("#rg-step").press("ArrowLeft"))
    shown = picture(frame)
    assert shown["runs"] == RUNS[:2] and shown["step"] == "step 100 (2/3)"
    address = urllib.parse.unquote(page.url)
    assert "#rnngrad" in address
    assert 'p.rnngrad.runs=["adding-gru","adding-lstm"]' in address
    assert "p.rnngrad.scale=log" in address and "p.rnngrad.step=100" in address
    # The copy-link control copies TensorBoard's address, state included.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    frame.locator("#rg-copy-link").click()
    frame.wait_for_function("() => document.querySelector('.rg-share').dataset.url")
    link = frame.locator(".rg-share").get_attribute("data-url")
    assert link == page.url
    assert frame.locator(".rg-share-note").inner_text() == "Link copied"
    assert page.evaluate("navigator.clipboard.readText()") == link
    # The link, in a new page, and the page reloaded: the same picture.
    other = page.context.new_page()
    other.goto(link)
    assert picture(plugin_frame(other)) == shown
    page.reload()
    assert picture(plugin_frame(page)) == shown
    assert page.errors == []


def test_six_runs_fit_a_1500_px_window(page, tb_url, artifacts):
    page.set_viewport_size({"width": 1500, "height": 1000})
    frame = open_plugin(page, tb_url)
    assert len(checked_runs(frame)) == 6
    widths = frame.evaluate(
        "() => ({page: document.documentElement.scrollWidth,"
        " view: document.documentElement.clientWidth})"
    )
    assert widths["page"] <= widths["view"], widths
    top = page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert top, "TensorBoard's page does not overflow sideways"
    view = frame.evaluate("() => document.documentElement.clientWidth")
    for box in frame.locator(".rg-panel").all():
        b = box.evaluate(
            "e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; }"
        )
        assert 0 <= b[0] and b[1] <= view + 0.5, b
        assert box.locator("canvas.rg-heatmap").first.is_visible()
    # The description of the quantity: once, above the panels, and expandable.
    about = frame.locator("details.rg-about")
    assert about.count() == 1 and about.is_visible()
    assert not about.evaluate("d => d.open"), "collapsed until asked"
    about.locator("summary").click()
    assert about.locator(".rg-about-text").inner_text() == DESCRIPTION
    assert frame.locator(".rg-panel", has_text="adding problem").count() == 0
    assert frame.evaluate("document.querySelectorAll('b').length") == 0
    page.screenshot(path=str(artifacts / "six_runs.png"))
    assert page.errors == []
