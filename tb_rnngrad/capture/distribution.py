"""The capture under `tf.distribute`: one pass on one device, one writer.

A model built and compiled under a strategy (`MirroredStrategy`,
`MultiWorkerMirroredStrategy`) holds mirrored variables whose copies are
equal between steps, so the capture is a single-device pass over them: the
same numbers as the same weights give without a strategy.

Two things differ inside `strategy.scope()` (cross-replica context): Keras
scales the loss by 1 / `num_replicas_in_sync` for the all-reduce that sums
replica gradients, and a tape refuses to watch a distributed variable.
Keras runs callbacks outside the scope; a call inside it runs the pass on a
helper thread, where (strategy scopes being per thread) the default strategy
applies. Who writes is the strategy's own answer:
`strategy.extended.should_save_summary` (the chief of a multi-worker
cluster, or the single process).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

import tensorflow as tf

from tb_rnngrad.capture.errors import CaptureError

_T = TypeVar("_T")
_CLUSTER_JOBS = ("chief", "worker")


def single_device(fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` outside any strategy scope.

    Raises:
        CaptureError: When called in a replica context (inside
            `strategy.run`), where one replica cannot run a pass of its own.
    """
    if not tf.distribute.has_strategy():
        return fn(*args)
    if not tf.distribute.in_cross_replica_context():
        raise CaptureError(
            "The capture cannot run inside strategy.run (a replica context): "
            "it is a pass of its own on the full probe batch. Call it between "
            "steps, outside strategy.run (inside strategy.scope() is fine)."
        )
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def strategy_of(model: Any) -> tf.distribute.Strategy | None:
    """The strategy `model` was built under (None for other backends)."""
    return getattr(model, "distribute_strategy", None)


def writes_summaries(model: Any) -> bool:
    """Whether this process writes summaries for `model`: not on a worker
    that is not the chief of a multi-worker cluster."""
    strategy = strategy_of(model)
    return strategy is None or bool(strategy.extended.should_save_summary)


def is_multi_worker(model: Any) -> bool:
    """Whether `model` trains under a strategy with more than one worker
    process, where the processes meet in collective ops at every step."""
    strategy = strategy_of(model)
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return False
    spec = resolver.cluster_spec().as_dict()
    return sum(len(spec.get(job, ())) for job in _CLUSTER_JOBS) > 1
