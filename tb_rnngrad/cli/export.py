"""`tb-rnngrad export`: a view of one series as PNG file(s)."""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import sys

import numpy as np

from tb_rnngrad.cli import export_weights
from tb_rnngrad.cli.source import CliError, open_logdir
from tb_rnngrad.cli.text import names, printable, short_list
from tb_rnngrad.format import metadata
from tb_rnngrad.format.quantities import QUANTITIES, UNNAMED
from tb_rnngrad.server import payloads
from tb_rnngrad.server.series_info import SeriesInfo, UnreadableSeries

#: Views that draw one step's values sample by sample.
_PER_SAMPLE_VIEWS = ("heatmap", "grid", "0d")
#: `--scale` for the weights view, whose norms have no sign.
_WEIGHT_SCALES = {"auto": "linear", "log": "log"}


def export(args: argparse.Namespace) -> None:
    """Renders the chosen view of one series to PNG file(s)."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CliError(
            "export draws with matplotlib, which is not installed: "
            "pip install 'tb-rnngrad[viz]' (or pip install matplotlib)"
        )
    keep_all = args.all_steps or args.view == "weights"
    source = open_logdir(args.logdir, keep_all_tensors=keep_all)
    info, run_tags = _find_series(source, args.run, args.tag)
    _check_view(info, args.view, run_tags)
    if args.view == "flow":
        _save(_flow_figure(source, info), args.output)
        print(args.output)
        return
    steps = [
        s.step
        for s in source.reader.list_steps(
            source.ctx, source.experiment_id, info.run, info.tag
        )
    ]
    chosen = (
        steps if args.all_steps else [steps[-1] if args.step is None else args.step]
    )
    if chosen[0] not in steps:
        raise CliError(
            f"step {chosen[0]} of run {info.run!r} tag {info.tag!r} is not logged; "
            f"logged steps: {short_list(steps)}"
        )
    channels, left_out = None, ""
    if args.view == "grid":
        channels, left_out = _grid_channels(args.channels, info.shape[2])
        if left_out:  # once, not once per step
            print(f"tb-rnngrad: {left_out}", file=sys.stderr)
    if not args.all_steps:
        figure = _step_figure(source, info, chosen[0], args, channels, left_out)
        _save(figure, args.output)
        print(args.output)
        _save_histogram(source, info, steps, args.output)
        return
    os.makedirs(args.output, exist_ok=True)
    for done, step in enumerate(chosen, 1):
        path = os.path.join(args.output, f"step_{step:09d}.png")
        _save(_step_figure(source, info, step, args, channels, left_out), path)
        _progress(done, len(chosen))
    print(args.output)
    _save_histogram(source, info, steps, args.output)


def _save_histogram(source, info: SeriesInfo, steps: list[int], output: str) -> None:
    """For a weight matrix, its gates' distributions over `steps` beside `output`."""
    if not export_weights.is_matrix(info):
        return
    path = export_weights.histogram_path(output)
    title = f"{printable(info.run)} / {printable(info.tag)}"
    _save(export_weights.histogram_figure(source, info, steps, title, printable), path)
    print(path)


def _find_series(source, run: str, tag: str) -> tuple[SeriesInfo, dict]:
    """The series of `run` and `tag`, and every series of `run` by tag."""
    listing = source.reader.list_series(source.ctx, source.experiment_id)
    if run not in listing:
        raise CliError(f"no run {run!r}; runs with rnngrad data: {names(listing)}")
    if tag not in listing[run]:
        raise CliError(
            f"no tag {tag!r} in run {run!r}; its tags: {names(listing[run])}"
        )
    info = listing[run][tag]
    if isinstance(info, UnreadableSeries):
        raise CliError(f"run {run!r} tag {tag!r} is unreadable: {info.reason}")
    return info, listing[run]


def _check_view(info: SeriesInfo, view: str, run_tags: dict) -> None:
    """Raises CliError, saying which view to use, if `view` cannot draw `info`."""
    weights = info.kind in metadata.NAMED_AXES_KINDS
    if export_weights.is_matrix(info):
        if view != "weights":
            raise CliError(
                f"--view {view} cannot draw tag {info.tag!r}: it holds "
                f"{_holds(info)}, a weight matrix {tuple(info.shape)} without "
                "samples or a time axis: use --view weights"
            )
        return
    if view == "weights" and not weights:
        raise CliError(
            f"--view weights draws weight contributions (weights, timesteps, "
            f"gates) and weight matrices (weights, weight_gradients); tag "
            f"{info.tag!r} holds {_holds(info)}: use --view {_views_for(info)}, "
            f"or {_weight_tags(info.run, run_tags)}"
        )
    if view in _PER_SAMPLE_VIEWS and weights:
        raise CliError(
            f"--view {view} draws one step's values per sample; tag {info.tag!r} "
            f"holds {_holds(info)}, shape (weights, timesteps, gates) "
            f"{tuple(info.shape)}: use --view {_views_for(info)}"
        )
    rank = len(info.shape)
    if (view == "0d" and rank != 2) or (view in ("heatmap", "grid") and rank != 3):
        needs = "(batch, channels) data" if view == "0d" else "a time axis"
        raise CliError(
            f"--view {view} needs {needs}; tag {info.tag!r} has shape "
            f"{tuple(info.shape)}: use --view {_views_for(info)}"
        )


def _views_for(info: SeriesInfo) -> str:
    """The views that draw `info`, e.g. "heatmap, grid or flow"."""
    if export_weights.is_matrix(info):
        return "weights"
    if info.kind in metadata.NAMED_AXES_KINDS:
        return "weights or flow"
    return "heatmap, grid or flow" if len(info.shape) == 3 else "0d or flow"


