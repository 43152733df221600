"""Keep a capture from changing the model's metrics, recurrent or random state.

`model.compute_loss` updates the per-output loss trackers of multi-output
models, a forward pass advances the state of `stateful=True` RNN layers, and
recurrent layers with dropout draw from their seed generator even in inference
mode. A capture is an observation, so all three are restored afterwards: with
a capture in the loop, seeded training gives the same weights as without.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
from keras import ops, tree

from tb_rnngrad.capture import kerases
from tb_rnngrad.capture.layers import walk_layers


def _state_variables(layer: keras.layers.Layer) -> list:
    """The state variables of a `stateful=True` recurrent layer (else [])."""
    if isinstance(layer, kerases.types("Bidirectional")):
        return _state_variables(layer.forward_layer) + _state_variables(
            layer.backward_layer
        )
    if not getattr(layer, "stateful", False):
        return []
    states = tree.flatten(getattr(layer, "states", None))
    return [v for v in states if kerases.is_variable(v)]


_SEED_STATE = "seed_generator_state"  # the name Keras gives a SeedGenerator's state


def _seed_variables(model: keras.Model) -> list:
    """The states of the model's `keras.random.SeedGenerator`s."""
    return [
        v
        for v in model.non_trainable_variables
        if v.name == _SEED_STATE and tuple(v.shape) == (2,)
    ]


def _stateful_variables(model: keras.Model) -> list:
    variables = []
    for _, layer in walk_layers(model):
        variables.extend(_state_variables(layer))
    return variables


def _local_copies(model: keras.Model, variables: list) -> list:
    """Each copy of each of `variables` that lives in this process, as the
    TensorFlow variable behind it: under `tf.distribute` a metric's variable
    is synchronised on read, and reading it whole is an all-reduce across
    replicas, which in a multi-worker cluster the other workers would have to
    join. A model of another backend keeps its Keras variables."""
    if keras.backend.backend() != "tensorflow":
        return variables
    from tb_rnngrad.capture import distribution

    strategy = distribution.strategy_of(model)
    if strategy is None:
        return variables
    return [
        copy
        for v in variables
        for copy in strategy.experimental_local_results(kerases.value_of(v))
    ]


@contextlib.contextmanager
def preserved_state(model: keras.Model) -> Iterator[None]:
    """Restores metric, RNN-state and seed variables changed inside the block.

    Metrics created inside the block (the compiled loss builds its trackers
    on first use) are reset to their initial state.

    Args:
        model: The model whose metrics and stateful layers to preserve.

    Yields:
        None.
    """
    metrics_before = {id(m) for m in model.metrics}
    variables = [v for m in model.metrics for v in m.variables]
    variables += _stateful_variables(model) + _seed_variables(model)
    variables = _local_copies(model, variables)
    saved = [ops.copy(kerases.value_of(v)) for v in variables]
    yield
    for variable, value in zip(variables, saved, strict=True):
        variable.assign(value)
    for metric in model.metrics:
        if id(metric) not in metrics_before:
            metric.reset_state()
