"""Which process of a `torch.distributed` job writes the logs: rank 0.

Every process of a data-parallel job holds the same weights between steps,
so one capture says it all; the others write nothing.
"""

from __future__ import annotations

from torch import distributed


def writes_logs() -> bool:
    """Whether this process writes: True outside a process group (or where
    torch has no `torch.distributed`), else whether it is rank 0 of the
    default process group."""
    if not (distributed.is_available() and distributed.is_initialized()):
        return True
    return distributed.get_rank() == 0
