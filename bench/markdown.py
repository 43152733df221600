"""Markdown tables and number formats of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; `|` inside cells is escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def ms(value: float) -> str:
    """A duration given in ms, with 3 significant digits ("12.3 ms", "1.23 s")."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def ms_iqr(spread: dict) -> str:
    """'12.3 ms (IQR 1.20 ms)' of a spread in ms (see bench.timing.spread)."""
    return f"{ms(spread['median'])} (IQR {ms(spread['iqr'])})"


def times(spread: dict) -> str:
    """'1.23x (IQR 1.20-1.30)' of a spread of ratios."""
    return f"{spread['median']:.2f}x (IQR {spread['q1']:.2f}-{spread['q3']:.2f})"


def number(value: float) -> str:
    """A figure with 3 significant digits, or its integer part above 1,000."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def median_iqr(spread: dict) -> str:
    """'123 (IQR 4.56)' of a spread without a unit."""
    return f"{number(spread['median'])} (IQR {number(spread['iqr'])})"


def with_unit(amount: float, unit: str) -> str:
    """`amount` in `unit` ("ms", "x", "min" or any other unit name)."""
    if unit == "ms":
        return ms(amount)
    if unit == "x":
        return f"{number(amount)}x"
    return f"{number(amount)} {unit}"
