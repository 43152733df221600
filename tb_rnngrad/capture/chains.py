"""Which calls of one layer or cell continue one another (form one chain).

Call j continues call i when the initial state j was given is, directly or
through the user's code, derived from a tensor call i returned. Calls linked
this way, transitively, are one recurrence unrolled by hand; a call whose
initial state derives from no earlier call (or that has none) starts a new
chain. Chains are numbered by their first call.

"Derived from" is a walk back from the initial state, stopping at the
tensors the earlier calls returned: on TensorFlow through the ops of the
traced graph and their inputs; on PyTorch through autograd's graph
(`grad_fn` and its `next_functions`; every returned tensor is in it, since
the pass's zero probes require grad), so a state the user detaches starts a
new chain there. JAX tracers keep no graph to walk: there, calls without an
initial state are separate chains (a shared layer on independent inputs),
and a later call given an initial state is a `CaptureError` that points to
TensorFlow or PyTorch.
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
    walk = _WALKS.get(keras.backend.backend())
    if given and walk is None:
        raise CaptureError(
            f"Layer '{name}' is called {len(calls)} times in one forward pass, "
            "later calls with an initial state (a recurrence unrolled by hand). "
            "Telling which calls continue one another needs a graph to walk, "
            f"which the '{keras.backend.backend()}' backend does not keep. "
            "Capture with KERAS_BACKEND=tensorflow (or torch), or leave the "
            "layer out of `layers=`."
        )
    parent = list(range(len(calls)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for j, call in enumerate(calls):
        if not call.initial:
            continue
        returned = [
            (i, t) for i, earlier in enumerate(calls[:j]) for t in earlier.returned
        ]
        for i in walk(call.initial, returned):
            parent[max(root(i), root(j))] = min(root(i), root(j))
    chains: dict[int, list[int]] = {}
    for i in range(len(calls)):
        chains.setdefault(root(i), []).append(i)
    return list(chains.values())


def _graph_name(tensor: Any) -> str | None:
    """A graph tensor's name, unique within its graph; None for others."""
    try:
        return tensor.name if hasattr(tensor, "op") else None
    except AttributeError:  # an eager tensor has no name
        return None


def _graph_reached(start: Sequence[Any], returned: Sequence[tuple]) -> set[int]:
    """TensorFlow: the calls whose returned tensors the ops behind `start`
    read; the walk does not go past a returned tensor (nearest calls only)."""
    targets = {_graph_name(t): i for i, t in returned}
    targets.pop(None, None)
    found: set[int] = set()
    seen: set[str] = set()
    stack = list(start)
    while stack:
        tensor = stack.pop()
        name = _graph_name(tensor)
        if name is None:
            continue
        if name in targets:
            found.add(targets[name])
            continue
        if tensor.op.name not in seen:
            seen.add(tensor.op.name)
            stack.extend(tensor.op.inputs)
    return found


def _autograd_reached(start: Sequence[Any], returned: Sequence[tuple]) -> set[int]:
    """PyTorch: the calls whose returned tensors' autograd nodes the nodes
    behind `start` reach; the walk does not go past them."""
    nodes = [t.grad_fn for _, t in returned]
    targets = {id(n): i for n, (i, _) in zip(nodes, returned, strict=True) if n}
    found: set[int] = set()
    seen: set[int] = set()
    stack = [t.grad_fn for t in start if getattr(t, "grad_fn", None) is not None]
    while stack:
        node = stack.pop()
        if id(node) in targets:
            found.add(targets[id(node)])
            continue
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(n for n, _ in node.next_functions if n is not None)
    return found


_WALKS = {"tensorflow": _graph_reached, "torch": _autograd_reached}
