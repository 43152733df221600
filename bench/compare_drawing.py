"""Drawing cost: the plugin's browser views vs see-rnn vs tb_rnngrad.viz.

    python -m bench.compare_drawing [--quick] [--json OUT] [--see-rnn-site DIR]

One (16, 200, 64) float32 gradient (16 samples, 200 timesteps, 64 channels),
the same array for every side, drawn as a heatmap per sample and a grid of one
line chart per channel with the 16 samples overlaid:

- `browser`: the RNN Gradients tab's view modules (`frontend/views/heatmap.js`,
  `channel_grid.js`) in headless Chromium, timed with performance.now() around
  the draw and a one-pixel read-back (see `bench.browser`);
- `see-rnn`: see-rnn 1.15.1's `features_2D(data, norm="auto")` (16 heatmaps)
  and `features_1D(data)` (64 charts x 16 lines), on matplotlib's Agg backend
  (its `plt.show()` is then a no-op), saved as PNG to a BytesIO, then closed;
- `tb_rnngrad.viz`: `heatmap(data)` and `channel_grid(data)`, saved the same way.

All six draws run interleaved in one process (rotated order each repetition;
the browser draws while Python waits). Warm-up: the browser draws the array
twice; each matplotlib side draws a 2 x 5 x 3 array once (imports, fonts,
caches) rather than the full one, which takes seconds. see-rnn is not
a dependency: it is installed with `pip install --target` into a directory put
on sys.path only here (`--see-rnn-site`, default /tmp/seernn-site).
"""

from __future__ import annotations

import argparse
import io
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.browser import DrawPage  # noqa: E402
from bench.timing import Recorder, interleave, ratio, spread, summarize  # noqa: E402
from tb_rnngrad import viz  # noqa: E402
from testkit.data import gradient_like  # noqa: E402

SHAPE = (16, 200, 64)
SEE_RNN = "see-rnn==1.15.1"
SEE_RNN_WHEEL = Path("/tmp/seernn/see_rnn-1.15.1-py3-none-any.whl")
SEE_RNN_SITE = "/tmp/seernn-site"
#: Target: the browser views draw at least this many times faster than see-rnn.
MIN_SPEED_UP = 30.0


def import_see_rnn(site: str):
    """see_rnn.visuals_gen from `site`, installed there first if missing."""
    if not (Path(site) / "see_rnn").is_dir():
        source = str(SEE_RNN_WHEEL) if SEE_RNN_WHEEL.exists() else SEE_RNN
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
            + ["--target", site, source],
            check=True,
        )
    sys.path.insert(0, site)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from see_rnn import visuals_gen

    return visuals_gen


def png_size(buffer: io.BytesIO) -> list[int]:
    """(width, height) from a PNG's IHDR chunk."""
    return list(struct.unpack(">II", buffer.getvalue()[16:24]))


def save_png(fig) -> io.BytesIO:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer


def warm_up_matplotlib(sides: dict) -> None:
    """Runs each matplotlib side once on a tiny array (see `matplotlib_sides`)."""
    for name, side in sides.items():
        if not name.startswith("browser"):
            side(small=True)


