"""`tb-rnngrad`: summarize rnngrad logs and export their views as PNG files.

tb-rnngrad summary LOGDIR [--sort reach|max_abs|nonfinite|last_step|run]
                   [--tag T] [--reverse] [--health]
tb-rnngrad export LOGDIR --run R --tag T [--step S | --all-steps]
                  --view heatmap|grid|0d|flow|weights -o OUT
tb-rnngrad check LOGDIR [--json] [threshold options]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import sys
import types
from collections.abc import Sequence

import numpy as np
from tensorboard import errors

from tb_rnngrad import export_weights, versions
from tb_rnngrad.format import comparison, metadata
from tb_rnngrad.format.quantities import QUANTITIES, UNNAMED
from tb_rnngrad.server import payloads
from tb_rnngrad.server.reader import SeriesInfo, UnreadableSeries

VIEWS = ("heatmap", "grid", "0d", "flow", "weights")
#: Views that draw one step's values sample by sample.
_PER_SAMPLE_VIEWS = ("heatmap", "grid", "0d")
#: What the summary calls the reach, by kind (`Quantity.reach`).
_REACH_COLUMNS = ("reach", "horizon")
#: `--scale` for the weights view, whose norms have no sign.
_WEIGHT_SCALES = {"auto": "linear", "log": "log"}
#: Charts the grid view draws at most (`viz.MAX_GRID_CHANNELS`, without
#: importing matplotlib to build the parser).
_MAX_GRID_CHANNELS = 64


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tb-rnngrad",
        description="Per-timestep gradients of recurrent layers, from the command "
        "line.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser(
        "summary",
        help="table of runs, tags, kinds, layer classes, steps and reach (horizon "
        "for state gradients)",
    )
    summary.add_argument(
        "--health",
        action="store_true",
        help="add the health report (tb-rnngrad check) under the table",
    )
    summary.add_argument("logdir")
    summary.add_argument(
        "--sort",
        choices=tuple(comparison.SORT_KEYS),
        default=None,
        help="compare the runs instead: one row per run and tag with the latest "
        "reach (horizon), max |g| of the latest logged tensor, NaN/Inf values "
        "over all steps and the last step, sorted by this key (numbers largest "
        "first, run names A to Z)",
    )
    summary.add_argument(
        "--tag", default=None, help="compare only this tag (implies --sort reach)"
    )
    summary.add_argument(
        "--reverse", action="store_true", help="reverse the order of --sort"
    )
    _add_check_parser(commands)
    export = commands.add_parser("export", help="render a view to PNG")
    export.add_argument("logdir")
    export.add_argument("--run", required=True)
    export.add_argument("--tag", required=True)
    which = export.add_mutually_exclusive_group()
    which.add_argument("--step", type=int, help="step to export (default: latest)")
    which.add_argument(
        "--all-steps",
        action="store_true",
        help="export every logged step into the directory given by -o",
    )
    export.add_argument(
        "--view",
        choices=VIEWS,
        default="heatmap",
        help="heatmap, grid (rank-3 tags) or 0d (rank-2 tags): one step's values "
        "per sample; flow: per-timestep norms over training (any tag; for "
        "(batch, channels) tags, which have no time axis, the norm over training "
        "as a line); weights: "
        "one step's timesteps x gates image per weight (weight_contributions "
        "tags), or for weights / weight_gradients tags one step's heatmap per "
        "gate plus the gates' distributions over the steps (OUT_histogram.png)",
    )
    export.add_argument(
        "--samples",
        type=int,
        nargs="+",
        default=None,
        help="sample indices to draw in heatmap, grid and 0d (default: up to 4)",
    )
    export.add_argument(
        "--scale",
        choices=("auto", "log"),
        default="auto",
        help="heatmap: auto (linear, symmetric around 0) or log (signed log); "
        "weights: auto (linear from 0) or log; flow is always log",
    )
    export.add_argument(
        "--channels",
        type=_index_ranges,
        default=None,
        help="grid: channels to chart, e.g. 0-31 or 0-7,32-39 (default: all; "
        f"at most {_MAX_GRID_CHANNELS}, the rest are named in the figure title)",
    )
    export.add_argument(
        "--reflect", action="store_true", help="reflect the backward half"
    )
    export.add_argument("-o", "--output", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "check":
        return check_command(args)
    try:
        if args.command == "summary" and (args.sort or args.tag):
            descending = comparison.SORT_KEYS[args.sort or "reach"] != args.reverse
            source = _open(args.logdir)
            print(compare_table(source, args.sort or "reach", descending, args.tag))
        elif args.command == "summary":
            source = _open(args.logdir)
            print(summary_table(source))
            if args.health:
                print(health_section(source))
        else:
            export(args)
    except (CliError, errors.PublicError) as error:
        print(f"tb-rnngrad: error: {error}", file=sys.stderr)
        return 1
    return 0


def _add_check_parser(commands) -> None:
    from tb_rnngrad.health import Thresholds

    defaults = Thresholds()
    check = commands.add_parser(
        "check",
        help="health report: vanishing, exploding, NaN/Inf, dead units per run; "
        "exit 1 when a run has a problem",
    )
    check.add_argument("logdir")
    check.add_argument(
        "--json",
        action="store_true",
        help='print {"runs": {run: [finding, ...]}} as JSON',
    )
    check.add_argument(
        "--vanishing-fraction",
        type=float,
        default=defaults.vanishing_fraction,
        help="vanishing when the horizon covers less than this fraction of the "
        "sequence (default %(default)s)",
    )
    check.add_argument(
        "--exploding-factor",
        type=float,
        default=defaults.exploding_factor,
        help="exploding when a norm grows by this factor (default %(default)s)",
    )
    check.add_argument(
        "--recent-steps",
        type=int,
        default=defaults.recent_steps,
        help="horizon: median over this many last steps (default %(default)s)",
    )
    check.add_argument(
        "--dead-steps",
        type=int,
        default=defaults.dead_steps,
        help="dead units: zero over this many last tensors (default %(default)s)",
    )


def check_command(args: argparse.Namespace) -> int:
    """`tb-rnngrad check`: 0 no run has a problem, 1 one does, 2 usage error."""
    import json

    from tb_rnngrad import health
    from tb_rnngrad.health.text import report_text

    try:
        thresholds = health.Thresholds(
            vanishing_fraction=args.vanishing_fraction,
            recent_steps=args.recent_steps,
            exploding_factor=args.exploding_factor,
            dead_steps=args.dead_steps,
        )
        source = _open(args.logdir)
    except (ValueError, CliError) as error:
        print(f"tb-rnngrad check: error: {error}", file=sys.stderr)
        return 2
    report = health.check(source.reader, source.ctx, source.experiment_id, thresholds)
    if not report.runs:
        print(
            f"tb-rnngrad check: error: no rnngrad data in {args.logdir!r}: log "
            "with tb_rnngrad.GradientLogger (kinds including state_gradients) "
            "and point check at that log directory",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(report.to_json(), indent=1) if args.json else report_text(report))
    return 1 if report.has_problem else 0


def health_section(source) -> str:
    """The health report under the summary table ("" without rnngrad data)."""
    from tb_rnngrad import health
    from tb_rnngrad.health.text import report_text

    report = health.check(source.reader, source.ctx, source.experiment_id)
    return f"\nhealth\n{report_text(report)}" if report.runs else ""


def _open(logdir: str, keep_all_tensors: bool = False):
    remote = "://" in logdir
    if remote:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TF loads
    else:
        _read_without_tensorflow()
    from tb_rnngrad.server.logdir import LogdirReader

    if not remote and not os.path.isdir(logdir):
        raise CliError(f"log directory {logdir!r} does not exist")
    return LogdirReader(logdir, keep_all_tensors=keep_all_tensors)


def _read_without_tensorflow() -> None:
    """Makes TensorBoard read local files with its own stub, as its
    `no_tensorflow` build does, so reading logs does not load TensorFlow
    (seconds of start-up and its console lines). Remote paths need
    TensorFlow's file systems, so they are read as before."""
    versions.check(
        "tensorboard",
        "tb-rnngrad's CLI stubs TensorBoard's private `tensorboard.compat.notf`",
    )
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("notf"))


