"""The Keras classes a capture recognizes: Keras 3's, and tf_keras's (Keras 2)
once a tf_keras model exists (tf_keras is then imported; it is never
imported here).
"""

from __future__ import annotations

import sys
from typing import Any

import keras


def types(name: str) -> tuple[type, ...]:
    """`keras.layers.<name>` (or `keras.<name>` for "Model"), and tf_keras's
    class of that name when tf_keras is loaded."""
    namespaces = [keras]
    tf_keras = sys.modules.get("tf_keras")
    if tf_keras is not None:
        namespaces.append(tf_keras)
    return tuple(
        getattr(ns, name) if name == "Model" else getattr(ns.layers, name)
        for ns in namespaces
    )


def is_variable(value: Any) -> bool:
    """Whether `value` is a Keras 3 variable, or a tf.Variable of tf_keras."""
    if isinstance(value, keras.Variable):
        return True
    tensorflow = sys.modules.get("tensorflow")
    return (
        "tf_keras" in sys.modules
        and tensorflow is not None
        and isinstance(value, tensorflow.Variable)
    )


def value_of(variable: Any) -> Any:
    """The tensor to read and differentiate: `variable.value` of a Keras 3
    variable, the tf.Variable itself for tf_keras."""
    return variable.value if isinstance(variable, keras.Variable) else variable
