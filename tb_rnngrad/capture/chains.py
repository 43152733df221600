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
new chain there. JAX tracers keep no graph: there the links come from the
jaxpr of one more trace of the forward (`jax_links`), passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from tb_rnngrad.capture.probes import Record


def group(
    name: str, calls: Sequence[Record], links: dict | None = None
) -> list[list[int]]:
    """The chains of `calls` (indices in call order), numbered by first call.

    Args:
        name: The layer's key.
        calls: The records of its calls, in call order.
        links: JAX: `jax_links.Links` of the pass, or None while they are
            not known yet (then every call is a chain of its own).
    """
    if len(calls) <= 1:
        return [list(range(len(calls)))]
    key, walk = _WALKS.get(keras.backend.backend(), (None, None))
    parent = list(range(len(calls)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    def link(i: int, j: int) -> None:
        parent[max(root(i), root(j))] = min(root(i), root(j))

    returned: dict[Any, int] = {}  # the key of each tensor returned so far
    for j, call in enumerate(calls):
        if walk is None:  # JAX
            for i in (links or {}).get(name, {}).get(j, ()):
                link(i, j)
            continue
        if call.initial:
            for i in walk(call.initial, returned):
                link(i, j)
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
