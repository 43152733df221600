"""The capture pass on the TensorFlow backend (and tf_keras's forward).

`GradientCapture` traces a `tf.function` once per input signature. Inside it
the model runs in inference mode under a `tf.GradientTape`, with a zero probe
added to the output of each chosen layer (see `probes`); the model's own
`compute_loss` gives the loss, and one `tape.gradient` call returns the
gradient for every probe and every floating-point input together.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from tb_rnngrad.capture import distribution, loss_scale, probes, unrolled, weights
from tb_rnngrad.capture.data import Batch, prepare_batch
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.forward import (
    CaptureBase,
    capture_error_in,
    failure_message,
)
from tb_rnngrad.capture.layers import LayerSelector
from tb_rnngrad.capture.preserved_state import preserved_state
from tb_rnngrad.result import CaptureResult


class _OwnRetracingFilter(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning about
    `_forward_backward`: TensorFlow counts traces per Python function, over all
    captures, and each capture (one per model, layer set and kinds) traces on
    its first call by design, so the warning would blame the user for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            "triggered tf.function retracing" in message
            and "GradientCapture._forward_backward" in message
        )


tf.get_logger().addFilter(_OwnRetracingFilter())


class GradientCapture(CaptureBase):
    """A compiled forward+backward pass for one model, layer set and kinds.

    Calling it twice with batches of the same shapes and dtypes reuses one
    trace. Weights are read when it runs, so it follows training.

    Args:
        model: A compiled Keras model.
        layers: None for every recurrent layer, or names, indices into
            `model.layers` or layer objects (see `resolve_layers`).
        kinds: Which tensors to return: any of `KINDS` ("gradients",
            "activations", "input_gradients", "state_gradients",
            "weight_contributions", "weights", "weight_gradients").

    Raises:
        CaptureError: If the model is not compiled, a layer is unknown, a
            state kind is requested for a layer that is not recurrent, or a
            kind is unknown.
    """

    def __init__(
        self,
        model: keras.Model,
        layers: LayerSelector | Sequence[LayerSelector] | None = None,
        kinds: Sequence[str] = ("gradients",),
    ) -> None:
        super().__init__(model, layers, kinds)
        self._scales_loss = loss_scale.scales_loss(model)
        # No autograph, as in Keras's own train step: the trace is several
        # times faster, and a model that trains traces the same way here.
        self._fn = tf.function(
            self._forward_backward, reduce_retracing=True, autograph=False
        )

    @property
    def trace_count(self) -> int:
        """How many times the compiled function has been traced."""
        return self._fn.experimental_get_tracing_count()

    def run(self, batch: Batch) -> CaptureResult:
        """Runs the capture on a batch already checked by `prepare_batch`.

        With a loss-scaling optimizer (mixed precision) the backward pass runs
        on the scaled loss, as in training; if that overflows somewhere, it
        runs again unscaled, so that an overflow of the scale is not reported
        as an exploding gradient.
        """
        out = self._scaled_call(batch, raw_terms=False)
        return self._result(batch, out)

    def timestep_terms(
        self, x: Any, y: Any, sample_weight: Any = None
    ) -> dict[str, dict[str, Any]]:
        """Each timestep's raw term of each recurrent weight's gradient.

        The figures behind "weight_contributions", before the norm, for
        checking: summed over timesteps, a term is the weight's gradient.
        Needs "weight_contributions" among the kinds.

        Args:
            x, y, sample_weight: One batch, as for `__call__`.

        Returns:
            `{cell key: {weight: (timesteps, *weight.shape) float32 array}}`.
        """
        out = self._scaled_call(prepare_batch(self.model, x, y, sample_weight), True)
        return {
            key: {name: _joined_terms(key, term) for name, term in terms.items()}
            for key, terms in out["weight_contributions"].items()
        }

    def _scaled_call(self, batch: Batch, raw_terms: bool) -> dict:
        out = self._call(batch, self._scales_loss, raw_terms)
        if self._scales_loss and not loss_scale.all_finite(
            [out[kind] for kind in _GRADIENT_KINDS]
        ):
            out = self._call(batch, False, raw_terms)
        return out

    def _call(self, batch: Batch, scale_loss: bool, raw_terms: bool) -> dict:
        try:
            return distribution.single_device(
                self._fn, batch.x, batch.y, batch.sample_weight, scale_loss, raw_terms
            )
        except Exception as error:
            raised = capture_error_in(error)
            if raised is not None:
                raise CaptureError(str(raised)) from None
            if isinstance(error, _BATCH_ERRORS):
                raise CaptureError(failure_message(self.model, batch, error)) from error
            raise

    def _forward_backward(
        self, x: Any, y: Any, sample_weight: Any, scale_loss: bool, raw_terms: bool
    ) -> dict:
        """The traced body: forward with probes, loss, one backward pass, then
        the per-timestep weight terms from what the pass recorded."""
        model = self.model
        scale = loss_scale.factor(model) if scale_loss else None
        floats, _, probe_embeddings = self._plan_inputs(x)
        targets = self._targets(probe_embeddings)
        wants_weights = any(k in self._kinds for k in weights.WEIGHT_KINDS)
        if wants_weights:  # when tracing: the weights exist once the model is built
            self._weight_cells, self._weight_notes = weights.cells(self._refs)
        variables = (
            weights.variables(self._weight_cells)
            if "weight_gradients" in self._kinds
            else {}
        )
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            new_probe = _watched_zeros(tape)
            tape.watch(tf.nest.flatten(variables))
            if "input_gradients" in self._kinds:
                for i in floats:
                    tape.watch(tf.nest.flatten(x)[i])
            with preserved_state(model):
                with (  # a free cell's state probes go inside its output probe
                    self._recurrence.attach(new_probe) as state_records,
                    probes.attach(new_probe, targets) as records,
                ):
                    y_pred = model(x, training=False)
                loss = self._loss(x, y, y_pred, sample_weight)
                target = loss_scale.scaled(loss, scale)
        masks, watched, activations, steps = self._layer_tensors(records)
        inputs, input_masks = self._input_tensors(x, floats, records, probe_embeddings)
        state_records = self._recurrence.records(state_records, self._counts(records))
        if "gradients" not in self._kinds:
            watched = {}
        sources = {
            "layers": watched,
            "inputs": inputs,
            "states": self._recurrence.probes(state_records, self._layout),
            "weights": variables,
        }
        grads = tape.gradient(
            target, sources, unconnected_gradients=tf.UnconnectedGradients.NONE
        )
        # Known when tracing: outputs that no path from the loss reaches.
        self._check_used(grads["layers"], grads["states"])
        grads = tf.nest.map_structure(
            lambda g, s: tf.zeros_like(s) if g is None else g, grads, sources
        )
        states = self._recurrence.entries(
            state_records, grads["states"], raw_terms, self._layout
        )
        out = {
            "gradients": grads["layers"],
            "input_gradients": grads["inputs"],
            "state_gradients": states["state_gradients"],
            "weight_contributions": states["weight_contributions"],
            "weight_gradients": weights.split_rows(grads["weights"]),
        }
        if self._scales_loss:  # float32 whether or not this pass was scaled
            out = loss_scale.unscaled_float32(out, scale)
        return {
            **out,
            "gate_activations": states["gate_activations"],  # never loss-scaled
            "loss": loss,
            "masks": masks,
            "steps": steps,
            "activations": activations if "activations" in self._kinds else {},
            "input_masks": input_masks,
            "weights": (
                weights.values(self._weight_cells) if "weights" in self._kinds else {}
            ),
        }


def _joined_terms(key: str, term: Any) -> Any:
    """A term as NumPy; a stacked entry's per-call terms joined along time."""
    if isinstance(term, list):
        return unrolled.stack(key, [t.numpy() for t in term], 0, "weight terms")
    return term.numpy()


_BATCH_ERRORS = (ValueError, TypeError, tf.errors.InvalidArgumentError)
_GRADIENT_KINDS = (
    "gradients",
    "input_gradients",
    "state_gradients",
    "weight_contributions",
    "weight_gradients",
)


def _watched_zeros(tape: tf.GradientTape) -> probes.NewProbe:
    """Probes for `probes.attach`: zeros that `tape` watches."""

    def new_probe(tensor: tf.Tensor) -> tf.Tensor:
        probe = tf.zeros_like(tensor)
        tape.watch(probe)
        return probe

    return new_probe
