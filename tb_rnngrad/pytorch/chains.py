"""Which calls of one recurrent module continue one another.

A module called more than once in a forward pass (a decoder's GRU stepped in
a loop, a cell, a shared encoder) is one recurrence unrolled by hand where
the state a call returns becomes, directly or through the caller's code, the
initial state of a later call. `Chains` finds these links as the calls
happen: a call's initial state continues an earlier call if it is one of the
tensors that call returned, a view of one (`.detach()` keeps the storage), or
computed from one (autograd's graph reaches the node that made it). Calls
linked this way form a chain, stacked along time in call order; calls not
linked (each starting from None or from another module's state) start chains
of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import Tensor


class Chains:
    """The calls of one module seen so far, and the chains they form."""

    def __init__(self) -> None:
        self._parent: list[int] = []
        self._by_node: dict[int, int] = {}
        self._by_storage: dict[int, int] = {}
        # Kept alive for the pass, so that no new tensor takes their memory
        # (or a marked node's id) and looks like a continuation.
        self._kept: list[object] = []

    def start(self, initial_state: Iterable[Tensor | None]) -> int:
        """Registers a new call and links it to the earlier calls its
        initial state comes from; returns the call's index."""
        call = len(self._parent)
        self._parent.append(call)
        for earlier in self._sources(initial_state):
            self._join(earlier, call)
        return call

    def returned(self, call: int, tensors: Iterable[Tensor | None]) -> None:
        """Records the tensors `call` returned (its output and states)."""
        for tensor in tensors:
            if tensor is None:
                continue
            self._by_storage.setdefault(_storage(tensor), call)
            self._kept.append(tensor)
            node = tensor.grad_fn
            if node is not None:
                self._by_node.setdefault(id(node), call)
                self._kept.append(node)

    def groups(self) -> list[list[int]]:
        """The chains: lists of call indices in call order, ordered by their
        first call."""
        found: dict[int, list[int]] = {}
        for call in range(len(self._parent)):
            found.setdefault(self._root(call), []).append(call)
        return sorted(found.values(), key=lambda calls: calls[0])

    def _sources(self, tensors: Iterable[Tensor | None]) -> set[int]:
        """The earlier calls whose returned tensors `tensors` come from."""
        found: set[int] = set()
        pending = []
        for tensor in tensors:
            if tensor is None:
                continue
            by_storage = self._by_storage.get(_storage(tensor))
            if by_storage is not None:
                found.add(by_storage)
            elif tensor.grad_fn is not None:
                pending.append(tensor.grad_fn)
        seen: set[int] = set()
        while pending:
            node = pending.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            call = self._by_node.get(id(node))
            if call is not None:
                found.add(call)
                continue
            pending.extend(next_node for next_node, _ in node.next_functions)
        return found

    def _root(self, call: int) -> int:
        while self._parent[call] != call:
            self._parent[call] = self._parent[self._parent[call]]
            call = self._parent[call]
        return call

    def _join(self, a: int, b: int) -> None:
        a, b = self._root(a), self._root(b)
        self._parent[max(a, b)] = min(a, b)


def _storage(tensor: Tensor) -> int:
    """Identifies a tensor's memory (shared by its views and `.detach()`)."""
    return tensor.untyped_storage().data_ptr()
