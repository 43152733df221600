"""Check a batch (x, y, sample_weight) against a model and convert it to tensors.

Arrays are converted once, the way `model.fit` converts them: floating arrays
become the input's dtype (or `keras.config.floatx()` when the model does not
declare one), so repeated captures on the same batch reuse one trace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops, tree

from tb_rnngrad import versions
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.layers import walk_layers


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What one model input expects.

    Attributes:
        name: The input's name (its InputLayer name).
        shape: Its shape with the batch axis, None for free dimensions.
        dtype: Its dtype name, e.g. "float32" or "int32".
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str


@dataclasses.dataclass(frozen=True)
class Batch:
    """A batch converted to tensors, with the names of the model inputs.

    Attributes:
        x: Tensors in the structure the user gave (tensor, list or dict).
        y: Targets as tensors, same structure as given.
        sample_weight: Sample weights as tensors, or None.
        input_names: The model-input name of each leaf of `x`, in
            `tree.flatten(x)` order.
    """

    x: Any
    y: Any
    sample_weight: Any
    input_names: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of samples."""
        return int(tree.flatten(self.x)[0].shape[0])


def _name_of(tensor: Any, index: int, count: int) -> str:
    use = "tb-rnngrad names model inputs by Keras's private `_keras_history`"
    private = versions.usable("keras", use, "naming them by `tensor.name`")
    history = getattr(tensor, "_keras_history", None) if private else None
    operation = getattr(history, "operation", None)
    name = getattr(operation, "name", None) or getattr(tensor, "name", None)
    if name:
        return str(name)
    return "input" if count == 1 else f"input_{index}"


def _spec(name: str, tensor: Any) -> InputSpec:
    return InputSpec(
        name=name,
        shape=tuple(tensor.shape),
        dtype=keras.backend.standardize_dtype(tensor.dtype),
    )


def input_specs(model: keras.Model) -> list[InputSpec] | None:
    """The model's declared inputs, or None if it has none (subclassed, unbuilt).

    A model built on a dict of inputs is named by the dict's keys (Keras feeds
    a dict `x` by these keys); otherwise each input is named by its InputLayer.
    """
    try:
        structure = model.input
    except (AttributeError, ValueError):
        structure = None
    if isinstance(structure, Mapping):
        return [_spec(str(k), t) for k, t in structure.items()]
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    inputs = tree.flatten(inputs)
    return [_spec(_name_of(t, i, len(inputs)), t) for i, t in enumerate(inputs)]


def stateful_batch_size(model: keras.Model) -> int | None:
    """The batch size a model with `stateful=True` layers runs on.

    Stateful layers keep one state per sample, so they take batches of exactly
    the size the model's inputs declare (`keras.Input(batch_shape=...)`).

    Returns:
        That size, or None when no layer is stateful or the inputs declare
        no single batch size.
    """
    if not any(getattr(layer, "stateful", False) for _, layer in walk_layers(model)):
        return None
    sizes = {spec.shape[0] for spec in input_specs(model) or () if spec.shape}
    sizes.discard(None)
    return sizes.pop() if len(sizes) == 1 else None


