"""Take captured gradients with the loss scale that training uses.

Under mixed precision (`mixed_float16`) Keras wraps the optimizer in a
`LossScaleOptimizer`, and each training step multiplies the loss by the
optimizer's current scale (2**15 at first) before the backward pass, so that
small float16 gradients do not underflow to zero. A capture does the same,
then divides each gradient by the scale in float32: the gradients it returns
are float32 and keep the small values that an unscaled float16 backward pass
would flush to zero.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


def scales_loss(model: keras.Model) -> bool:
    """Whether the model's optimizer multiplies the loss before the backward pass."""
    return factor(model) is not None


def factor(model: keras.Model) -> tf.Tensor | None:
    """The optimizer's loss scale now (float32), or None if it does not scale."""
    scale_loss = getattr(getattr(model, "optimizer", None), "scale_loss", None)
    if scale_loss is None:
        return None
    one = tf.constant(1.0, tf.float32)
    scaled = scale_loss(one)
    return None if scaled is one else tf.cast(scaled, tf.float32)


def scaled(loss: tf.Tensor, scale: tf.Tensor | None) -> tf.Tensor:
    """`loss` times `scale` (the loss itself when `scale` is None)."""
    return loss if scale is None else loss * tf.cast(scale, loss.dtype)


def unscaled_float32(gradients: Any, scale: tf.Tensor | None) -> Any:
    """Each gradient in float32, divided by `scale` when there is one."""

    def one(gradient: tf.Tensor | None) -> tf.Tensor | None:
        if gradient is None:
            return None
        gradient = tf.cast(gradient, tf.float32)
        return gradient if scale is None else gradient / scale

    return tf.nest.map_structure(one, gradients)


def all_finite(gradients: Any) -> bool:
    """Whether every value of every gradient is finite."""
    return all(
        bool(tf.reduce_all(tf.math.is_finite(g)))
        for g in tf.nest.flatten(gradients)
        if g is not None
    )
