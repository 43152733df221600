"""Capture the gradients of recurrent layers on a fixed batch.

d(loss)/d(layer output) ("gradients"), the outputs ("activations"),
d(loss)/d(model input) ("input_gradients"), the total d(loss)/d(h_t) inside
the recurrence ("state_gradients") and each timestep's share of the weight
gradient ("weight_contributions"), the recurrent weights and their gradients
("weights", "weight_gradients") and the saturation of their sigmoid gates
("gate_activations"); see `CaptureResult`.

Public API:

    rnn_gradients(model, x, y, layers=None, *, sample_weight=None)
    capture(model, x, y, layers=None, kinds=("gradients",), sample_weight=None)
    GradientCapture(model, layers=None, kinds=("gradients",))  # TensorFlow backend
    describe_layer(layer, part=None) -> LayerInfo
    describe_weights(model, layers=None) -> WeightTable
    recurrent_layers(model)
"""

from typing import Any

from tb_rnngrad.capture.api import capture, get_capture, rnn_gradients
from tb_rnngrad.capture.describe import describe_weights
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.layers import LayerRef, is_recurrent, recurrent_layers
from tb_rnngrad.format.layer_info import LayerInfo, describe_layer
from tb_rnngrad.result import KINDS, CaptureResult, GradientDict

__all__ = [
    "KINDS",
    "CaptureError",
    "CaptureResult",
    "GradientCapture",
    "GradientDict",
    "LayerInfo",
    "LayerRef",
    "capture",
    "describe_layer",
    "describe_weights",
    "get_capture",
    "is_recurrent",
    "recurrent_layers",
    "rnn_gradients",
]


def __getattr__(name: str) -> Any:
    """`GradientCapture`, the TensorFlow pass, imports TensorFlow on first use."""
    if name == "GradientCapture":
        from tb_rnngrad.capture.tf_pass import GradientCapture

        return GradientCapture
    raise AttributeError(f"module 'tb_rnngrad.capture' has no attribute {name!r}")
