"""The public entry points: `capture`, `rnn_gradients` and `get_capture`.

They take a Keras 3 model on the TensorFlow, JAX or PyTorch backend (or a
tf_keras model) and hand it to that backend's capture pass: `tf_pass`
(TensorFlow, `tf.GradientTape` in a `tf.function`) or `backend_pass` (JAX,
PyTorch). TensorFlow is imported only on the TensorFlow backend.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import keras

from tb_rnngrad.capture.forward import CaptureBase
from tb_rnngrad.capture.layers import LayerSelector, resolve_layers
from tb_rnngrad.capture.model_check import check_kinds, check_model
from tb_rnngrad.result import CaptureResult, GradientDict


def _capture_class() -> type[CaptureBase]:
    """The capture pass of the running Keras backend (checked by check_model)."""
    if keras.backend.backend() == "tensorflow":
        from tb_rnngrad.capture.tf_pass import GradientCapture

        return GradientCapture
    from tb_rnngrad.capture.backend_pass import BackendCapture

    return BackendCapture


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_PER_MODEL = 8


def get_capture(
    model: keras.Model,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
    kinds: Sequence[str] = ("gradients",),
) -> CaptureBase:
    """The cached capture pass for this model, layer set and kinds.

    The cache holds the model weakly and is keyed also by the compiled loss
    and optimizer, so recompiling the model gives a fresh trace.

    Args:
        model: A compiled Keras model.
        layers: The layer selection, as for `GradientCapture`.
        kinds: The kinds, as for `GradientCapture`.

    Returns:
        The running backend's pass (`GradientCapture` on TensorFlow,
        `BackendCapture` on JAX and PyTorch), traced at most once per input
        signature.

    Raises:
        CaptureError: As `GradientCapture`.
    """
    platform = check_model(model)
    kinds = check_kinds(kinds, platform)
    refs = resolve_layers(model, layers)
    key = (
        tuple(id(r.layer) for r in refs),
        kinds,
        id(getattr(model, "loss", None)),
        id(getattr(model, "optimizer", None)),
    )
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        if len(per_model) >= _CACHE_PER_MODEL:
            per_model.pop(next(iter(per_model)))
        per_model[key] = _capture_class()(model, [r.layer for r in refs], kinds)
    return per_model[key]


def capture(
    model: keras.Model,
    x: Any,
    y: Any,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
    kinds: Sequence[str] = ("gradients",),
    sample_weight: Any = None,
) -> CaptureResult:
    """Gradients, activations and masks of recurrent layers on one batch.

    One forward and one backward pass in inference mode (training=False),
    using the model's compiled loss (with its reduction, loss weights and
    sample weights). Compiled once per model, layer set, kinds and input
    signature.

    Args:
        model: A compiled Keras model.
        x: Model inputs for one batch, as for `model.fit`.
        y: Targets for the batch, as for `model.fit`.
        layers: None for every recurrent layer (searched through nested
            models; a Bidirectional layer counts once), or a name, an index
            into `model.layers`, a layer object, or a list of these.
        kinds: Any of "gradients", "activations", "input_gradients",
            "state_gradients", "weight_contributions", "weights",
            "weight_gradients", "gate_activations" (see `CaptureResult`).
        sample_weight: Optional sample weights, as for `model.fit`.

    Returns:
        A `CaptureResult`.

    Raises:
        CaptureError: With a message saying what to change, if the model is
            not compiled, a layer is unknown or not recurrent, or the batch
            does not match the model.
    """
    return get_capture(model, layers, kinds)(x, y, sample_weight)


def rnn_gradients(
    model: keras.Model,
    x: Any,
    y: Any,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
    *,
    sample_weight: Any = None,
) -> GradientDict:
    """d(loss)/d(layer output) for recurrent layers, on exactly this batch.

    The gradient w.r.t. a layer's output contains only the paths through the
    layers after it: read right to left along the time axis it shows how far
    back the later layers carry gradient.

    Args:
        model: A compiled Keras model.
        x: Model inputs for one batch, as for `model.fit`.
        y: Targets for the batch, as for `model.fit`.
        layers: None for every recurrent layer, or a name, an index into
            `model.layers`, a layer object, or a list of these.
        sample_weight: Optional sample weights, as for `model.fit`.

    Returns:
        `{layer_key: np.ndarray}` shaped like each layer's output:
        (batch, timesteps, channels) with return_sequences=True, else
        (batch, channels). A Bidirectional layer with merge_mode="concat"
        keeps Keras's channel order (forward units first); with
        merge_mode=None it gives `<name>/forward` and `<name>/backward`.
        The dict also has `.masks` (`{key: bool (batch, timesteps) or None}`)
        and `.loss`.

    Raises:
        CaptureError: As `capture`.
    """
    result = capture(model, x, y, layers, ("gradients",), sample_weight)
    grads = GradientDict(result.gradients)
    grads.masks = dict(result.masks)
    grads.loss = result.loss
    return grads
