"""The data-parallel wrappers, `nn.parallel.DistributedDataParallel` and
`nn.DataParallel`, seen through.

A wrapper holds the model as its submodule `module`, so its module paths are
the model's with a `module.` prefix. A capture runs on the model inside (the
wrapper's forward would start collectives that only the logging process
joins), and keys are the model's own paths: a run trained wrapped and one
trained unwrapped have the same tags. `layers=` paths work with or without
the prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

#: The wrappers `unwrap` removes.
WRAPPERS = (nn.parallel.DistributedDataParallel, nn.DataParallel)
_PREFIX = "module"


def unwrap(module: Any, layers: Any) -> tuple[Any, Any]:
    """The model inside any data-parallel wrappers, and `layers` for it.

    Args:
        module: The module given (anything: only wrappers are changed).
        layers: The `layers=` selectors given: None, a path or module, or a
            sequence of these.

    Returns:
        `(model, layers)`: a path selector that is not a path of the model
        loses up to one leading `module.` per wrapper removed (`"module"`
        alone names the model itself) when that makes it one, a wrapper
        selector becomes the model; the same objects when `module` is no
        wrapper.
    """
    wrappers = []
    while isinstance(module, WRAPPERS):
        wrappers.append(module)
        module = module.module
    if not wrappers or layers is None:
        return module, layers
    paths = {path for path, _ in module.named_modules()}

    def inner(selector: Any) -> Any:
        if any(selector is wrapper for wrapper in wrappers):
            return module
        if not isinstance(selector, str):
            return selector
        path = selector
        for _ in wrappers:
            if path in paths:
                return path
            if path == _PREFIX:
                path = ""
            elif path.startswith(_PREFIX + "."):
                path = path[len(_PREFIX) + 1 :]
        return path if path in paths else selector

    if isinstance(layers, Sequence) and not isinstance(layers, str):
        return module, type(layers)(inner(selector) for selector in layers)
    return module, inner(layers)