def summary_table(source) -> str:
    """A text table: run, tag, kind, layer class, steps, latest reach.

    The latest reach goes in the column its kind calls it (`Quantity.reach`):
    "horizon" for state gradients, "reach" for the others.
    """
    reader, ctx, eid = source.reader, source.ctx, source.experiment_id
    header = ("run", "tag", "kind", "layer", "steps", "last step", *_REACH_COLUMNS)
    rows = [header]
    for run, tags in sorted(reader.list_series(ctx, eid).items()):
        for tag, info in sorted(tags.items()):
            if isinstance(info, UnreadableSeries):
                rows.append((run, tag, "unreadable", info.reason, "", "", "", ""))
                continue
            label = _layer_label(info)
            rows.append((run, tag, info.kind, label, *_profile_cells(source, info)))
    if len(rows) == 1:
        return "no rnngrad data found"
    listing = reader.list_series(ctx, eid)
    layout = _weight_layout(listing)
    reduced = _reduced_lines(listing)
    return (
        _format_table(rows)
        + (f"\n\nstored reduced (of what was captured)\n{reduced}" if reduced else "")
        + (f"\n\nweight gate layout\n{layout}" if layout else "")
    )


def _reduced_lines(listing: dict) -> str:
    """One line per reduced series: what it stores of what was captured
    (`reduction_note`); "" if none is reduced."""
    lines = []
    for run, tags in sorted(listing.items()):
        for tag, info in sorted(tags.items()):
            if isinstance(info, SeriesInfo) and info.reduced:
                note = _printable(payloads.series_note(info))
                lines.append(f"  {_printable(run)} / {_printable(tag)}: {note}")
    return "\n".join(lines)


