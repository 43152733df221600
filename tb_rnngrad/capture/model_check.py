"""Which models and kinds a capture accepts, and what it says about the rest.

Keras 3 models on the TensorFlow, JAX and PyTorch backends, and tf_keras
(Keras 2) models, are captured (`support` says which kinds on which);
anything else (a PyTorch module, a Keras 1 or 2 model that is not tf_keras,
a Keras backend such as OpenVINO) gets a `CaptureError` that says what was
given, what is supported and what to do.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import keras

from tb_rnngrad import versions
from tb_rnngrad.capture import support
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.result import KINDS


def _origin(model: Any) -> str:
    """`module.Class` of `model`, as a message names it."""
    cls = type(model)
    return f"{cls.__module__}.{cls.__qualname__}"


def flavour(model: Any) -> str:
    """ "keras" (Keras 3), "tf_keras" (Keras 2), or raises CaptureError.

    Raises:
        CaptureError: If `model` is not a Keras 3 or tf_keras model, saying
            what it is and what to pass instead.
    """
    if isinstance(model, keras.Model):
        return "keras"
    root = type(model).__module__.split(".")[0]
    if "tf_keras" in sys.modules and _is_tf_keras_model(model):
        return "tf_keras"  # also a subclass defined in the user's module
    if root == "torch" or any(
        c.__module__.startswith("torch.nn") for c in type(model).__mro__
    ):
        raise CaptureError(
            f"Got a PyTorch module ({_origin(model)}); tb_rnngrad.rnn_gradients "
            "and GradientLogger take Keras models. For torch.nn modules use "
            "tb_rnngrad.pytorch (rnn_gradients, capture, GradientLogger)."
        )
    if root in ("keras", "tensorflow") and hasattr(model, "layers"):
        raise CaptureError(
            f"Got {_origin(model)}, a model of another Keras than the Keras 3 "
            f"imported here (keras {keras.__version__}): a Keras 2 model from "
            "tensorflow.keras or an old standalone keras. Supported: Keras 3 "
            "(keras>=3, TensorFlow, JAX or PyTorch backend) and tf_keras "
            "(Keras 2.x). Build the model with `import keras` (Keras 3) or "
            "`import tf_keras`."
        )
    raise CaptureError(
        f"Expected a Keras model; got {_origin(model)}. Pass the compiled "
        "keras.Model (Keras 3) or tf_keras.Model (Keras 2) whose recurrent "
        "layers you want to inspect."
    )


def _is_tf_keras_model(model: Any) -> bool:
    import tf_keras

    return isinstance(model, tf_keras.Model)


def check_model(model: Any) -> str:
    """Raises CaptureError unless `model` is a compiled Keras model with a
    loss, on a backend the capture supports.

    Args:
        model: The object to check.

    Returns:
        Where it runs, a key of `support.KINDS_BY_PLATFORM`: "keras/jax",
        "tf_keras/tensorflow", ...

    Raises:
        CaptureError: If it is not a Keras 3 or tf_keras model, is not
            compiled, was compiled without a loss, or Keras runs on a backend
            without a capture.
    """
    kind = flavour(model)
    backend = keras.backend.backend()
    if kind == "tf_keras":
        import tf_keras

        versions.check(
            "tf_keras",
            "tb-rnngrad reads tf_keras's private `Model._is_compiled` and wraps "
            "layers' `call`",
        )
        if backend != "tensorflow":
            raise CaptureError(
                f"Model '{model.name}' is a tf_keras (Keras 2) model, which runs "
                f"on TensorFlow, but Keras 3 in this process runs on '{backend}'"
                ". Capture a tf_keras model in a process with "
                "KERAS_BACKEND=tensorflow (the default)."
            )
        base, compiled = tf_keras.Model, getattr(model, "_is_compiled", False)
    else:
        base, compiled = keras.Model, getattr(model, "compiled", False)
    if backend not in support.BACKENDS:
        raise CaptureError(
            f"Keras runs on the '{backend}' backend; tb_rnngrad captures on "
            f"{', '.join(support.BACKENDS)}. Set KERAS_BACKEND to one of them "
            "before importing keras."
        )
    if not compiled:
        raise CaptureError(
            f"Model '{model.name}' is not compiled. Call "
            "model.compile(optimizer=..., loss=...) first: the gradients are "
            "those of the model's compiled loss."
        )
    overrides_loss = type(model).compute_loss is not base.compute_loss
    if getattr(model, "loss", None) is None and not overrides_loss:
        raise CaptureError(
            f"Model '{model.name}' was compiled without a loss. Call "
            "model.compile(optimizer=..., loss=...) with the loss you train with."
        )
    return f"{kind}/{backend}"


def check_kinds(
    kinds: Sequence[str] | str, where: str | None = None
) -> tuple[str, ...]:
    """Validates `kinds` and returns it as a tuple without duplicates.

    Args:
        kinds: The kinds asked for.
        where: A key of `support.KINDS_BY_PLATFORM` ("keras/jax", ...) to
            check the kinds against, or None for any kind.

    Raises:
        CaptureError: If a kind is unknown, none is given, or `where` does
            not support one (the message names the kind and the platform).
    """
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise CaptureError(
            f"kinds must be a non-empty list drawn from {KINDS}; got {list(kinds)}."
        )
    if where is not None:
        support.check(kinds, where)
    return kinds
