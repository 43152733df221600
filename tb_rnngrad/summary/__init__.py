"""Summary writers of the rnngrad plugin.

`gradients`, `activations`, `input_gradients`, `weights`, ..., and `write`
are TensorFlow ops
(TensorFlow is imported when one runs); the `*_pb` twins build the same
`Summary` protos with NumPy only.
"""

from tb_rnngrad.summary.ops import (
    activations,
    cell_state_gradients,
    gate_activations,
    gradients,
    input_gradients,
    state_gradients,
    weight_contributions,
    weight_gradients,
    weights,
    write,
)
from tb_rnngrad.summary.pb import (
    activations_pb,
    cell_state_gradients_pb,
    gate_activations_pb,
    gradients_pb,
    input_gradients_pb,
    state_gradients_pb,
    weight_contributions_pb,
    weight_gradients_pb,
    weights_pb,
    write_pb,
)

__all__ = [
    "activations",
    "activations_pb",
    "cell_state_gradients",
    "cell_state_gradients_pb",
    "gate_activations",
    "gate_activations_pb",
    "gradients",
    "gradients_pb",
    "input_gradients",
    "input_gradients_pb",
    "state_gradients",
    "state_gradients_pb",
    "weight_contributions",
    "weight_contributions_pb",
    "weight_gradients",
    "weight_gradients_pb",
    "weights",
    "weights_pb",
    "write",
    "write_pb",
]
