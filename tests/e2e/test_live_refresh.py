"""The plugin follows a run that is still logging, in a real TensorBoard.

TensorBoard (`--load_fast=false --reload_interval=1`) reads event files that
the test keeps appending to. The page reloads its listings every 30 s
(`frontend/live.js`; the test moves Playwright's clock forward instead of
waiting) and on each reload of TensorBoard's page, but only while its
dashboard is shown.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer import event_file_writer

from tb_rnngrad import summary
from testkit.plugin_page import open_plugin, plugin_frame, redraw, run_box

pytestmark = pytest.mark.browser

#: frontend/live.js REFRESH_MS, in seconds.
REFRESH_S = 30
LABEL = "document.getElementById('rg-step-label').textContent"
PLUGIN_PATH = "/data/plugin/rnngrad/"
PLUGIN_ROUTES = re.compile(r".*/data/plugin/rnngrad/.*")
RUN_NAMES = "[...document.querySelectorAll('#rg-runs input')].map(x => x.value).join()"


class LiveRun:
    """An event file of one run that stays open, like a training job's."""

    def __init__(self, run_dir) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self._writer = event_file_writer.EventFileWriter(str(run_dir))

    def log(self, step: int) -> None:
        """Logs "grads" (1, 4, 2) at `step` and flushes it to disk."""
        data = np.full((1, 4, 2), step + 1.0, np.float32)
        event = event_pb2.Event(
            step=step,
            wall_time=1_700_000_000.0 + step,
            summary=summary.gradients_pb("grads", data),
        )
        self._writer.add_event(event)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


@pytest.fixture
def live(tmp_path):
    """(logdir, run "a" with steps 0 and 10, TensorBoard URL)."""
    from testkit.tensorboard_server import start_tensorboard

    run = LiveRun(tmp_path / "a")
    run.log(0)
    run.log(10)
    server = start_tensorboard(
        str(tmp_path), load_fast=False, extra_args=["--reload_interval=1"]
    )
    try:
        yield tmp_path, run, server.url
    finally:
        server.stop()
        run.close()


def wait_until_served(url: str, predicate) -> None:
    from testkit.tensorboard_server import wait_for_json

    wait_for_json(url + "/data/plugin/rnngrad/tags", predicate, timeout=30)


def plugin_routes(urls) -> list[str]:
    """Sorted route names ("tags", "steps", ...) of plugin request URLs."""
    return sorted(u.split(PLUGIN_PATH)[1].split("?")[0] for u in urls)


def open_with_fake_clock(page, url):
    """(plugin frame, list of plugin request URLs from now on), on a fake clock."""
    requests = []
    page.on("request", lambda r: PLUGIN_PATH in r.url and requests.append(r.url))
    page.clock.install()
    frame = open_plugin(page, url)
    assert frame.evaluate(LABEL) == "step 10 (2/2)"
    return frame, requests


def test_new_steps_appear_after_the_periodic_refresh(page, live):
    _, run, url = live
    frame, requests = open_with_fake_clock(page, url)
    run.log(20)
    wait_until_served(url, lambda tags: tags["a"]["grads"]["max_step"] == 20)
    frame.wait_for_timeout(1000)
    assert frame.evaluate(LABEL) == "step 10 (2/2)", "nothing reloads before it is due"
    seen = len(requests)
    page.clock.fast_forward(REFRESH_S * 1000)
    frame.wait_for_function(f"() => {LABEL} === 'step 20 (3/3)'", timeout=15000)
    flow = frame.locator("canvas.rg-flow")
    frame.wait_for_function(
        "c => window.rnngrad.drawn(c)?.profile.steps.length === 3",
        arg=flow.element_handle(),
    )
    routes = plugin_routes(requests[seen:])
    assert routes == ["health", "profile", "steps", "tags", "tensor"], "one of each"
    seen = len(requests)
    page.clock.fast_forward(REFRESH_S * 1000)
    frame.wait_for_timeout(1000)
    routes = plugin_routes(requests[seen:])
    assert routes == ["steps", "tags"], "unchanged listings: nothing else is fetched"
    assert page.errors == []


def paused_clock(page) -> None:
    """Stops the page's fake clock where it is: the periodic refresh cannot
    fire unless the test moves the clock on (`within_refresh`)."""
    page.clock.pause_at(page.evaluate("Date.now()"))


def within_refresh(page, frame, predicate: str) -> None:
    """Moves the paused clock on in small steps until `predicate` holds in the
    plugin's frame; fails if that would take the clock to the periodic
    refresh, so what made it hold was not the refresh."""
    moved = 0
    while not frame.evaluate(predicate):
        assert moved < (REFRESH_S - 1) * 1000, "only the periodic refresh would do"
        page.clock.run_for(250)
        moved += 250
        frame.wait_for_timeout(50)  # real time for the requests it started


def test_tensorboards_reload_brings_new_runs_at_once(page, live):
    logdir, _, url = live
    frame, _ = open_with_fake_clock(page, url)
    assert frame.evaluate(RUN_NAMES) == "a"
    other = LiveRun(logdir / "b")
    try:
        other.log(0)
        wait_until_served(url, lambda tags: "b" in tags)
        paused_clock(page)
        page.locator("button.reload-button").click()
        within_refresh(page, frame, f"{RUN_NAMES} === 'a,b'")
    finally:
        other.close()


