"""`tb-rnngrad check`, and the health section of `tb-rnngrad summary`."""

from __future__ import annotations

import argparse
import sys

from tb_rnngrad.cli.source import CliError, open_logdir


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
            saturated_units=args.saturated_units,
            saturated_timesteps=args.saturated_timesteps,
            saturated_steps=args.saturated_steps,
        )
        source = open_logdir(args.logdir)
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
