"""`tb-rnngrad export --view weights` for weight matrices ("weights",
"weight_gradients"): one step's gate heatmaps and the gates' distributions
over the retained steps, read from the logs."""

from __future__ import annotations

import io
import os

import numpy as np

from tb_rnngrad.format import metadata, weight_layout


def is_matrix(info) -> bool:
    """Whether the series is a weight matrix split into gate blocks."""
    return info.kind in metadata.MATRIX_KINDS


def histogram_path(output: str) -> str:
    """Where the distributions go beside the heatmap `output`: "w.png" ->
    "w_histogram.png"; for a directory (--all-steps), "histogram.png" in it."""
    if os.path.isdir(output):
        return os.path.join(output, "histogram.png")
    root, ext = os.path.splitext(output)
    return f"{root}_histogram{ext or '.png'}"


def _names(info, printable) -> dict:
    weight = info.weights[0] if info.weights else ""
    return {
        "gates": [printable(g) for g in info.gates] or ["all"],
        "kind": info.kind,
        "direction": info.direction
        if info.direction in ("forward", "backward")
        else "",
        "row": weight_layout.ROW_MEANING.get(weight, "row"),
    }


def _matrix(source, info, step: int) -> np.ndarray:
    blob = source.reader.read_tensor(
        source.ctx, source.experiment_id, info.run, info.tag, step
    )
    return np.load(io.BytesIO(blob))


def heatmap_figure(source, info, step: int, title: str, printable):
    """The gate heatmaps of the matrix at `step`."""
    from tb_rnngrad import viz

    names = _names(info, printable)
    fig, _ = viz.weights_heatmap(
        _matrix(source, info, step),
        names["gates"],
        kind=names["kind"],
        direction=names["direction"],
        row_label=names["row"],
        title=title,
    )
    return fig


def histogram_figure(source, info, steps: list[int], title: str, printable):
    """Each gate's distribution over the retained `steps` of the matrix."""
    from tb_rnngrad import viz

    names = _names(info, printable)
    fig, _ = viz.weights_histogram(
        np.stack([_matrix(source, info, s) for s in steps]),
        names["gates"],
        steps,
        kind=names["kind"],
        direction=names["direction"],
        title=title,
    )
    return fig