def output_names(model: keras.Model) -> list[str] | None:
    """The model's output names, or None if it does not declare outputs."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs:
        return None
    names = getattr(model, "output_names", None)
    if names and len(names) == len(tree.flatten(outputs)):
        return list(names)
    return [f"output_{i}" for i in range(len(tree.flatten(outputs)))]


def _shape_text(shape: Sequence[int | None]) -> str:
    dims = ("batch" if i == 0 else str(d) for i, d in enumerate(shape))
    return "(" + ", ".join(dims) + ")"


def _to_tensor(value: Any, what: str, dtype: str | None) -> Any:
    """Converts one array; floats go to `dtype` (or floatx), ints to int `dtype`."""
    if not ops.is_tensor(value):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as error:
            raise CaptureError(
                f"{what} could not be converted to an array ({error}); pass a "
                "NumPy array or a tensor."
            ) from error
        if value.dtype == object:
            raise CaptureError(
                f"{what} is an array of Python objects (ragged or mixed types); "
                "pass a NumPy array of numbers or a tensor."
            )
    tensor = ops.convert_to_tensor(value)
    given = keras.backend.standardize_dtype(tensor.dtype)
    target = dtype
    if target is None and keras.backend.is_float_dtype(given):
        target = keras.config.floatx()
    if target is not None and given != keras.backend.standardize_dtype(target):
        tensor = ops.cast(tensor, target)
    return tensor


def _check_shape(tensor: Any, spec: InputSpec, what: str) -> None:
    shape = tuple(tensor.shape)
    expected = spec.shape
    ok = len(shape) == len(expected) and all(
        e is None or d == e for d, e in zip(shape[1:], expected[1:], strict=True)
    )
    if not ok:
        wanted = _shape_text(expected)
        raise CaptureError(
            f"{what} has shape {shape}, but model input '{spec.name}' expects "
            f"{wanted}. Pass an array of shape {wanted} (the same data you "
            "give to model.fit)."
        )


def input_names_for(model: keras.Model, x: Any) -> tuple[str, ...]:
    """The model-input name of each leaf of `x`, in `tree.flatten(x)` order.

    Dict keys are the names; otherwise the model's input names in order, or
    `input` / `input_<i>` for models that declare no inputs.
    """
    if isinstance(x, Mapping):
        return tuple(tree.flatten({k: k for k in x}))
    count = len(tree.flatten(x))
    specs = input_specs(model)
    if specs is not None and len(specs) == count:
        return tuple(s.name for s in specs)
    return ("input",) if count == 1 else tuple(f"input_{i}" for i in range(count))


def is_dataset(value: Any) -> bool:
    """Whether `value` is a tf.data.Dataset (without importing TensorFlow)."""
    return any(
        cls.__module__.startswith("tensorflow") and cls.__name__ == "DatasetV2"
        for cls in type(value).__mro__
    )


def _convert_x(model: keras.Model, x: Any) -> tuple[Any, tuple[str, ...]]:
    specs = input_specs(model)
    if x is None:
        raise CaptureError("x is None; pass the model inputs for one batch.")
    if is_dataset(x):
        raise CaptureError(
            "x is a tf.data.Dataset; pass one batch of it instead, e.g. "
            "x, y = next(iter(dataset)). (GradientLogger's `data` takes a "
            "dataset and uses its first batch.)"
        )
    if specs is None:
        structure = tree.map_structure(lambda v: _to_tensor(v, "x", None), x)
        return structure, input_names_for(model, structure)
    names = [s.name for s in specs]
    if isinstance(x, Mapping):
        missing = [n for n in names if n not in x]
        if missing:
            raise CaptureError(
                f"x is a dict with keys {sorted(x)}, but model '{model.name}' "
                f"expects inputs {names}: missing {missing}. Pass a dict keyed "
                "by the model's input names, or a list in input order."
            )
        by_name = {s.name: s for s in specs}
        converted = {
            k: _convert_leaf(v, by_name.get(k), f"x['{k}']") for k, v in x.items()
        }
        return converted, input_names_for(model, converted)
    leaves = list(x) if isinstance(x, (list, tuple)) else [x]
    if len(leaves) != len(specs):
        raise CaptureError(
            f"x has {len(leaves)} array(s), but model '{model.name}' has "
            f"{len(specs)} input(s) {names}. Pass one array per input, in this "
            "order (or a dict keyed by input name)."
        )
    converted = [
        _convert_leaf(v, s, f"x[{i}]" if len(specs) > 1 else "x")
        for i, (v, s) in enumerate(zip(leaves, specs, strict=True))
    ]
    structure = type(x)(converted) if isinstance(x, (list, tuple)) else converted[0]
    return structure, tuple(names)


def _convert_leaf(value: Any, spec: InputSpec | None, what: str) -> Any:
    tensor = _to_tensor(value, what, spec.dtype if spec else None)
    if spec is not None:
        _check_shape(tensor, spec, what)
    return tensor


def _convert_y(model: keras.Model, y: Any) -> Any:
    if y is None:
        raise CaptureError(
            "y is None; pass the targets for the batch: the gradients are those "
            "of the model's compiled loss, which needs them."
        )
    names = output_names(model)
    if names is not None and len(names) > 1:
        if isinstance(y, Mapping):
            unknown = [k for k in y if k not in names]
            if unknown:
                raise CaptureError(
                    f"y has keys {unknown} that are not outputs of model "
                    f"'{model.name}'; its outputs are {names}."
                )
        elif not isinstance(y, (list, tuple)) or len(y) != len(names):
            given = f"{len(y)} arrays" if isinstance(y, (list, tuple)) else "1 array"
            raise CaptureError(
                f"y has {given}, but model '{model.name}' has {len(names)} "
                f"outputs {names}. Pass a list with one target per output or a "
                "dict keyed by output name."
            )
    return tree.map_structure(lambda v: _to_tensor(v, "y", None), y)


def _check_batch_sizes(x: Any, y: Any, sample_weight: Any) -> None:
    sizes = {}
    for what, structure in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for leaf in tree.flatten(structure):
            if leaf is not None and len(leaf.shape):
                sizes.setdefault(what, set()).add(int(leaf.shape[0]))
    if any(len(leaf.shape) == 0 for leaf in tree.flatten(x)):
        raise CaptureError("x contains a scalar; every input needs a batch axis.")
    if 0 in sizes.get("x", ()):
        raise CaptureError(
            "x has 0 samples (its first axis is empty); pass a batch of at "
            "least one sample."
        )
    distinct = set().union(*sizes.values()) if sizes else set()
    if len(distinct) > 1:
        detail = ", ".join(f"{k}: {sorted(v)}" for k, v in sizes.items())
        raise CaptureError(
            f"x, y and sample_weight must have the same number of samples "
            f"(first axis); got {detail}. Slice them to one batch."
        )


def prepare_batch(
    model: keras.Model, x: Any, y: Any, sample_weight: Any = None
) -> Batch:
    """Checks a batch against the model and converts it to tensors.

    Args:
        model: The Keras model the batch is for.
        x: Inputs: an array, a list of arrays (one per input) or a dict keyed
            by input name.
        y: Targets, in the structure `model.fit` accepts.
        sample_weight: Optional sample weights, as for `model.fit`.

    Returns:
        The converted batch.

    Raises:
        CaptureError: If x does not match the model's inputs (count, names,
            shapes), y does not match its outputs, or sizes differ.
    """
    x_tensors, names = _convert_x(model, x)
    y_tensors = _convert_y(model, y)
    weights = None
    if sample_weight is not None:
        weights = tree.map_structure(
            lambda v: _to_tensor(v, "sample_weight", None), sample_weight
        )
    _check_batch_sizes(x_tensors, y_tensors, weights)
    return Batch(x=x_tensors, y=y_tensors, sample_weight=weights, input_names=names)


def take_samples(structure: Any, count: int) -> Any:
    """The first `count` samples of every array in a nested structure."""
    return tree.map_structure(lambda v: None if v is None else v[:count], structure)
