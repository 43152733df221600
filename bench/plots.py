"""The scaling figures of docs/benchmarks.md (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullLocator  # noqa: E402

SWEEPS = {
    "timesteps": ("timesteps", "channels", 64, "timesteps (batch 16, 64 channels)"),
    "channels": ("channels", "timesteps", 200, "channels (batch 16, 200 timesteps)"),
}


def sweep_rows(doc: dict, sweep: str) -> list[dict]:
    """Capture rows of one sweep, sorted by the swept dimension."""
    key, fixed, value, _ = SWEEPS[sweep]
    rows = [r for r in doc["results"].get("capture") or [] if r[fixed] == value]
    return sorted(rows, key=lambda r: r[key])


def run_name(row: dict) -> str:
    return f"t{row['timesteps']}_c{row['channels']}"


def _reference(ax, xs: list[float], anchor_x: float, anchor_y: float) -> None:
    """A dotted line proportional to x through (anchor_x, anchor_y)."""
    ys = [anchor_y * x / anchor_x for x in xs]
    ax.plot(xs, ys, ":", color="0.5", label="∝ tensor size")


def _panel(ax, xs, series: dict[str, list[float] | None], title: str, unit: str):
    first = None
    for label, (ys, style) in series.items():
        if ys is None or len(ys) != len(xs):
            continue
        ax.plot(xs, ys, style, label=label)
        first = first or ys
    if first:
        _reference(ax, xs, xs[-1], first[-1])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs, [f"{x:,}" for x in xs])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def scaling_figure(doc: dict, sweep: str, path: Path) -> Path | None:
    """Draws one sweep's 2x2 figure to `path`; None if it has under 2 sizes."""
    rows = sweep_rows(doc, sweep)
    if len(rows) < 2:
        return None
    key, _, _, xlabel = SWEEPS[sweep]
    res = doc["results"]
    xs = [r[key] for r in rows]
    names = [run_name(r) for r in rows]
    fig = Figure(figsize=(10, 7.2), layout="constrained")
    axes = fig.subplots(2, 2).ravel()

    def med(row, side):
        return row["ms"][side]["median"]

    _panel(
        axes[0],
        xs,
        {
            "capture + write (GradientLogger.log)": (
                [med(r, "capture_write") for r in rows],
                "o-",
            ),
            "bare forward+backward": ([med(r, "floor") for r in rows], "s--"),
            "write alone (summary.gradients)": ([med(r, "write") for r in rows], "^--"),
        },
        "capture: compared with bare forward+backward",
        "ms (median)",
    )
    _panel(
        axes[1],
        xs,
        {
            "event file bytes per logged step": (
                [r["event_bytes_per_step"] / 2**20 for r in rows],
                "o-",
            ),
            "raw float32 (4 B x values)": (
                [4 * r["values"] / 2**20 for r in rows],
                "s--",
            ),
        },
        "storage: compared with raw float32",
        "MiB per step",
    )
    routes = res.get("route") or {}
    _panel(
        axes[2],
        xs,
        {
            f"GET tensor, {mode}": (
                [routes[mode][n]["ms"]["median"] for n in names]
                if routes.get(mode) and all(n in routes[mode] for n in names)
                else None,
                "o-" if mode.endswith("true") else "s--",
            )
            for mode in ("load_fast=true", "load_fast=false")
        },
        "tensor route: Rust data server compared with Python multiplexer",
        "ms (median)",
    )
    draw = res.get("draw") or {}
    have = all(n in draw for n in names)
    _panel(
        axes[3],
        xs,
        {
            "heatmap + channel grid": (
                [draw[n]["both_ms"]["median"] for n in names] if have else None,
                "o-",
            ),
            "heatmap": (
                [draw[n]["heatmap_ms"]["median"] for n in names] if have else None,
                "s--",
            ),
            "channel grid": (
                [draw[n]["grid_ms"]["median"] for n in names] if have else None,
                "^--",
            ),
        },
        "browser draw, 16 samples: views compared with each other",
        "ms (median)",
    )
    for ax in axes[2:]:
        ax.set_xlabel(xlabel)
    fig.suptitle(
        f"Cost against {key} (dotted: growth proportional to tensor size, "
        "through the largest point)",
        fontsize=11,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def scaling_figures(doc: dict, img: Path) -> dict[str, Path]:
    """{sweep: path} of the figures drawn into `img`."""
    out = {}
    for sweep in SWEEPS:
        path = scaling_figure(doc, sweep, img / f"bench-scaling-{sweep}.png")
        if path is not None:
            out[sweep] = path
    return out
