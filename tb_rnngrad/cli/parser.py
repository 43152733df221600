"""The command line's argument parser."""

from __future__ import annotations

import argparse

from tb_rnngrad.format import comparison

VIEWS = ("heatmap", "grid", "0d", "flow", "weights")


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
        type=index_ranges,
        default=None,
        help="grid: channels to chart, e.g. 0-31 or 0-7,32-39 (default: all; "
        "channels beyond the grid's limit are named in the figure title)",
    )
    export.add_argument(
        "--reflect", action="store_true", help="reflect the backward half"
    )
    export.add_argument("-o", "--output", required=True)
    return parser


def _add_check_parser(commands) -> None:
    from tb_rnngrad.health import Thresholds

    defaults = Thresholds()
    check = commands.add_parser(
        "check",
        help="health report: vanishing, exploding, NaN/Inf, saturated gates, "
        "dead units per run; exit 1 when a run has a problem",
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
    check.add_argument(
        "--saturated-units",
        type=float,
        default=defaults.saturated_units,
        help="saturated gates: a gate is stuck at a timestep when this fraction "
        "of its units is near 0 or 1 (default %(default)s)",
    )
    check.add_argument(
        "--saturated-timesteps",
        type=float,
        default=defaults.saturated_timesteps,
        help="saturated gates: stuck at this fraction of the timesteps or more "
        "(default %(default)s)",
    )
    check.add_argument(
        "--saturated-steps",
        type=int,
        default=defaults.saturated_steps,
        help="saturated gates: stuck in each of this many last tensors "
        "(default %(default)s)",
    )


def index_ranges(text: str) -> list[int]:
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
