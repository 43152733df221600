"""Naming, in a view's title, the quantity it shows (`format.quantities`)."""

from __future__ import annotations

from tb_rnngrad.format.quantities import QUANTITIES, UNNAMED, Quantity, quantity

#: The kind drawn by `viz.weight_contributions`, not by the per-sample views.
WEIGHTS_KIND = "weight_contributions"
WEIGHTS = QUANTITIES[WEIGHTS_KIND]


def of(kind: str | None, *, view: str, per_sample: bool = True) -> Quantity:
    """Returns how `view` names data of `kind`; `UNNAMED` for None.

    Args:
        kind: the series' kind (`SeriesInfo.kind`), or None.
        view: name of the calling view, for error messages.
        per_sample: the view draws (batch, ...) data sample by sample, which
            weight contributions are not.

    Raises:
        ValueError: if `kind` is unknown, or its data needs another view.
    """
    if kind is None:
        return UNNAMED
    try:
        named = quantity(kind)
    except ValueError as error:
        raise ValueError(f"{view}: {error}") from None
    if per_sample and kind == WEIGHTS_KIND:
        raise ValueError(
            f"{view}: {kind} data is (weights, timesteps, gates), not per-sample "
            "values; draw it with viz.weight_contributions(data, weights, gates), "
            "or its flow over training with viz.flow."
        )
    return named


def title(text: str | None, named: Quantity) -> str | None:
    """Returns the figure title: `text`, then " · " and the quantity's label.

    One line: `text` may be a run or tag name, shown as given.
    """
    parts = [part for part in (text, named.label) if part]
    return " · ".join(parts) if parts else None