def test_tensorboards_reload_button_brings_new_steps_at_once(page, live):
    # The runs stay the same: TensorBoard broadcasts DataReloaded, not RunsChanged.
    _, run, url = live
    frame, _ = open_with_fake_clock(page, url)
    run.log(20)
    wait_until_served(url, lambda tags: tags["a"]["grads"]["max_step"] == 20)
    paused_clock(page)
    page.locator("button.reload-button").click()
    within_refresh(page, frame, f"{LABEL} === 'step 20 (3/3)'")
    assert frame.evaluate(RUN_NAMES) == "a"


def panel_text(frame, run: str, part: str) -> str:
    return frame.locator(f"section.rg-panel[data-run='{run}'] {part}").inner_text()


def messages_gone(frame) -> None:
    frame.wait_for_function(
        "() => [...document.querySelectorAll('.rg-panel .rg-message')]"
        ".every(m => m.hidden)",
        timeout=15000,
    )


def test_load_errors_are_retried_by_the_next_reload(page, live):
    logdir, run, url = live
    other = LiveRun(logdir / "b")
    try:
        other.log(0)
        other.log(10)
        wait_until_served(url, lambda tags: "b" in tags)
        page.clock.install()
        # A link naming run "a" only (without runs, the tab opens on a and b).
        page.goto(url + "/#rnngrad&p.rnngrad.runs=%5B%22a%22%5D")
        frame = plugin_frame(page)
        # TensorBoard stops: every request fails (Chromium: "Failed to fetch").
        page.route(PLUGIN_ROUTES, lambda route: route.abort())
        redraw(frame, lambda: frame.locator("#rg-step").press("ArrowLeft"))
        redraw(frame, lambda: run_box(frame, "b").check())
        assert panel_text(frame, "a", ".rg-message").startswith(
            'Could not load the tensor of run "a", tag "grads", step 0: Failed to fetch'
        )
        assert panel_text(frame, "b", ".rg-message").startswith(
            'Could not load the steps of run "b", tag "grads": Failed to fetch'
        )
        page.clock.fast_forward(REFRESH_S * 1000)  # the reload fails too
        frame.wait_for_timeout(500)
        assert "Failed to fetch" in panel_text(frame, "a", ".rg-message")
        # TensorBoard is back; the listings are the same as before.
        page.unroute(PLUGIN_ROUTES)
        page.clock.fast_forward(REFRESH_S * 1000)
        messages_gone(frame)
        assert panel_text(frame, "a", ".rg-step-info") == "step 0"
        assert panel_text(frame, "b", ".rg-step-info") == "step 0"
        assert frame.evaluate(LABEL) == "step 0 (1/2)"
        # A new step needs a new profile, whose request fails: retried as well.
        page.route(
            re.compile(r".*/data/plugin/rnngrad/profile\?.*"), lambda r: r.abort()
        )
        run.log(20)
        wait_until_served(url, lambda tags: tags["a"]["grads"]["max_step"] == 20)
        page.clock.fast_forward(REFRESH_S * 1000)
        frame.wait_for_function(
            "() => document.querySelector('.rg-panel[data-run=a] .rg-message')"
            ".textContent.includes('profile')",
            timeout=15000,
        )
        message = panel_text(frame, "a", ".rg-message")
        assert message.startswith('Could not load the profile of run "a", tag "grads"')
        assert frame.evaluate(LABEL) == "step 0 (1/3)"
        page.unroute(re.compile(r".*/data/plugin/rnngrad/profile\?.*"))
        page.clock.fast_forward(REFRESH_S * 1000)
        messages_gone(frame)
        flow = frame.locator("section.rg-panel[data-run='a'] canvas.rg-flow")
        assert flow.evaluate("c => window.rnngrad.drawn(c).profile.steps") == [
            0,
            10,
            20,
        ]
    finally:
        other.close()


def test_no_reloads_while_another_dashboard_is_shown(page, live):
    _, run, url = live
    frame, requests = open_with_fake_clock(page, url)
    page.evaluate("location.hash = '#scalars'")  # the plugin's frame stays alive
    frame.wait_for_function("() => innerHeight === 0")
    run.log(20)
    wait_until_served(url, lambda tags: tags["a"]["grads"]["max_step"] == 20)
    seen = len(requests)
    for _ in range(2):
        page.clock.fast_forward(REFRESH_S * 1000)
        frame.wait_for_timeout(500)
    assert requests[seen:] == [], "hidden: no reloads"
    assert frame.evaluate(LABEL) == "step 10 (2/2)"
    page.evaluate("location.hash = '#rnngrad'")
    frame.wait_for_function(f"() => {LABEL} === 'step 20 (3/3)'", timeout=10000)
    frame.wait_for_timeout(500)
    routes = plugin_routes(requests[seen:])
    assert routes == ["health", "profile", "steps", "tags", "tensor"], "one reload"
