"""`tb-rnngrad`: summarize rnngrad logs, check their health and export views.

tb-rnngrad summary LOGDIR [--sort reach|max_abs|nonfinite|last_step|run]
                   [--tag T] [--reverse] [--health]
tb-rnngrad export LOGDIR --run R --tag T [--step S | --all-steps]
                  --view heatmap|grid|0d|flow|weights -o OUT
tb-rnngrad check LOGDIR [--json] [threshold options]

Each command's module is imported when it runs: `check` does not load
matplotlib, and reading starts before the heavier imports.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tb_rnngrad.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "check":
        from tb_rnngrad.cli.check import check_command

        return check_command(args)
    from tensorboard import errors

    from tb_rnngrad.cli.source import CliError

    try:
        if args.command == "summary":
            from tb_rnngrad.cli.summary import summary_command

            summary_command(args)
        else:
            from tb_rnngrad.cli.export import export

            export(args)
    except (CliError, errors.PublicError) as error:
        print(f"tb-rnngrad: error: {error}", file=sys.stderr)
        return 1
    return 0