def matplotlib_sides(data: np.ndarray, see_rnn, sizes: dict) -> dict:
    """The four matplotlib draws; each records its PNG size in `sizes`."""

    tiny = data[:2, :5, :3]

    def see_rnn_draw(fn, key, small=False, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plt.show() on Agg warns
            fig, _ = fn(tiny if small else data, title="grads", **kwargs)
        png = save_png(fig)
        plt.close(fig)
        if not small:
            sizes[key] = png_size(png)

    def viz_draw(fn, key, small=False):
        fig, _ = fn(tiny if small else data)
        png = save_png(fig)
        if not small:
            sizes[key] = png_size(png)

    sides = {
        "viz_heatmap": lambda small=False: viz_draw(viz.heatmap, "viz_heatmap", small),
        "viz_grid": lambda small=False: viz_draw(viz.channel_grid, "viz_grid", small),
    }
    if see_rnn is not None:
        sides["see_rnn_2d"] = lambda small=False: see_rnn_draw(
            see_rnn.features_2D, "see_rnn_2d", small, norm="auto"
        )
        sides["see_rnn_1d"] = lambda small=False: see_rnn_draw(
            see_rnn.features_1D, "see_rnn_1d", small
        )
    return sides


def combine(raw: dict, parts: tuple[str, str]) -> list[float]:
    """Per-repetition sum of two sides' wall times."""
    a, b = (raw[p]["wall"] for p in parts)
    return [x + y for x, y in zip(a, b, strict=True)]


def run(reps: int, see_rnn_site: str) -> dict:
    data = gradient_like(SHAPE)
    out: dict = {}
    try:
        see_rnn = import_see_rnn(see_rnn_site)
        out["see_rnn_version"] = "1.15.1"
    except Exception as error:  # reported, and the other sides still run
        see_rnn, out["see_rnn_error"] = None, f"{type(error).__name__}: {error}"
    sizes: dict = {}
    with DrawPage() as page:
        out["chromium"] = page.version()
        out["parse_ms"] = page.load("g", data)["parseMs"]
        sides = {
            "browser_heatmap": lambda: page.draw("g", "heatmap"),
            "browser_grid": lambda: page.draw("g", "grid"),
            **matplotlib_sides(data, see_rnn, sizes),
        }
        page.draw("g", "both")
        page.draw("g", "both")
        warm_up_matplotlib(sides)
        raw = interleave(sides, reps, warmup=0)
        sizes.update(
            {f"browser_{k}": v for k, v in page.sizes().items() if k in ("heatmap",)}
        )
        sizes["browser_grid"] = page.sizes()["grid"]
        frame = [page.draw_to_frame("g", "both") for _ in range(max(3, reps))]
        one = [page.draw("g", "both", samples="one") for _ in range(max(3, reps))]
    out["sides"] = summarize(raw)
    out["browser_to_next_frame_ms"] = spread(frame, 1e3)
    out["browser_one_sample_ms"] = spread(one, 1e3)
    out["pixels"] = sizes
    tools = {"browser": ("browser_heatmap", "browser_grid")}
    tools["viz"] = ("viz_heatmap", "viz_grid")
    if see_rnn is not None:
        tools["see_rnn"] = ("see_rnn_2d", "see_rnn_1d")
    totals = {name: combine(raw, parts) for name, parts in tools.items()}
    out["totals"] = {name: spread(t, 1e3) for name, t in totals.items()}
    pairs = [("viz", "browser")]
    if see_rnn is not None:
        pairs.append(("viz", "see_rnn"))
    if see_rnn is not None:
        pairs = [("see_rnn", "browser"), ("see_rnn", "viz")] + pairs
        pairs += [
            ("see_rnn_2d", "browser_heatmap"),
            ("see_rnn_1d", "browser_grid"),
            ("see_rnn_2d", "viz_heatmap"),
            ("see_rnn_1d", "viz_grid"),
        ]
    series = {**totals, **{k: v["wall"] for k, v in raw.items()}}
    out["ratios"] = {f"{a}/{b}": ratio(series[a], series[b]) for a, b in pairs}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions")
    parser.add_argument("--json", default=None, help="write results here")
    parser.add_argument("--see-rnn-site", default=SEE_RNN_SITE, help="see-rnn dir")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 4)
    rec = Recorder(
        "compare_drawing",
        args.quick,
        {"reps": reps, "shape": list(SHAPE), "matplotlib": matplotlib.__version__},
    )
    for key, value in run(reps, args.see_rnn_site).items():
        rec[key] = value
    speed = rec.data["results"]["ratios"].get("see_rnn/browser")
    if speed is not None:
        target = "browser views / see-rnn drawing a 16x200x64 step (speed-up)"
        rec.check(target, speed["median"], ">=", MIN_SPEED_UP, "x")
    rec.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
