"""What each kind of logged tensor measures, in the words every view uses.

Read from the frontend's `quantities.json`, the table the tab's quantity
selector reads too, so the matplotlib views, the command line and the tab use
the same words. Standard library only.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources


@dataclasses.dataclass(frozen=True)
class Quantity:
    """How the views name one kind of series.

    Attributes:
        label: what the series measures, e.g. "d loss / d state (through time)".
        reach: what its reach (`stats.reach`) is called: "horizon" for the
            state kinds (how far back gradient survives the layer's own
            recurrence), else "reach".
        value: what its per-timestep norms are norms of, e.g. "gradient".
    """

    label: str
    reach: str = "reach"
    value: str = "gradient"


#: How a view names data whose kind it is not told: no label.
UNNAMED = Quantity(label="")

#: The one table of what each kind holds, which the tab reads too.
QUANTITIES_FILE = resources.files("tb_rnngrad.frontend") / "quantities.json"


def _quantities() -> dict[str, Quantity]:
    kinds = json.loads(QUANTITIES_FILE.read_text(encoding="utf-8"))["kinds"]
    return {
        kind: Quantity(
            label=k["quantity"],
            reach="horizon" if k["horizon"] else "reach",
            value=k["values"],
        )
        for kind, k in kinds.items()
    }


#: How the views name each kind (`metadata.KINDS`), in the tab's order.
QUANTITIES = _quantities()


def quantity(kind: str) -> Quantity:
    """Returns how the views name series of `kind`.

    Raises:
        ValueError: if `kind` is not one of the logged kinds.
    """
    try:
        return QUANTITIES[kind]
    except KeyError:
        raise ValueError(
            f"kind must be one of {', '.join(map(repr, QUANTITIES))} (the `kind` "
            f"of the series, e.g. SeriesInfo.kind); got {kind!r}."
        ) from None
