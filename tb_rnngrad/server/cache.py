"""The one cache of the server: a thread-safe LRU map within a budget.

Each entry has a cost (1 by default, or e.g. its size in bytes) and an
optional version; the least recently used entries are evicted while the total
cost is over the budget, and a lookup with another version misses.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Hashable
from typing import Any


class LruCache:
    """Least-recently-used map whose entries' costs sum to at most `budget`.

    Args:
      budget: Largest total cost kept; an entry costing more is not kept.
    """

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._entries: collections.OrderedDict[Hashable, tuple[Any, Any, int]] = (
            collections.OrderedDict()
        )
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Any = None) -> Any:
        """The value stored under `key` with `version`, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(
        self, key: Hashable, value: Any, *, version: Any = None, cost: int = 1
    ) -> None:
        """Stores `value` under `key`, replacing any other version of it."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._total -= old[2]
            if cost > self._budget:
                return
            self._entries[key] = (version, value, cost)
            self._total += cost
            while self._total > self._budget:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self._total -= evicted
