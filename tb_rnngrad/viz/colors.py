"""Colour maps, colour scales and the colours of NaN, Inf and masked cells.

Every colour comes from the palette file ``palette.json`` of the frontend package
(``tb_rnngrad.frontend``), which the TensorBoard tab reads too: exported figures
and the tab draw the same colours.

Gradient values use a diverging blue-white-red map centred on zero (ColorBrewer
RdBu): large positive values are red, large negative values blue, zero white.
Norms (gradient norms over training, the weight-update terms of each timestep)
use a sequential map (viridis, dark to yellow). Values the maps cannot show get
colours of their own, used by every view:

=============  =======  ==================
what           colour   constant
=============  =======  ==================
NaN            magenta  ``NAN_COLOR``
+Inf           black    ``POSINF_COLOR``
-Inf           green    ``NEGINF_COLOR``
masked step    grey     ``MASKED_COLOR``
=============  =======  ==================

None of these occur in the diverging map (which runs dark blue, white, dark red),
nor in the sequential map except that ``NEGINF_COLOR`` is greenish; norms are
never negative.

Scales (``scale=``) for signed gradients:

- ``"auto"``: symmetric, ``±max|g|`` over the finite, unmasked values shown.
- ``"fixed"``: symmetric, ``±vmax`` (e.g. the maximum over all logged steps, so
  colours compare across steps).
- ``"manual"``: ``vmin`` to ``vmax``; zero stays white when ``vmin < 0 < vmax``.
- ``"log"``: log magnitude with the sign kept. A value ``g`` is coloured by
  ``sign(g) * max(0, log10(|g| / floor))`` on a symmetric scale
  ``±log10(top / floor)``, where ``top`` is ``vmax`` (default ``max|g|``) and
  ``floor`` is ``vmin`` (default ``top * 1e-6``: ``LOG_DECADES_DEFAULT``
  decades). Magnitudes at or below the floor are white. The colour bar is
  labelled in gradient units.

Finite values outside the scale are clipped to its end colours; only true NaN and
Inf get the special colours.
"""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources
from typing import Any

import numpy as np
from matplotlib import cm as mcm
from matplotlib import colors as mcolors
from matplotlib import ticker
from numpy.typing import ArrayLike

#: The palette file shared with the TensorBoard tab.
PALETTE_FILE = resources.files("tb_rnngrad.frontend") / "palette.json"

_PALETTE: dict[str, Any] = json.loads(PALETTE_FILE.read_text(encoding="utf-8"))
_SPECIAL = _PALETTE["special"]
_DECADES = _PALETTE["log_decades"]

NAN_COLOR = mcolors.to_rgba(_SPECIAL["nan"])
POSINF_COLOR = mcolors.to_rgba(_SPECIAL["pos_inf"])
NEGINF_COLOR = mcolors.to_rgba(_SPECIAL["neg_inf"])
MASKED_COLOR = mcolors.to_rgba(_SPECIAL["masked"])

SCALES = ("auto", "fixed", "manual", "log")
FLOW_SCALES = ("log", "linear")
LOG_DECADES_DEFAULT = float(_DECADES["signed"])
#: Bounds of the decades a flow view's log scale spans.
FLOW_LOG_DECADES = (float(_DECADES["flow_min"]), float(_DECADES["flow_max"]))

# Stops spread evenly; an odd number of entries puts one exactly on the centre
# (0.5 -> the middle stop, white).
DIVERGING_CMAP = mcolors.LinearSegmentedColormap.from_list(
    "tb_rnngrad_diverging", _PALETTE["diverging"], N=257
)
SEQUENTIAL_CMAP = mcolors.LinearSegmentedColormap.from_list(
    "tb_rnngrad_sequential", _PALETTE["sequential"], N=256
)


def sample_color(position: int) -> tuple[float, float, float, float]:
    """Returns the colour of the `position`-th selected sample (cycling).

    Args:
        position: position of the sample in the selection (0 for the first).

    Returns:
        An RGBA tuple; the same position always gives the same colour, the one
        the tab gives it.
    """
    samples = _PALETTE["samples"]
    return mcolors.to_rgba(samples[position % len(samples)])


