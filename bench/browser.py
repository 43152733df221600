"""Headless Chromium driving the plugin's view modules, for draw-time benchmarks.

    with DrawPage() as page:
        page.load("a", array)               # (batch, timesteps, channels)
        seconds = page.draw("a", "both")    # heatmap + channel grid

Serves `frontend/` and `bench/browser_page/` (plus the arrays, as `.npy`) from
a temporary directory over HTTP on 127.0.0.1, and opens the page in Debian's
Chromium through Playwright. Times are measured inside the page with
performance.now(), around the draw calls and a one-pixel read-back that waits
for the canvas to be rasterised.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from bench.timing import Seconds
from testkit.chromium import VIEWPORT, launch

REPO = Path(__file__).resolve().parent.parent


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def static_server(root: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A threaded HTTP server of `root` on 127.0.0.1; (server, base URL)."""
    handler = functools.partial(_QuietHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class DrawPage:
    """The draw benchmark page in headless Chromium (a context manager)."""

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="bench_draw_"))
        (self._root / "frontend").symlink_to(REPO / "frontend")
        (self._root / "page").symlink_to(REPO / "bench" / "browser_page")
        (self._root / "data").mkdir()
        self._server = None
        self._playwright = None
        self._browser = None
        self.page = None
        self.errors: list[str] = []

    def __enter__(self) -> DrawPage:
        from playwright.sync_api import sync_playwright

        self._server, base = static_server(str(self._root))
        self._playwright = sync_playwright().start()
        self._browser = launch(self._playwright)
        self.page = self._browser.new_page(viewport=VIEWPORT)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base}/page/draw.html")
        self.page.wait_for_function("window.bench !== undefined", timeout=60000)
        return self

    def __exit__(self, *exc) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        shutil.rmtree(self._root, ignore_errors=True)

    def version(self) -> str:
        return self._browser.version

    def load(self, name: str, array: np.ndarray) -> dict:
        """Sends `array` (float32, rank 3) to the page; returns shape, parse ms."""
        path = self._root / "data" / f"{name}.npy"
        np.save(path, np.ascontiguousarray(array, dtype=np.float32))
        info = self.page.evaluate(
            "([n, u]) => window.bench.load(n, u)", [name, f"../data/{name}.npy"]
        )
        path.unlink()
        self._check()
        return info

    def load_profile(self, name: str, body: bytes) -> dict:
        """Sends a `profile` route answer to the page; returns steps, parse ms."""
        path = self._root / "data" / f"{name}.json"
        path.write_bytes(body)
        info = self.page.evaluate(
            "([n, u]) => window.bench.loadProfile(n, u)", [name, f"../data/{name}.json"]
        )
        path.unlink()
        self._check()
        return info

    def flow(self, name: str, step: int | None) -> Seconds:
        """Seconds to draw the flow view of profile `name` with `step` chosen."""
        ms = self.page.evaluate("([n, s]) => window.bench.flow(n, s)", [name, step])
        self._check()
        return Seconds(ms / 1e3)

    def draw(self, name: str, what: str = "both", samples: str = "all") -> Seconds:
        """Seconds to draw `what` ("heatmap", "grid", "both") of array `name`."""
        ms = self.page.evaluate(
            "([n, w, s]) => window.bench.draw(n, w, s)", [name, what, samples]
        )
        self._check()
        return Seconds(ms / 1e3)

    def draw_weights(self, names: list[str], gates: list[str], steps: int) -> Seconds:
        """Seconds to build and draw the Weights view of two loaded matrices
        (loaded as (1, rows, cols)) with `steps` histograms per gate."""
        ms = self.page.evaluate(
            "([n, g, s]) => window.bench.drawWeights(n, g, s)", [names, gates, steps]
        )
        self._check()
        return Seconds(ms / 1e3)

    def draw_to_frame(self, name: str, what: str = "both", samples="all") -> Seconds:
        """Seconds from the start of a draw until the next animation frame."""
        ms = self.page.evaluate(
            "([n, w, s]) => window.bench.drawToFrame(n, w, s)", [name, what, samples]
        )
        self._check()
        return Seconds(ms / 1e3)

    def sizes(self) -> dict:
        """Canvas sizes, device pixels: {"heatmap": [w, h], "grid": [w, h]}."""
        return self.page.evaluate("window.bench.sizes()")

    def _check(self) -> None:
        if self.errors:
            raise RuntimeError(f"the draw page failed: {self.errors}")
