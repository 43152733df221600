"""What each kind of logged tensor measures, in the words every view uses.

The one table of quantity labels, used by the matplotlib views and the command
line; the tab's quantity selector shows the same strings. Standard library only.
"""

from __future__ import annotations

import dataclasses


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

#: How the views name each kind (`metadata.KINDS`).
QUANTITIES = {
    "gradients": Quantity("d loss / d output (later layers)"),
    "state_gradients": Quantity("d loss / d state (through time)", reach="horizon"),
    "cell_state_gradients": Quantity("d loss / d cell state", reach="horizon"),
    "weight_contributions": Quantity(
        "weight update by timestep", value="weight-update"
    ),
    "input_gradients": Quantity("d loss / d model input (whole network)"),
    "activations": Quantity("activations", value="activation"),
    "weights": Quantity("weights, gate by gate", value="weight"),
    "weight_gradients": Quantity("d loss / d weight, gate by gate"),
    "gate_activations": Quantity(
        "gate saturation (units near 0 / near 1)", value="gate-fraction"
    ),
}


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
