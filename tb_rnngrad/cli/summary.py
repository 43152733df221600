"""`tb-rnngrad summary`: a table of the logged series, or one comparing runs."""

from __future__ import annotations

import argparse

from tensorboard import errors

from tb_rnngrad.cli.check import health_section
from tb_rnngrad.cli.source import CliError, open_logdir
from tb_rnngrad.cli.text import format_table, names, printable
from tb_rnngrad.format import comparison, metadata
from tb_rnngrad.format.quantities import QUANTITIES, UNNAMED
from tb_rnngrad.server import payloads
from tb_rnngrad.server.series_info import SeriesInfo, UnreadableSeries

#: What the summary calls the reach, by kind (`Quantity.reach`).
_REACH_COLUMNS = ("reach", "horizon")


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
        format_table(rows)
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
                note = printable(payloads.series_note(info))
                lines.append(f"  {printable(run)} / {printable(tag)}: {note}")
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
        raise CliError(f"no run has tag {tag!r}; tags: {names(tags)}")
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
    return format_table(table)


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


def summary_command(args: argparse.Namespace) -> None:
    """Prints the summary table (with its health section when asked), or with
    `--sort` / `--tag` the table comparing runs."""
    source = open_logdir(args.logdir)
    if args.sort or args.tag:
        key = args.sort or "reach"
        descending = comparison.SORT_KEYS[key] != args.reverse
        print(compare_table(source, key, descending, args.tag))
        return
    print(summary_table(source))
    if args.health:
        print(health_section(source))
