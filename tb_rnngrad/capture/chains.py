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
        CaptureError: If later calls are given initial states on a backend
            without a graph to walk (JAX).
    """
    if len(calls) <= 1:
        return [list(range(len(calls)))]
    given = any(call.initial for call in calls[1:])
    backend = keras.backend.backend()
    if given and backend not in _WALKS:
        raise CaptureError(
            f"Layer '{name}' is called {len(calls)} times in one forward pass, "
            "later calls with an initial state (a recurrence unrolled by hand). "
            "Telling which calls continue one another needs a graph to walk, "
            f"which the '{backend}' backend does not keep. Capture with "
            "KERAS_BACKEND=tensorflow (or torch), or leave the layer out of "
            "`layers=`."
        )
    key, walk = _WALKS.get(backend, (None, None))
    parent = list(range(len(calls)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    returned: dict[Any, int] = {}  # the key of each tensor returned so far
    for j, call in enumerate(calls):
        if call.initial:
            for i in walk(call.initial, returned):
                parent[max(root(i), root(j))] = min(root(i), root(j))
        if key is not None:
            returned.update((key(t), j) for t in call.returned)
        returned.pop(None, None)
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


def _graph_reached(start: Sequence[Any], targets: dict[Any, int]) -> set[int]:
    """TensorFlow: the calls whose returned tensors (`targets`, by name) the
    ops behind `start` read; the walk does not go past a returned tensor
    (nearest calls only)."""
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


def _node(tensor: Any) -> Any:
    """A torch tensor's autograd node (None for a tensor outside the graph)."""
    return getattr(tensor, "grad_fn", None)


def _autograd_reached(start: Sequence[Any], targets: dict[Any, int]) -> set[int]:
    """PyTorch: the calls whose returned tensors' autograd nodes (`targets`)
    the nodes behind `start` reach; the walk does not go past them."""
    found: set[int] = set()
    seen: set[int] = set()
    stack = [node for node in map(_node, start) if node is not None]
    while stack:
        node = stack.pop()
        if node in targets:
            found.add(targets[node])
            continue
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(n for n, _ in node.next_functions if n is not None)
    return found


_WALKS = {
    "tensorflow": (_graph_name, _graph_reached),
    "torch": (_node, _autograd_reached),
}
"""`{backend: (key of a returned tensor, walk)}`."""