def compare_table(source, key: str, descending: bool, tag: str | None = None) -> str:
    """A text table comparing runs: one row per run and tag, sorted by `key`.

    Columns: run, tag, kind, latest reach (or horizon, by kind), max |g| of the
    latest logged tensor, NaN/Inf values over every logged step, last step
    (`format.comparison`). Unreadable series are listed after the others.

    Raises:
      CliError: `tag` is given and no run has it.
    """
    from tb_rnngrad.server.compare import Comparer

    reader, ctx, eid = source.reader, source.ctx, source.experiment_id
    listing = reader.list_series(ctx, eid)
    tags = sorted({t for by_tag in listing.values() for t in by_tag})
    if tag is not None and tag not in tags:
        raise CliError(f"no run has tag {tag!r}; tags: {_names(tags)}")
    comparer = Comparer(reader)
    rows, bad = [], []
    for name in [tag] if tag is not None else tags:
        for entry in comparer.compare(ctx, eid, name).values():
            (bad if isinstance(entry, UnreadableSeries) else rows).append(entry)
    if not rows and not bad:
        return "no rnngrad data found"
    header = ("run", "tag", "kind", *_REACH_COLUMNS, "max |g|", "NaN/Inf", "last step")
    table = [header]
    for row in comparison.sort_rows(rows, key, descending):
        reach = ["-" for _ in _REACH_COLUMNS]
        if row.latest_reach is not None:
            column = _REACH_COLUMNS.index(QUANTITIES.get(row.kind, UNNAMED).reach)
            reach[column] = str(row.latest_reach)
        max_abs = "-" if row.max_abs is None else f"{row.max_abs:.4g}"
        table.append(
            (
                row.run,
                row.tag,
                row.kind,
                *reach,
                max_abs,
                str(row.nonfinite),
                str(row.last_step),
            )
        )
    for entry in sorted(bad, key=lambda e: (e.run, e.tag)):
        table.append((entry.run, entry.tag, "unreadable", entry.reason, "", "", "", ""))
    return _format_table(table)


def _weight_layout(listing: dict) -> str:
    """The gate blocks of each logged weight ("weights", "weight_gradients"),
    once per run, layer and weight; "" if none was logged."""
    from tb_rnngrad.format.weight_layout import WeightTable, weight_rows

    table, seen = WeightTable(), set()
    for run, tags in sorted(listing.items()):
        for tag, info in sorted(tags.items()):
            if getattr(info, "kind", "") not in metadata.MATRIX_KINDS:
                continue
            weight = info.weights[0] if info.weights else "?"
            layer = tag.removesuffix(f"/{weight}").removeprefix(f"{info.kind}/")
            if (run, layer, weight) in seen or not info.gates:
                continue
            seen.add((run, layer, weight))
            label = f"{run}: {layer}" if len(listing) > 1 else layer
            table.extend(
                weight_rows(label, info.direction, weight, info.shape, info.gates)
            )
    return str(table) if table else ""


def _profile_cells(source, info: SeriesInfo) -> tuple[str, ...]:
    """Steps, last step and latest reach of a series; "-" where there is none."""
    try:
        profiles = source.reader.read_profiles_of(
            source.ctx, source.experiment_id, info.run, info.tag
        )
    except errors.NotFoundError:  # no profile, or an unreadable one
        return ("-", str(info.max_step), *("-" for _ in _REACH_COLUMNS))
    reach = profiles.reach()
    has_time = len(info.shape) == 3
    column = _REACH_COLUMNS.index(QUANTITIES.get(info.kind, UNNAMED).reach)
    cells = ["-" for _ in _REACH_COLUMNS]
    if reach and has_time:
        cells[column] = str(reach[-1])
    return (str(len(profiles.steps)), str(info.max_step), *cells)


