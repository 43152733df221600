"""tb-rnngrad: per-timestep gradients of recurrent layers in TensorBoard.

Importing the package is cheap: TensorFlow and Keras load only when a
capture, callback or TF summary op is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "rnn_gradients": ("tb_rnngrad.capture", "rnn_gradients"),
    "GradientLogger": ("tb_rnngrad.callback", "GradientLogger"),
    "describe_weights": ("tb_rnngrad.capture", "describe_weights"),
    "capture": ("tb_rnngrad.capture", None),
    "summary": ("tb_rnngrad.summary", None),
    "viz": ("tb_rnngrad.viz", None),
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tb_rnngrad' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