@dataclasses.dataclass(frozen=True)
class ColorScale:
    """A colour scale: how values become colours, and how to label the bar.

    Attributes:
        norm: maps (transformed) values to [0, 1].
        cmap: colour map applied after `norm`.
        label: colour bar label.
        log_floor: for signed log scales, the magnitude shown as white; else None.
        log_top: for signed log scales, the magnitude at the ends; else None.
    """

    norm: mcolors.Normalize
    cmap: mcolors.Colormap
    label: str
    log_floor: float | None = None
    log_top: float | None = None

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Returns the values the norm sees (signed log for log scales)."""
        if self.log_floor is None:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            decades = np.log10(np.abs(values)) - math.log10(self.log_floor)
        return np.sign(values) * np.clip(decades, 0.0, None)

    def colorize(
        self, values: np.ndarray, valid: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns RGBA colours (shape + (4,)) for `values`.

        Finite values go through the scale (clipped at its ends); NaN, +Inf and
        -Inf get their own colours; cells where `valid` is False are grey.
        """
        finite = np.isfinite(values)
        shown = np.where(finite, values, 0.0)
        position = np.clip(self.norm(self.transform(shown)), 0.0, 1.0)
        rgba = np.asarray(self.cmap(np.ma.getdata(position)), dtype=float)
        rgba[np.isnan(values)] = NAN_COLOR
        rgba[np.isposinf(values)] = POSINF_COLOR
        rgba[np.isneginf(values)] = NEGINF_COLOR
        if valid is not None:
            rgba[~valid] = MASKED_COLOR
        return rgba

    def mappable(self) -> mcm.ScalarMappable:
        """Returns a ScalarMappable for `Figure.colorbar`."""
        return mcm.ScalarMappable(norm=self.norm, cmap=self.cmap)

    def tick_formatter(self) -> ticker.Formatter | None:
        """Returns a formatter labelling signed-log ticks in gradient units."""
        if self.log_floor is None:
            return None
        floor = self.log_floor

        def label(t: float, _pos: int | None = None) -> str:
            if abs(t) < 1e-9:
                return "0"
            sign = "+" if t > 0 else "-"
            return f"{sign}{floor * 10 ** abs(t):.0e}"

        return ticker.FuncFormatter(label)

    def ticks(self) -> list[float] | None:
        """Returns colour bar ticks at round decades (1e-3, ...) for log scales."""
        if self.log_floor is None or self.log_top is None:
            return None
        low = math.log10(self.log_floor)
        decades = range(math.floor(low) + 1, math.floor(math.log10(self.log_top)) + 1)
        step = max(1, math.ceil(len(decades) / 4))
        half = [k - low for k in decades[::-1][::step]]
        return [-t for t in half] + [0.0] + half[::-1]


