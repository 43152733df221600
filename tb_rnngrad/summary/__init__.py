"""Summary writers of the rnngrad plugin.

`gradients`, `activations`, `input_gradients` and `write` are TensorFlow ops
(TensorFlow is imported when one runs); the `*_pb` twins build the same
`Summary` protos with NumPy only.
"""

from tb_rnngrad.summary.ops import activations, gradients, input_gradients, write
from tb_rnngrad.summary.pb import (
    activations_pb,
    gradients_pb,
    input_gradients_pb,
    write_pb,
)

__all__ = [
    "activations",
    "activations_pb",
    "gradients",
    "gradients_pb",
    "input_gradients",
    "input_gradients_pb",
    "write",
    "write_pb",
]