def _layer_label(info: SeriesInfo) -> str:
    label = info.layer_class or (
        "model input" if info.kind == "input_gradients" else "?"
    )
    if info.bidirectional:
        label = f"Bidirectional({label}, {info.merge_mode or 'concat'})"
    if info.direction:
        label += f" {info.direction}"
    return label


def _format_table(rows: list[tuple[str, ...]]) -> str:
    rows = [tuple(_printable(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _printable(text: str) -> str:
    """Run and tag names are untrusted: show control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def export(args: argparse.Namespace) -> None:
    """Renders the chosen view of one series to PNG file(s)."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CliError(
            "export draws with matplotlib, which is not installed: "
            "pip install 'tb-rnngrad[viz]' (or pip install matplotlib)"
        )
    keep_all = args.all_steps or args.view == "weights"
    source = _open(args.logdir, keep_all_tensors=keep_all)
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
            f"logged steps: {_short_list(steps)}"
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
    title = f"{_printable(info.run)} / {_printable(info.tag)}"
    _save(export_weights.histogram_figure(source, info, steps, title, _printable), path)
    print(path)


def _find_series(source, run: str, tag: str) -> tuple[SeriesInfo, dict]:
    """The series of `run` and `tag`, and every series of `run` by tag."""
    listing = source.reader.list_series(source.ctx, source.experiment_id)
    if run not in listing:
        raise CliError(f"no run {run!r}; runs with rnngrad data: {_names(listing)}")
    if tag not in listing[run]:
        raise CliError(
            f"no tag {tag!r} in run {run!r}; its tags: {_names(listing[run])}"
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
        return f"pick a weight_contributions tag of run {run!r}: {_names(tags)}"
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
    title = f"{_printable(info.run)} / {_printable(info.tag)} / step {step}"
    if info.reduced:
        title += f"\nstored: {_printable(payloads.series_note(info))}"
    if export_weights.is_matrix(info):
        return export_weights.heatmap_figure(source, info, step, title, _printable)
    if args.view == "weights":
        fig, _ = viz.weight_contributions(
            data,
            [_printable(name) for name in info.weights],
            [_printable(name) for name in info.gates],
            scale=_WEIGHT_SCALES[args.scale],
            title=title,
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
            title=f"{_printable(info.run)} / {_printable(info.tag)}: gradient norm",
            kind=_kind(info),
        )
        return fig
    fig, _ = viz.flow(
        norms,  # NaN and Inf norms keep their own colours
        np.array(profiles.steps),
        reach=np.array(profiles.reach()),
        title=f"{_printable(info.run)} / {_printable(info.tag)}: gradient flow",
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


def _index_ranges(text: str) -> list[int]:
    """Parses "0-7,32-39" or "5" into [0, ..., 7, 32, ..., 39] or [5]."""
    indices = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not (low.isdigit() and (high.isdigit() or not high)):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a list of channel ranges; write e.g. 0-31 or "
                "0-7,32-39"
            )
        indices.extend(range(int(low), int(high or low) + 1))
    return indices


def _grid_channels(requested: list[int] | None, count: int) -> tuple[list[int], str]:
    """The channels the grid charts (at most `_MAX_GRID_CHANNELS`) and a note
    naming those left out ("" if none)."""
    chosen = list(range(count)) if requested is None else requested
    bad = [c for c in chosen if c >= count]
    if bad:
        raise CliError(
            f"--channels {_range_text(bad)} out of range: the tag has {count} "
            f"channels (0-{count - 1})"
        )
    if len(chosen) <= _MAX_GRID_CHANNELS:
        return chosen, ""
    drawn, rest = chosen[:_MAX_GRID_CHANNELS], chosen[_MAX_GRID_CHANNELS:]
    return drawn, (
        f"channels {_range_text(rest)} not drawn: at most {_MAX_GRID_CHANNELS} "
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


def _names(mapping) -> str:
    return ", ".join(repr(name) for name in sorted(mapping)) or "(none)"


def _short_list(values: list[int]) -> str:
    if len(values) <= 10:
        return ", ".join(map(str, values))
    return (
        ", ".join(map(str, values[:5])) + ", ..., " + ", ".join(map(str, values[-3:]))
    )


if __name__ == "__main__":
    raise SystemExit(main())
