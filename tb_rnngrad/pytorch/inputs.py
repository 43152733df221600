"""The batch given to a capture: how the module is called with it, and which of
its tensors get an input gradient."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import rnn as rnn_utils

from tb_rnngrad.errors import CaptureError


@dataclasses.dataclass(frozen=True)
class Inputs:
    """How to call the module, with leaf copies of its floating inputs.

    Attributes:
        args, kwargs: What `module(*args, **kwargs)` is called with.
        leaves: `{name: (leaf tensor, PackedSequence or None)}` for each
            floating-point input when input gradients are wanted; the leaf is
            the tensor (or the PackedSequence's data) the module receives.
        integer: Names of integer (token id) inputs.
    """

    args: tuple
    kwargs: dict
    leaves: dict[str, tuple[Tensor, rnn_utils.PackedSequence | None]]
    integer: tuple[str, ...]

    def call(self, module: nn.Module) -> Any:
        return module(*self.args, **self.kwargs)


def prepare(inputs: Any, want_gradients: bool) -> Inputs:
    """Splits `inputs` into call arguments; makes leaves for input gradients.

    A tensor or PackedSequence is the one positional argument; a tuple or list
    gives the positional arguments (named "input_<i>"); a dict gives keyword
    arguments (named by key). Other values (None, ints) pass through.
    """
    if isinstance(inputs, Mapping):
        named = {str(key): value for key, value in inputs.items()}
    elif isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
        if isinstance(inputs, rnn_utils.PackedSequence):
            named = {"input": inputs}
        else:
            named = {f"input_{i}": value for i, value in enumerate(inputs)}
    else:
        named = {"input": inputs}
    leaves, integer, values = {}, [], {}
    for name, value in named.items():
        data = value.data if isinstance(value, rnn_utils.PackedSequence) else value
        if isinstance(data, Tensor) and not data.is_floating_point():
            integer.append(name)
        if not (want_gradients and isinstance(data, Tensor)):
            values[name] = value
            continue
        if not data.is_floating_point():
            values[name] = value
            continue
        leaf = data.detach().requires_grad_(True)
        if isinstance(value, rnn_utils.PackedSequence):
            values[name] = rnn_utils.PackedSequence(
                leaf, value.batch_sizes, value.sorted_indices, value.unsorted_indices
            )
            leaves[name] = (leaf, value)
        else:
            values[name] = leaf
            leaves[name] = (leaf, None)
    if isinstance(inputs, Mapping):
        args, kwargs = (), {key: values[str(key)] for key in inputs}
    else:
        args, kwargs = tuple(values.values()), {}
    return Inputs(args, kwargs, leaves, tuple(integer))


def describe(value: Any) -> str:
    """A short description of a batch, for error messages."""
    if isinstance(value, rnn_utils.PackedSequence):
        return (
            f"PackedSequence(data {tuple(value.data.shape)} {value.data.dtype}, "
            f"{len(value.batch_sizes)} timesteps)"
        )
    if isinstance(value, Tensor):
        return f"tensor {tuple(value.shape)} {value.dtype}"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    return type(value).__name__


def check_call_inputs(inputs: Any) -> None:
    """Raises CaptureError unless `inputs` holds at least one tensor."""
    values = (
        list(inputs.values())
        if isinstance(inputs, Mapping)
        else list(inputs)
        if isinstance(inputs, (tuple, list))
        and not isinstance(inputs, rnn_utils.PackedSequence)
        else [inputs]
    )
    if not any(isinstance(v, (Tensor, rnn_utils.PackedSequence)) for v in values):
        raise CaptureError(
            f"inputs must be a tensor, a PackedSequence, or a tuple or dict of "
            f"the module's arguments holding at least one tensor; got "
            f"{describe(inputs)}. Pass the batch as module(inputs) takes it."
        )


def to_numpy(tensor: Tensor) -> Any:
    """A NumPy copy; float16 stays, bfloat16 becomes float32."""
    tensor = tensor.detach()
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.cpu().numpy()