def _holds(info: SeriesInfo) -> str:
    """E.g. "state_gradients (d loss / d state (through time))"."""
    label = QUANTITIES.get(info.kind, UNNAMED).label
    return f"{info.kind} ({label})" if label else info.kind


def _weight_tags(run: str, run_tags: dict) -> str:
    """Where the weight contributions of `run` are, or how to log them."""
    tags = [
        tag
        for tag, info in run_tags.items()
        if isinstance(info, SeriesInfo) and info.kind in metadata.NAMED_AXES_KINDS
    ]
    if tags:
        return f"pick a weight_contributions tag of run {run!r}: {names(tags)}"
    return (
        f"log weight contributions (run {run!r} has none): "
        'kinds=(..., "weight_contributions") in capture or GradientLogger'
    )


def _kind(info: SeriesInfo) -> str | None:
    """The series' kind for the views' titles; None if this version lacks it."""
    return info.kind if info.kind in QUANTITIES else None


def _step_figure(
    source,
    info: SeriesInfo,
    step: int,
    args: argparse.Namespace,
    channels: list[int] | None = None,
    left_out: str = "",
):
    """One step's figure; `channels` and `left_out` from `_grid_channels` for
    the grid view."""
    from tb_rnngrad import viz

    reader, ctx, eid = source.reader, source.ctx, source.experiment_id
    data = np.load(io.BytesIO(reader.read_tensor(ctx, eid, info.run, info.tag, step)))
    title = f"{printable(info.run)} / {printable(info.tag)} / step {step}"
    if info.reduced:
        title += f"\nstored: {printable(payloads.series_note(info))}"
    if export_weights.is_matrix(info):
        return export_weights.heatmap_figure(source, info, step, title, printable)
    if args.view == "weights":
        fig, _ = viz.weight_contributions(
            data,
            [printable(name) for name in info.weights],
            [printable(name) for name in info.gates],
            scale=_WEIGHT_SCALES[args.scale],
            title=title,
            kind=info.kind,
        )
        return fig
    samples = _samples(args.samples, data.shape[0])
    bidirectional = info.bidirectional and info.merge_mode == "concat"
    if args.view == "0d":
        fig, _ = viz.scatter0d(data, samples=samples, title=title, kind=_kind(info))
        return fig
    mask = None
    if info.has_mask:
        mask = np.load(io.BytesIO(reader.read_mask(ctx, eid, info.run, info.tag, step)))
    if args.view == "grid":
        if channels is None or data.shape[2] != info.shape[2]:  # shape changed
            channels, left_out = _grid_channels(args.channels, data.shape[2])
            if left_out:
                print(f"tb-rnngrad: step {step}: {left_out}", file=sys.stderr)
        if left_out:
            title += f" ({left_out})"
        fig, _ = viz.channel_grid(
            data,
            samples=samples,
            channels=channels,
            reflect_backward=args.reflect and bidirectional,
            bidirectional=bidirectional,
            units=info.units if bidirectional else None,
            mask=mask,
            title=title,
            kind=_kind(info),
        )
        return fig
    fig, _ = viz.heatmap(
        data,
        samples=samples,
        scale=args.scale,
        reflect_backward=args.reflect and bidirectional,
        bidirectional=bidirectional,
        units=info.units if bidirectional else None,
        mask=mask,
        title=title,
        kind=_kind(info),
    )
    return fig


def _flow_figure(source, info: SeriesInfo):
    from tb_rnngrad import viz

    profiles = source.reader.read_profiles_of(
        source.ctx, source.experiment_id, info.run, info.tag
    )
    if not profiles.steps:
        raise CliError(f"run {info.run!r} tag {info.tag!r} has no profile")
    norms = np.stack([a[0] for a in profiles.arrays])
    if len(info.shape) == 2:  # no time axis: one norm per step
        fig, _ = viz.norm_history(
            norms,
            np.array(profiles.steps),
            title=f"{printable(info.run)} / {printable(info.tag)}: gradient norm",
            kind=_kind(info),
        )
        return fig
    fig, _ = viz.flow(
        norms,  # NaN and Inf norms keep their own colours
        np.array(profiles.steps),
        reach=np.array(profiles.reach()),
        title=f"{printable(info.run)} / {printable(info.tag)}: gradient flow",
        kind=_kind(info),
    )
    return fig


def _samples(requested: list[int] | None, batch: int) -> list[int]:
    if requested is None:
        return list(range(min(batch, 4)))
    bad = [s for s in requested if not 0 <= s < batch]
    if bad:
        raise CliError(f"--samples {bad} out of range: the batch has {batch} samples")
    return requested


def _grid_channels(requested: list[int] | None, count: int) -> tuple[list[int], str]:
    """The channels the grid charts (at most `viz.MAX_GRID_CHANNELS`) and a
    note naming those left out ("" if none)."""
    from tb_rnngrad.viz import MAX_GRID_CHANNELS

    chosen = list(range(count)) if requested is None else requested
    bad = [c for c in chosen if c >= count]
    if bad:
        raise CliError(
            f"--channels {_range_text(bad)} out of range: the tag has {count} "
            f"channels (0-{count - 1})"
        )
    if len(chosen) <= MAX_GRID_CHANNELS:
        return chosen, ""
    drawn, rest = chosen[:MAX_GRID_CHANNELS], chosen[MAX_GRID_CHANNELS:]
    return drawn, (
        f"channels {_range_text(rest)} not drawn: at most {MAX_GRID_CHANNELS} "
        "charts; choose with --channels"
    )


def _range_text(indices: list[int]) -> str:
    """E.g. [0, 1, 2, 5] -> "0-2,5"."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _save(fig, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CliError(f"output directory {directory!r} does not exist")
    fig.savefig(path, dpi=100)


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done == total else ""
    print(f"\r[{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)
