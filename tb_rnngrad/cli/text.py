"""Text helpers of the command line: tables, lists and untrusted names."""

from __future__ import annotations


def format_table(rows: list[tuple[str, ...]]) -> str:
    rows = [tuple(printable(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def printable(text: str) -> str:
    """Run and tag names are untrusted: show control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def names(mapping) -> str:
    return ", ".join(repr(name) for name in sorted(mapping)) or "(none)"


def short_list(values: list[int]) -> str:
    if len(values) <= 10:
        return ", ".join(map(str, values))
    return (
        ", ".join(map(str, values[:5])) + ", ..., " + ", ".join(map(str, values[-3:]))
    )
