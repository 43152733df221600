"""Which capture kinds work with which Keras and backend: the support table.

One source of truth: the captures check requested kinds against it, and a
test checks the table in docs/capture.md against it. Imports
nothing but the error and the kind names.
"""

from __future__ import annotations

from collections.abc import Sequence

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.result import KINDS

BACKENDS = ("tensorflow", "jax", "torch")
"""The Keras 3 backends a capture runs on."""

_OUTSIDE = tuple(
    k
    for k in KINDS
    if k not in ("state_gradients", "weight_contributions", "gate_activations")
)
"""The kinds outside the recurrence (no state probes)."""

KINDS_BY_PLATFORM: dict[str, tuple[str, ...]] = {
    "keras/tensorflow": KINDS,
    "keras/jax": KINDS,
    "keras/torch": KINDS,
    "tf_keras/tensorflow": _OUTSIDE,
}
"""`{"<keras>/<backend>": the capture kinds supported there}`."""


def check(kinds: Sequence[str], platform: str) -> None:
    """Raises CaptureError if `platform` does not support one of `kinds`.

    Args:
        kinds: Known capture kinds.
        platform: A key of `KINDS_BY_PLATFORM`.
    """
    supported = KINDS_BY_PLATFORM[platform]
    missing = [k for k in kinds if k not in supported]
    if not missing:
        return
    keras_name, backend = platform.split("/")
    where = (
        "tf_keras (Keras 2)"
        if keras_name == "tf_keras"
        else f"Keras 3 on the {backend} backend"
    )
    instead = (
        "build the model with Keras 3 (`import keras`), which supports every "
        "kind on the TensorFlow, JAX and PyTorch backends"
        if keras_name == "tf_keras"
        else "capture on the TensorFlow backend (KERAS_BACKEND=tensorflow), "
        "which supports every kind"
    )
    raise CaptureError(
        f"kind(s) {missing} are not supported on {where} yet; supported there: "
        f"{list(supported)}. Drop {missing} from `kinds`, or {instead}."
    )
