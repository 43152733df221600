"""Which calls continue one another on JAX, read from the forward's jaxpr.

JAX tracers keep no graph to walk (`chains` walks TensorFlow's and
autograd's), but a traced function's jaxpr is one. The forward is traced
once more with a zero marker, an input of the traced function, added to each
tensor every call of a recurrent layer returns (`probes.Marker`); the
function returns every call's initial states. Going through the jaxpr's
equations in order, each variable gets the markers it derives from; an
equation that adds a marker passes on that marker alone, so that, as the
TensorFlow walk stops at returned tensors, a call links to the nearest calls
its initial state derives from. Equations with inner jaxprs (a scan, a jit)
count as deriving every output from every input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tb_rnngrad import versions

Links = dict[str, dict[int, set[int]]]
"""`{layer key: {call j: the earlier calls whose states call j continues}}`."""


def derived(jaxpr: Any, count: int) -> list[set[int]]:
    """For each output of `jaxpr`, the markers (its first `count` inputs) it
    derives from."""
    markers = {var: {k} for k, var in enumerate(jaxpr.invars[:count])}
    found: dict[Any, set[int]] = dict(markers)
    for eqn in jaxpr.eqns:
        variables = [v for v in eqn.invars if not _is_literal(v)]
        added = [markers[v] for v in variables if v in markers]
        if added:  # `tensor + marker`: the tensor a call returned
            source = set().union(*added)
        else:
            source = set().union(*(found.get(v, ()) for v in variables))
        for out in eqn.outvars:
            found[out] = source
    return [set() if _is_literal(v) else set(found.get(v, ())) for v in jaxpr.outvars]


def _is_literal(var: Any) -> bool:
    return type(var).__name__ == "Literal"


def links(
    trace: Callable[..., list],
    markers: Sequence[tuple[Any, int]],
    shapes: Sequence[tuple[tuple[int, ...], Any]],
    keys: dict[int, str],
    args: tuple,
) -> Links:
    """The links between calls, from one more trace of the forward.

    Args:
        trace: `trace(marker_values, *args)` runs the forward with the
            markers added and returns `[(layer key, call, initial state)]`.
        markers: `(id(layer), call)` of each marker, in the order made.
        shapes: `(shape, dtype)` of each marker.
        keys: `{id(layer): layer key}` of the captured layers.
        args: The other arguments of `trace`.

    Returns:
        `Links`.
    """
    import jax
    import jax.numpy as jnp

    use = "tb-rnngrad links calls on JAX by walking the jaxpr's equations"
    if not versions.usable("jax", use, "treating each call as its own chain"):
        return {}
    owners: list[tuple[str, int]] = []

    def initial_states(marker_values: list, *rest: Any) -> list:
        found = trace(marker_values, *rest)
        owners[:] = [(key, call) for key, call, _ in found]
        return [state for _, _, state in found]

    zeros = [jnp.zeros(shape, dtype) for shape, dtype in shapes]
    closed = jax.make_jaxpr(initial_states)(zeros, *args)
    out: Links = {}
    for (key, j), reached in zip(
        owners, derived(closed.jaxpr, len(zeros)), strict=True
    ):
        for marker in reached:
            layer, i = markers[marker]
            if keys.get(layer) == key and i < j:
                out.setdefault(key, {}).setdefault(j, set()).add(i)
    return out