def finite_abs_max(values: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Returns max|v| over finite (and valid) values, or 0.0 if there are none."""
    keep = np.isfinite(values)
    if valid is not None:
        keep &= valid
    return float(np.max(np.abs(values[keep]))) if keep.any() else 0.0


def diverging_scale(
    scale: str,
    *,
    abs_max: float,
    vmin: float | None,
    vmax: float | None,
    view: str = "heatmap",
) -> ColorScale:
    """Returns the colour scale for signed gradients.

    Args:
        scale: "auto", "fixed", "manual" or "log" (see the module docstring).
        abs_max: max|g| over the finite values shown (used by "auto" and "log").
        vmin: lower end ("manual") or log floor magnitude ("log"); else None.
        vmax: upper end ("manual"), half-width ("fixed") or top magnitude ("log").
        view: name of the calling view, for error messages.

    Returns:
        The ColorScale.

    Raises:
        ValueError: if `scale` is unknown or vmin/vmax do not fit it.
    """
    if scale == "auto":
        _forbid(vmin, vmax, scale, view)
        half = abs_max if abs_max > 0 else 1.0
        return _linear(-half, half, "gradient (auto scale)")
    if scale == "fixed":
        _forbid(vmin, None, scale, view)
        half = _positive(vmax, "vmax", scale, view)
        return _linear(-half, half, "gradient (fixed scale)")
    if scale == "manual":
        low, high = _ordered(vmin, vmax, view)
        return _linear(low, high, "gradient")
    if scale == "log":
        return _signed_log(abs_max, vmin, vmax, view)
    raise ValueError(
        f"{view}: scale must be one of {', '.join(map(repr, SCALES))}; got {scale!r}."
    )


def _linear(low: float, high: float, label: str) -> ColorScale:
    if low < 0 < high:
        norm = mcolors.TwoSlopeNorm(vcenter=0.0, vmin=low, vmax=high)
    else:
        norm = mcolors.Normalize(vmin=low, vmax=high)
    return ColorScale(norm=norm, cmap=DIVERGING_CMAP, label=label)


def _signed_log(
    abs_max: float, vmin: float | None, vmax: float | None, view: str
) -> ColorScale:
    if vmax is None:
        top = abs_max if abs_max > 0 else 1.0
    else:
        top = _positive(vmax, "vmax", "log", view)
    if vmin is None:
        floor = top * 10.0**-LOG_DECADES_DEFAULT
    else:
        floor = _positive(vmin, "vmin", "log", view)
    if floor >= top:
        raise ValueError(
            f"{view}: scale='log' needs vmin (the floor magnitude, shown white) "
            f"below vmax (the top magnitude); got vmin={floor:g}, vmax={top:g}."
        )
    span = math.log10(top / floor)
    return ColorScale(
        norm=mcolors.Normalize(vmin=-span, vmax=span),
        cmap=DIVERGING_CMAP,
        label=f"gradient (signed log, floor {floor:.0e})",
        log_floor=floor,
        log_top=top,
    )


def _forbid(vmin: float | None, vmax: float | None, scale: str, view: str) -> None:
    given = [name for name, v in (("vmin", vmin), ("vmax", vmax)) if v is not None]
    if given:
        raise ValueError(
            f"{view}: {' and '.join(given)} not used with scale={scale!r}; use "
            "scale='fixed' (vmax), 'manual' (vmin and vmax) or 'log', or drop "
            f"{' and '.join(given)}."
        )


def _positive(value: float | None, name: str, scale: str, view: str) -> float:
    if value is None or not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"{view}: scale={scale!r} needs a finite positive {name}; got "
            f"{value!r}. For 'fixed' pass e.g. vmax=max|g| over all steps."
        )
    return float(value)


def _ordered(vmin: float | None, vmax: float | None, view: str) -> tuple[float, float]:
    if vmin is None or vmax is None:
        raise ValueError(
            f"{view}: scale='manual' needs both vmin and vmax; got vmin={vmin!r}, "
            f"vmax={vmax!r}."
        )
    if not (np.isfinite(vmin) and np.isfinite(vmax) and vmin < vmax):
        raise ValueError(
            f"{view}: scale='manual' needs finite vmin < vmax; got vmin={vmin!r}, "
            f"vmax={vmax!r}."
        )
    return float(vmin), float(vmax)


def norm_scale(
    scale: str, *, values: np.ndarray, view: str = "flow", value: str = "gradient"
) -> ColorScale:
    """Returns a sequential colour scale for non-negative values (norms).

    Args:
        scale: "log" (LogNorm from the smallest positive finite value to the
            largest, spanning at least 1 and at most 12 decades:
            `FLOW_LOG_DECADES`) or "linear" (0 to the largest value).
        values: the values to be shown.
        view: name of the calling view, for error messages.
        value: what the values are norms of, for the colour bar label
            ("gradient norm").

    Returns:
        The ColorScale. Zeros are shown in the lowest colour on both scales.

    Raises:
        ValueError: if `scale` is unknown.
    """
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    if scale == "linear":
        norm = mcolors.Normalize(vmin=0.0, vmax=top)
        return ColorScale(norm=norm, cmap=SEQUENTIAL_CMAP, label=f"{value} norm")
    if scale == "log":
        positive = finite[finite > 0]
        low = float(positive.min()) if positive.size else 0.0
        fewest, most = FLOW_LOG_DECADES
        low = min(max(low, top * 10.0**-most), top * 10.0**-fewest)
        norm = _ClippedLogNorm(vmin=low, vmax=top)
        label = f"{value} norm (log)"
        return ColorScale(norm=norm, cmap=SEQUENTIAL_CMAP, label=label)
    raise ValueError(
        f"{view}: scale must be one of {', '.join(map(repr, FLOW_SCALES))}; got "
        f"{scale!r}."
    )


class _ClippedLogNorm(mcolors.LogNorm):
    """LogNorm that maps zero and tiny values to 0 instead of masking them."""

    def __call__(self, value: ArrayLike, clip: bool | None = None) -> np.ndarray:
        """Normalises like LogNorm after raising values below vmin to vmin."""
        array = np.clip(np.asarray(value, dtype=float), self.vmin, None)
        return super().__call__(array, clip=clip)
