"""Which calls of one layer or cell continue one another (form one chain).

Call j continues call i when the initial state j was given is, directly or
through the user's code, derived from a tensor call i returned. Calls linked
this way, transitively, are one recurrence unrolled by hand; a call whose
initial state derives from no earlier call (or that has none) starts a new
chain. Chains are numbered by their first call.

On TensorFlow the capture pass is a traced graph, and "derived from" is a
walk from the initial state's ops back through their inputs, stopping at the
tensors the earlier calls returned. JAX tracers and PyTorch tensors keep no
such graph to walk from here: there, calls without an initial state are
separate chains (a shared layer on independent inputs), and a later call
given an initial state is a `CaptureError` that points to TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.probes import Record


def group(name: str, calls: Sequence[Record]) -> list[list[int]]:
    """The chains of `calls` (indices in call order), numbered by first call.

    Args:
        name: The layer's key, for messages.
        calls: The records of its calls, in call order.

    Raises:
        CaptureError: If the layer is called more than once off TensorFlow.
    """
    if len(calls) <= 1:
        return [list(range(len(calls)))]
    given = any(call.initial for call in calls[1:])
    if given and keras.backend.backend() != "tensorflow":
        raise CaptureError(
            f"Layer '{name}' is called {len(calls)} times in one forward pass, "
            "later calls with an initial state (a recurrence unrolled by hand). "
            "Telling which calls continue one another needs the TensorFlow "
            f"backend's graph; on '{keras.backend.backend()}' it is not "
            "supported yet. Capture with KERAS_BACKEND=tensorflow, or leave "
            "the layer out of `layers=`."
        )
    parent = list(range(len(calls)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for j, call in enumerate(calls):
        if not call.initial:
            continue
        returned = {
            _name(t): i for i, earlier in enumerate(calls[:j]) for t in earlier.returned
        }
        for i in _reached(call.initial, returned):
            parent[max(root(i), root(j))] = min(root(i), root(j))
    chains: dict[int, list[int]] = {}
    for i in range(len(calls)):
        chains.setdefault(root(i), []).append(i)
    return list(chains.values())


def _name(tensor: Any) -> str | None:
    """A graph tensor's name, unique within its graph; None for others."""
    try:
        return tensor.name if hasattr(tensor, "op") else None
    except AttributeError:  # an eager tensor has no name
        return None


def _reached(start: Sequence[Any], targets: dict[str | None, int]) -> set[int]:
    """The calls whose returned tensors the ops behind `start` read, nearest
    first: the walk does not go past a returned tensor."""
    targets.pop(None, None)
    found: set[int] = set()
    seen: set[str] = set()
    stack = list(start)
    while stack:
        tensor = stack.pop()
        name = _name(tensor)
        if name is None:
            continue
        if name in targets:
            found.add(targets[name])
            continue
        op = tensor.op
        if op.name in seen:
            continue
        seen.add(op.name)
        stack.extend(op.inputs)
    return found
