"""`tb-rnngrad`: summarize rnngrad logs and export their views as PNG files.

tb-rnngrad summary LOGDIR
tb-rnngrad export LOGDIR --run R --tag T [--step S | --all-steps]
                  --view heatmap|grid|0d|flow -o OUT
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import sys
from collections.abc import Sequence

import numpy as np
from tensorboard import errors

from tb_rnngrad.server.reader import SeriesInfo, UnreadableSeries

VIEWS = ("heatmap", "grid", "0d", "flow")


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
        "summary", help="table of runs, tags, layer classes, steps and reach"
    )
    summary.add_argument("logdir")
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
    export.add_argument("--view", choices=VIEWS, default="heatmap")
    export.add_argument(
        "--samples",
        type=int,
        nargs="+",
        default=None,
        help="sample indices to draw (default: up to 4)",
    )
    export.add_argument("--scale", choices=("auto", "log"), default="auto")
    export.add_argument(
        "--reflect", action="store_true", help="reflect the backward half"
    )
    export.add_argument("-o", "--output", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorBoard loads TF
    try:
        if args.command == "summary":
            print(summary_table(_open(args.logdir)))
        else:
            export(args)
    except (CliError, errors.PublicError) as error:
        print(f"tb-rnngrad: error: {error}", file=sys.stderr)
        return 1
    return 0


def _open(logdir: str, keep_all_tensors: bool = False):
    from tb_rnngrad.server.logdir import LogdirReader

    if not os.path.isdir(logdir) and "://" not in logdir:
        raise CliError(f"log directory {logdir!r} does not exist")
    return LogdirReader(logdir, keep_all_tensors=keep_all_tensors)


def summary_table(source) -> str:
    """A text table: run, tag, kind, layer class, steps, latest reach."""
    reader, ctx, eid = source.reader, source.ctx, source.experiment_id
    rows = [("run", "tag", "kind", "layer", "steps", "last step", "reach")]
    for run, tags in sorted(reader.list_series(ctx, eid).items()):
        for tag, info in sorted(tags.items()):
            if isinstance(info, UnreadableSeries):
                rows.append((run, tag, "unreadable", info.reason, "", "", ""))
                continue
            try:
                profiles = reader.read_profiles_of(ctx, eid, run, tag)
            except errors.NotFoundError:  # no profile, or an unreadable one
                last = str(info.max_step)
                rows.append((run, tag, info.kind, _layer_label(info), "-", last, "-"))
                continue
            reach = profiles.reach()
            has_time = len(info.shape) == 3
            rows.append(
                (
                    run,
                    tag,
                    info.kind,
                    _layer_label(info),
                    str(len(profiles.steps)),
                    str(info.max_step),
                    str(reach[-1]) if reach and has_time else "-",
                )
            )
    if len(rows) == 1:
        return "no rnngrad data found"
    return _format_table(rows)


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
    source = _open(args.logdir, keep_all_tensors=args.all_steps)
    info = _find_series(source, args.run, args.tag)
    if args.view == "flow":
        _save(_flow_figure(source, info), args.output)
        print(args.output)
        return
    _check_view(info, args.view)
    steps = [
        s.step
        for s in source.reader.list_steps(
            source.ctx, source.experiment_id, info.run, info.tag
        )
    ]
    if args.all_steps:
        os.makedirs(args.output, exist_ok=True)
        for done, step in enumerate(steps, 1):
            path = os.path.join(args.output, f"step_{step:09d}.png")
            _save(_step_figure(source, info, step, args), path)
            _progress(done, len(steps))
        print(args.output)
        return
    step = steps[-1] if args.step is None else args.step
    if step not in steps:
        raise CliError(
            f"step {step} of run {info.run!r} tag {info.tag!r} is not logged; "
            f"logged steps: {_short_list(steps)}"
        )
    _save(_step_figure(source, info, step, args), args.output)
    print(args.output)


def _find_series(source, run: str, tag: str) -> SeriesInfo:
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
    return info


def _check_view(info: SeriesInfo, view: str) -> None:
    rank = len(info.shape)
    if view == "0d" and rank != 2:
        raise CliError(
            f"--view 0d needs (batch, channels) data; tag {info.tag!r} has shape "
            f"{tuple(info.shape)}: use --view heatmap or grid"
        )
    if view in ("heatmap", "grid") and rank != 3:
        raise CliError(
            f"--view {view} needs a time axis; tag {info.tag!r} has shape "
            f"{tuple(info.shape)}: use --view 0d"
        )


def _step_figure(source, info: SeriesInfo, step: int, args: argparse.Namespace):
    from tb_rnngrad import viz

    reader, ctx, eid = source.reader, source.ctx, source.experiment_id
    data = np.load(io.BytesIO(reader.read_tensor(ctx, eid, info.run, info.tag, step)))
    samples = _samples(args.samples, data.shape[0])
    title = f"{_printable(info.run)} / {_printable(info.tag)} / step {step}"
    bidirectional = info.bidirectional and info.merge_mode == "concat"
    if args.view == "0d":
        fig, _ = viz.scatter0d(data, samples=samples, title=title)
        return fig
    if args.view == "grid":
        fig, _ = viz.channel_grid(
            data,
            samples=samples,
            channels=list(range(min(data.shape[2], 16))),
            reflect_backward=args.reflect and bidirectional,
            bidirectional=bidirectional,
            units=info.units if bidirectional else None,
            title=title,
        )
        return fig
    mask = None
    if info.has_mask:
        mask = np.load(io.BytesIO(reader.read_mask(ctx, eid, info.run, info.tag, step)))
    fig, _ = viz.heatmap(
        data,
        samples=samples,
        scale=args.scale,
        reflect_backward=args.reflect and bidirectional,
        bidirectional=bidirectional,
        units=info.units if bidirectional else None,
        mask=mask,
        title=title,
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
    fig, _ = viz.flow(
        norms,  # NaN and Inf norms keep their own colours
        np.array(profiles.steps),
        reach=np.array(profiles.reach()),
        title=f"{_printable(info.run)} / {_printable(info.tag)}: gradient flow",
    )
    return fig


def _samples(requested: list[int] | None, batch: int) -> list[int]:
    if requested is None:
        return list(range(min(batch, 4)))
    bad = [s for s in requested if not 0 <= s < batch]
    if bad:
        raise CliError(f"--samples {bad} out of range: the batch has {batch} samples")
    return requested


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
