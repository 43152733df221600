"""The capture pass on Keras 3's JAX and PyTorch backends.

The Keras-level forward is the one every backend shares (`CaptureBase`,
`probes`): the model runs in inference mode with a zero probe added to the
output of each chosen layer (and of each Embedding, for input gradients),
then the model's own `compute_loss`. The backward pass is the backend's, one
for all kinds together:

- JAX: `jax.value_and_grad` of a function of the probes, the floating inputs
  and the recurrent weights, with every model variable passed in through a
  `keras.StatelessScope` (as `model.stateless_call` does), compiled with
  `jax.jit` once per input signature. The probes' shapes, and which key each
  argument belongs to, come from tracing the forward once with
  `jax.eval_shape`.
- PyTorch: the probes are zero tensors that require grad, and one
  `torch.autograd.grad` call differentiates the loss by them, the inputs and
  the weights' parameters.

"state_gradients" and "weight_contributions" probe inside the recurrence as
on TensorFlow (`state_probes`, the loop a `keras.ops.scan`); the weight
terms come from the same recorded factors (`weight_terms`). TensorFlow is
not imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import keras
from keras import ops, tree

from tb_rnngrad.capture import jax_links, probes, weights
from tb_rnngrad.capture.data import Batch
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.forward import (
    CaptureBase,
    capture_error_in,
    failure_message,
    is_floating,
)
from tb_rnngrad.capture.layers import LayerSelector
from tb_rnngrad.capture.preserved_state import preserved_state
from tb_rnngrad.result import CaptureResult


class BackendCapture(CaptureBase):
    """A forward+backward pass for one model, layer set and kinds on JAX or
    PyTorch (`GradientCapture` is TensorFlow's).

    Args:
        model: A compiled Keras model.
        layers: None for every recurrent layer, or names, indices into
            `model.layers` or layer objects.
        kinds: Which tensors to return (`support.KINDS_BY_PLATFORM`).

    Raises:
        CaptureError: As `GradientCapture`; also for a kind this backend does
            not support, or a loss-scaling (mixed precision) optimizer.
    """

    def __init__(
        self,
        model: keras.Model,
        layers: LayerSelector | Sequence[LayerSelector] | None = None,
        kinds: Sequence[str] = ("gradients",),
    ) -> None:
        super().__init__(model, layers, kinds)
        self._backend = keras.backend.backend()
        optimizer = getattr(model, "optimizer", None)
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            raise CaptureError(
                f"Model '{model.name}' trains with a LossScaleOptimizer (mixed "
                f"precision); on the {self._backend} backend the capture does "
                "not scale the loss yet. Capture with a float32 policy, or on "
                "the TensorFlow backend."
            )
        self._compiled: dict[Any, tuple[dict, Any]] = {}  # JAX, per signature
        self._state_records: dict = {}  # from the last forward (its plan)
        self._records: dict = {}  # the calls' records of the last forward

    def run(self, batch: Batch) -> CaptureResult:
        """Runs the capture on a batch already checked by `prepare_batch`."""
        model = self.model
        if any(k in self._kinds for k in weights.WEIGHT_KINDS):
            self._weight_cells, self._weight_notes = weights.cells(self._refs)
        try:
            with preserved_state(model):
                if self._backend == "jax":
                    out = self._jax_pass(batch)
                else:
                    out = self._torch_pass(batch)
        except CaptureError:
            raise
        except Exception as error:
            raised = capture_error_in(error)
            if raised is not None:
                raise CaptureError(str(raised)) from None
            if isinstance(error, (ValueError, TypeError, RuntimeError)):
                raise CaptureError(failure_message(model, batch, error)) from error
            raise
        return self._result(batch, out)

    def _forward(
        self,
        new_probe: probes.NewProbe,
        x: Any,
        y: Any,
        sw: Any,
        marker: probes.Marker | None = None,
    ) -> tuple:
        """(loss, {layer key: probe}, {input key: tensor}, aux) of one probed
        forward pass; aux holds what the result reports besides gradients.
        With `marker` (JAX, learning `jax_links`), recurrent layers' returned
        tensors get markers; the calls' records are kept in `_records`."""
        floats, _, probe_embeddings = self._plan_inputs(x)
        targets = self._targets(probe_embeddings)
        with (  # a free cell's state probes go inside its output probe
            self._recurrence.attach(new_probe) as state_records,
            probes.attach(new_probe, targets, marker) as records,
        ):
            y_pred = self.model(x, training=False)
        self._records = records
        loss = self._loss(x, y, y_pred, sw)
        masks, watched, activations, steps = self._layer_tensors(records)
        state_records = self._recurrence.records(state_records, self._counts(records))
        inputs, input_masks = self._input_tensors(x, floats, records, probe_embeddings)
        aux = {
            "loss": loss,
            "masks": masks,
            "steps": steps,
            "activations": activations if "activations" in self._kinds else {},
            "input_masks": input_masks,
            "weights": (
                weights.values(self._weight_cells) if "weights" in self._kinds else {}
            ),
            "state_records": {
                k: [
                    {"mask": r.mask, "inputs": r.inputs, "states": r.states} for r in rs
                ]
                for k, rs in state_records.items()
            },
        }
        watched = watched if "gradients" in self._kinds else {}
        self._state_records = state_records  # the plan; tensors are replaced
        states = self._recurrence.probes(state_records, self._layout)
        return loss, {"layers": watched, "states": states}, inputs, aux

    def _weight_variables(self) -> dict[str, dict[str, Any]]:
        """`{key: {name: keras.Variable}}` whose gradients are wanted."""
        if "weight_gradients" not in self._kinds:
            return {}
        return {key: dict(weights.weights_of(cell)) for key, cell in self._weight_cells}

    def _output(self, aux: dict, grads: dict) -> dict:
        found = aux.pop("state_records")
        records = {
            key: [
                dataclasses.replace(record, probes=None, **values)
                for record, values in zip(calls, found[key], strict=True)
            ]
            for key, calls in self._state_records.items()
        }
        states = self._recurrence.entries(
            records, grads["states"], raw=False, layout=self._layout
        )
        return {
            **aux,
            "gradients": grads["layers"],
            "input_gradients": grads["inputs"],
            "state_gradients": states["state_gradients"],
            "weight_contributions": states["weight_contributions"],
            "gate_activations": states["gate_activations"],
            "weight_gradients": weights.split_rows(grads["weights"]),
        }

    def _torch_pass(self, batch: Batch) -> dict:
        import torch

        def new_probe(tensor: Any) -> Any:
            return torch.zeros_like(tensor, requires_grad=True)

        wants_inputs = "input_gradients" in self._kinds

        def leaf(tensor: Any) -> Any:
            if wants_inputs and is_floating(tensor):
                return tensor.detach().requires_grad_(True)
            return tensor

        x = tree.map_structure(leaf, batch.x)
        variables = self._weight_variables()
        with _requiring_grad(tree.flatten(variables)), torch.enable_grad():
            params = tree.map_structure(lambda v: v.value, variables)
            loss, probed, inputs, aux = self._forward(
                new_probe, x, batch.y, batch.sample_weight
            )
            sources = {**probed, "inputs": inputs, "weights": params}
            flat = tree.flatten(sources)
            found = torch.autograd.grad(loss, flat, allow_unused=True)
        found_by_group = tree.pack_sequence_as(sources, list(found))
        self._check_used(found_by_group["layers"], found_by_group["states"])
        grads = [
            torch.zeros_like(s) if g is None else g
            for g, s in zip(found, flat, strict=True)
        ]
        return self._output(aux, tree.pack_sequence_as(sources, grads))

    def _jax_pass(self, batch: Batch) -> dict:
        args = (batch.x, batch.y, batch.sample_weight)
        signature = tree.map_structure(
            lambda t: None if t is None else (tuple(t.shape), str(t.dtype)), args
        )
        key = repr(signature)
        if key not in self._compiled:
            self._compiled[key] = self._jax_compile(batch)
        plan, step = self._compiled[key]
        variables, flat_vars, others, floats = self._jax_operands(batch)
        zeros = [ops.zeros(shape, dtype) for shape, dtype in plan["probes"]]
        (_, aux), (g_probes, g_floats, g_vars) = step(
            zeros,
            [tree.flatten(batch.x)[i] for i in floats],
            [v.value for v in flat_vars],
            [v.value for v in others],
            *args,
        )
        grads = {
            "layers": tree.map_structure(lambda i: g_probes[i], plan["layers"]),
            "states": tree.map_structure(lambda i: g_probes[i], plan["states"]),
            "inputs": {
                k: (g_probes[i] if where == "probe" else g_floats[i])
                for k, (where, i) in plan["inputs"].items()
            },
            "weights": tree.pack_sequence_as(variables, list(g_vars)),
        }
        return self._output(aux, grads)

    def _jax_links(self, body: Any, markers: list, shapes: list, args: tuple) -> dict:
        """`jax_links.Links` of the forward `body` traces (empty unless a
        layer is called again with an initial state)."""
        if not _continued(self._records, self._refs):
            return {}

        def trace(marker_values: list, *rest: Any) -> list:
            values = iter(marker_values)
            body(None, *rest, mark=lambda layer, call, tensor: next(values))
            return [
                (ref.key, j, state)
                for ref in self._refs
                for j, call in enumerate(self._records[id(ref.layer)])
                for state in call.initial
            ]

        keys = {id(ref.layer): ref.key for ref in self._refs}
        return jax_links.links(trace, markers, shapes, keys, args)

    def _jax_operands(self, batch: Batch) -> tuple[dict, list, list, list[int]]:
        """The weight variables wanted (nested, flat), the model's other
        variables, and the positions of the input leaves to differentiate."""
        variables = self._weight_variables()
        flat_vars = tree.flatten(variables)
        chosen = {id(v) for v in flat_vars}
        others = [v for v in self.model.variables if id(v) not in chosen]
        floats = _float_leaves(batch.x, "input_gradients" in self._kinds)
        return variables, flat_vars, others, floats

    def _jax_compile(self, batch: Batch) -> tuple[dict, Any]:
        """(plan, compiled step) for batches of this signature.

        The plan lists the probes' shapes and which probe or floating input
        each gradient key is; the step returns `((loss, aux), gradients)`.
        """
        import jax

        _, flat_vars, others, floats = self._jax_operands(batch)

        def body(
            probe_values, float_values, var_values, other_values, x, y, sw, mark=None
        ):
            flat_x = tree.flatten(x)
            for i, value in zip(floats, float_values, strict=True):
                flat_x[i] = value
            x = tree.pack_sequence_as(x, flat_x)
            mapping = list(zip(flat_vars, var_values, strict=True))
            mapping += list(zip(others, other_values, strict=True))
            made = []

            def new_probe(tensor: Any) -> Any:
                if probe_values is None:  # learning the plan
                    made.append(ops.zeros_like(tensor))
                else:
                    made.append(probe_values[len(made)])
                return made[-1]

            with keras.StatelessScope(state_mapping=mapping):
                loss, probed, inputs, aux = self._forward(new_probe, x, y, sw, mark)
            return loss, aux, probed, inputs, made, [flat_x[i] for i in floats]

        plan: dict = {}
        markers: list[tuple[int, int]] = []  # (id(layer), call) of each marker
        marker_shapes: list[tuple] = []

        def marker(layer: Any, call: int, tensor: Any) -> Any:
            markers.append((id(layer), call))
            marker_shapes.append((tuple(tensor.shape), tensor.dtype))
            return ops.zeros_like(tensor)

        def learn(*args: Any, mark: Any = None) -> Any:
            _, _, probed, inputs, made, float_values = body(None, *args, mark=mark)
            position = {id(p): i for i, p in enumerate(made)}
            for group in ("layers", "states"):
                plan[group] = tree.map_structure(
                    lambda p: position[id(p)], probed[group]
                )
            plan["inputs"] = {}
            for k, t in inputs.items():
                if id(t) in position:
                    plan["inputs"][k] = ("probe", position[id(t)])
                else:
                    at = [id(f) for f in float_values].index(id(t))
                    plan["inputs"][k] = ("float", at)
            return made

        flat_x = tree.flatten(batch.x)
        args = (
            [flat_x[i] for i in floats],
            [v.value for v in flat_vars],
            [v.value for v in others],
            batch.x,
            batch.y,
            batch.sample_weight,
        )
        shapes = jax.eval_shape(functools.partial(learn, mark=marker), *args)
        if self._links is None:
            self._links = self._jax_links(body, markers, marker_shapes, args)
            shapes = jax.eval_shape(learn, *args)  # the plan, with the links
        plan["probes"] = [(tuple(s.shape), s.dtype) for s in shapes]

        def loss_fn(probe_values, float_values, var_values, other_values, x, y, sw):
            loss, aux, *_ = body(
                probe_values, float_values, var_values, other_values, x, y, sw
            )
            return loss, aux

        step = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1, 2), has_aux=True))
        return plan, step


def _continued(records: dict, refs: Sequence[Any]) -> bool:
    """Whether a captured layer was called again with an initial state."""
    return any(any(call.initial for call in records[id(ref.layer)][1:]) for ref in refs)


def _float_leaves(x: Any, wanted: bool) -> list[int]:
    """Indices of the floating leaves of `x` to differentiate by."""
    if not wanted:
        return []
    return [i for i, t in enumerate(tree.flatten(x)) if is_floating(t)]


@contextlib.contextmanager
def _requiring_grad(variables: Sequence[Any]) -> Iterator[None]:
    """Within the block, every variable's torch parameter requires grad (a
    frozen layer's weights too); the flags are restored afterwards."""
    saved = [(v.value, v.value.requires_grad) for v in variables]
    try:
        for value, _ in saved:
            value.requires_grad_(True)
        yield
    finally:
        for value, flag in saved:
            value.requires_grad_(flag)
