"""One compiled forward and backward pass that captures recurrent-layer gradients.

`GradientCapture` traces a `tf.function` once per input signature. Inside it
the model runs in inference mode under a `tf.GradientTape`, with a zero probe
added to the output of each chosen layer (see `probes`); the model's own
`compute_loss` gives the loss, and one `tape.gradient` call returns the
gradient for every probe and every floating-point input together.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from tb_rnngrad.capture import distribution, loss_scale, probes, weights
from tb_rnngrad.capture.data import Batch, input_names_for, input_specs, prepare_batch
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.layers import (
    LayerRef,
    LayerSelector,
    describe_choices,
    is_recurrent,
    layers_of_type,
    not_a_sequence,
    recurrent_layers,
    resolve_layers,
)
from tb_rnngrad.capture.recurrence import Recurrence
from tb_rnngrad.capture.state import preserved_state
from tb_rnngrad.format.layer_info import describe_layer
from tb_rnngrad.result import KINDS, CaptureResult, GradientDict

_PARTS = ("forward", "backward")


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


def check_model(model: Any) -> None:
    """Raises CaptureError unless `model` is a compiled Keras model with a loss.

    Args:
        model: The object to check.

    Raises:
        CaptureError: If it is not a `keras.Model`, is not compiled, or was
            compiled without a loss.
    """
    if not isinstance(model, keras.Model):
        raise CaptureError(
            f"Expected a keras.Model; got {type(model).__name__}. Pass the "
            "Keras model whose recurrent layers you want to inspect."
        )
    if not getattr(model, "compiled", False):
        raise CaptureError(
            f"Model '{model.name}' is not compiled. Call "
            "model.compile(optimizer=..., loss=...) first: the gradients are "
            "those of the model's compiled loss."
        )
    overrides_loss = type(model).compute_loss is not keras.Model.compute_loss
    if getattr(model, "loss", None) is None and not overrides_loss:
        raise CaptureError(
            f"Model '{model.name}' was compiled without a loss. Call "
            "model.compile(optimizer=..., loss=...) with the loss you train with."
        )


def check_kinds(kinds: Sequence[str] | str) -> tuple[str, ...]:
    """Validates `kinds` and returns it as a tuple without duplicates.

    Raises:
        CaptureError: If a kind is unknown or none is given.
    """
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise CaptureError(
            f"kinds must be a non-empty list drawn from {KINDS}; got {list(kinds)}."
        )
    return kinds


class GradientCapture:
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
        check_model(model)
        self._kinds = check_kinds(kinds)
        self._model_ref = weakref.ref(model)
        self._refs = resolve_layers(model, layers)
        self._recurrence = Recurrence(self._refs, self._kinds)
        self._unused_outputs: tuple[str, ...] = ()
        self._weight_cells: list = []
        self._weight_notes: list[str] = []
        wants_inputs = "input_gradients" in self._kinds
        self._embeddings = (
            layers_of_type(model, keras.layers.Embedding) if wants_inputs else []
        )
        self._maskings = (
            layers_of_type(model, keras.layers.Masking) if wants_inputs else []
        )
        signature = inspect.signature(model.compute_loss).parameters
        self._loss_takes_training = "training" in signature
        self._scales_loss = loss_scale.scales_loss(model)
        # No autograph, as in Keras's own train step: the trace is several
        # times faster, and a model that trains traces the same way here.
        self._fn = tf.function(
            self._forward_backward, reduce_retracing=True, autograph=False
        )

    @property
    def model(self) -> keras.Model:
        """The model (held weakly so caches do not keep it alive)."""
        model = self._model_ref()
        if model is None:
            raise CaptureError("The model of this GradientCapture was deleted.")
        return model

    @property
    def layers(self) -> list[LayerRef]:
        """The captured layers with their result keys."""
        return list(self._refs)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds this capture returns."""
        return self._kinds

    @property
    def trace_count(self) -> int:
        """How many times the compiled function has been traced."""
        return self._fn.experimental_get_tracing_count()

    def __call__(self, x: Any, y: Any, sample_weight: Any = None) -> CaptureResult:
        """Runs the capture on one batch.

        Args:
            x: Model inputs (array, list or dict), as for `model.fit`.
            y: Targets, as for `model.fit`.
            sample_weight: Optional sample weights, as for `model.fit`.

        Returns:
            The captured tensors as NumPy arrays.

        Raises:
            CaptureError: If the batch does not match the model, or running
                the model and its loss on it fails.
        """
        return self.run(prepare_batch(self.model, x, y, sample_weight))

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
            key: {name: term.numpy() for name, term in terms.items()}
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
            raised = _capture_error_in(error)
            if raised is not None:
                raise CaptureError(str(raised)) from None
            if isinstance(error, _BATCH_ERRORS):
                raise CaptureError(
                    _failure_message(self.model, batch, error)
                ) from error
            raise

    def _plan_inputs(self, x: Any) -> tuple[list[int], list[str], bool]:
        """(indices of float leaves, notes, whether to probe Embedding layers)."""
        flat = tf.nest.flatten(x)
        names = input_names_for(self.model, x)
        floats = [i for i, t in enumerate(flat) if t.dtype.is_floating]
        ints = [names[i] for i, t in enumerate(flat) if not t.dtype.is_floating]
        notes = []
        probe_embeddings = bool(ints) and bool(self._embeddings)
        if ints and "input_gradients" in self._kinds:
            if self._embeddings:
                emb = ", ".join(f"'{r.key}'" for r in self._embeddings)
                notes.append(
                    f"Input(s) {ints} are integer-typed (token ids) and have no "
                    f"gradient; input gradients are taken w.r.t. the output of "
                    f"Embedding layer(s) {emb} instead."
                )
            else:
                notes.append(
                    f"Input(s) {ints} are integer-typed and have no gradient, "
                    "and the model has no Embedding layer to take it at: no "
                    "input gradient for them."
                )
        return floats, notes, probe_embeddings

    def _targets(self, probe_embeddings: bool) -> list[tuple[LayerRef, str]]:
        targets = [(ref, probes.PROBE) for ref in self._refs]
        if "input_gradients" in self._kinds:
            if probe_embeddings:
                targets += [(ref, probes.PROBE) for ref in self._embeddings]
            targets += [(ref, probes.MASK) for ref in self._maskings]
        return targets

    def _loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any) -> tf.Tensor:
        kwargs = {"x": x, "y": y, "y_pred": y_pred, "sample_weight": sample_weight}
        if self._loss_takes_training:
            kwargs["training"] = False
        loss = self.model.compute_loss(**kwargs)
        if loss is None:
            raise CaptureError(
                f"model.compute_loss returned None for model '{self.model.name}'; "
                "compile it with the loss you train with."
            )
        return loss

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
            tape.watch(tf.nest.flatten(variables))
            if "input_gradients" in self._kinds:
                for i in floats:
                    tape.watch(tf.nest.flatten(x)[i])
            with preserved_state(model):
                with (
                    probes.attach(tape, targets) as records,
                    self._recurrence.attach(tape) as state_records,
                ):
                    y_pred = model(x, training=False)
                loss = self._loss(x, y, y_pred, sample_weight)
                target = loss_scale.scaled(loss, scale)
        masks, watched, activations = self._layer_tensors(records)
        inputs, input_masks = self._input_tensors(x, floats, records, probe_embeddings)
        state_records = self._recurrence.records(state_records)
        if "gradients" not in self._kinds:
            watched = {}
        sources = {
            "layers": watched,
            "inputs": inputs,
            "states": {k: r.probes for k, r in state_records.items()},
            "weights": variables,
        }
        grads = tape.gradient(
            target, sources, unconnected_gradients=tf.UnconnectedGradients.NONE
        )
        # Known when tracing: outputs that no path from the loss reaches.
        self._unused_outputs = tuple(k for k, g in grads["layers"].items() if g is None)
        grads = tf.nest.map_structure(
            lambda g, s: tf.zeros_like(s) if g is None else g, grads, sources
        )
        states = self._recurrence.entries(state_records, grads["states"], raw_terms)
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
            "loss": loss,
            "masks": masks,
            "activations": activations if "activations" in self._kinds else {},
            "input_masks": input_masks,
            "weights": (
                weights.values(self._weight_cells) if "weights" in self._kinds else {}
            ),
        }

    def _layer_tensors(self, records: dict) -> tuple[dict, dict, dict]:
        """(masks, probes, outputs) per entry key of the captured layers."""
        masks, watched, outputs = {}, {}, {}
        for ref in self._refs:
            record = _single_call(self.model, ref, records)
            shape = tuple(record.outputs[0].shape)
            if not is_recurrent(ref.layer) and len(shape) != 3:
                choices = describe_choices(recurrent_layers(self.model))
                raise not_a_sequence(self.model, ref.layer, shape, choices)
            for (key, _), probe, output in zip(
                _entries(ref), record.probes, record.outputs, strict=True
            ):
                masks[key] = record.mask
                watched[key] = probe
                outputs[key] = output
        return masks, watched, outputs

    def _input_tensors(
        self, x: Any, floats: list[int], records: dict, probe_embeddings: bool
    ) -> tuple[dict, dict]:
        """(tensors to differentiate, their masks) for the input gradients."""
        if "input_gradients" not in self._kinds:
            return {}, {}
        flat_x = tf.nest.flatten(x)
        names = input_names_for(self.model, x)
        masking = [r.mask for ref in self._maskings for r in records[id(ref.layer)]]
        single_float = len(floats) == 1 and len(flat_x) == 1
        inputs, masks = {}, {}
        for i in floats:
            inputs[names[i]] = flat_x[i]
            masks[names[i]] = masking[0] if masking and single_float else None
        if probe_embeddings:
            for ref in self._embeddings:
                calls = records[id(ref.layer)]  # a shared Embedding: one per call
                for n, record in enumerate(calls):
                    key = ref.key if len(calls) == 1 else f"{ref.key}/call_{n}"
                    inputs[key] = record.probes[0]
                    masks[key] = record.mask
        return inputs, masks

    def _result(self, batch: Batch, out: dict) -> CaptureResult:
        _, notes, _ = self._plan_inputs(batch.x)

        def arrays(values: dict) -> dict:
            return {k: None if v is None else v.numpy() for k, v in values.items()}

        names = set(input_names_for(self.model, batch.x))
        sources = {
            key: "input" if key in names else "embedding"
            for key in out["input_gradients"]
        }
        described = {
            key: describe_layer(ref.layer, part)
            for ref in self._refs
            for key, part in _entries(ref)
        }
        return CaptureResult(
            loss=float(out["loss"].numpy()),
            gradients=arrays(out["gradients"]),
            activations=arrays(out["activations"]),
            masks=arrays(out["masks"]),
            input_gradients=arrays(out["input_gradients"]),
            input_masks=arrays(out["input_masks"]),
            input_sources=sources,
            layers=described,
            notes=tuple(
                notes
                + self._recurrence.notes()
                + self._weight_notes
                + _unused_notes(self._unused_outputs)
            ),
            unused_outputs=self._unused_outputs,
            state_gradients=arrays(out["state_gradients"]),
            weight_contributions={
                key: arrays(terms) for key, terms in out["weight_contributions"].items()
            },
            weights={key: arrays(v) for key, v in out["weights"].items()},
            weight_gradients={
                key: arrays(v) for key, v in out["weight_gradients"].items()
            },
            gates={**weights.gates(self._weight_cells), **self._recurrence.gates()},
        )


def _unused_notes(keys: Sequence[str]) -> list[str]:
    return [
        f"The output of layer '{key}' is not used downstream (e.g. an encoder "
        "whose returned states alone feed a decoder), so d(loss)/d(output) is "
        "zero. Its state gradient (kinds=('state_gradients',)) holds the paths "
        "through the states it returns."
        for key in keys
    ]


_BATCH_ERRORS = (ValueError, TypeError, tf.errors.InvalidArgumentError)
_GRADIENT_KINDS = (
    "gradients",
    "input_gradients",
    "state_gradients",
    "weight_contributions",
    "weight_gradients",
)


def _capture_error_in(error: BaseException) -> CaptureError | None:
    """The CaptureError raised while tracing, which TensorFlow re-raises wrapped."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, CaptureError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _entries(ref: LayerRef) -> list[tuple[str, str | None]]:
    """`[(key, part)]`: one entry, or forward/backward halves."""
    if probes.probed_output_count(ref.layer) == 2:
        return [(f"{ref.key}/{part}", part) for part in _PARTS]
    return [(ref.key, None)]


def _single_call(
    model: keras.Model, ref: LayerRef, records: dict[int, list[probes.Record]]
) -> probes.Record:
    calls = records[id(ref.layer)]
    if not calls:
        raise CaptureError(
            f"Layer '{ref.key}' was not called when model '{model.name}' ran on "
            "x, so its output has no gradient. Choose a layer the model uses."
        )
    if len(calls) > 1:
        raise CaptureError(
            f"Layer '{ref.key}' is called {len(calls)} times in one forward pass "
            f"of model '{model.name}' (a shared layer), so 'the gradient w.r.t. "
            "its output' is ambiguous. Choose a layer that is called once."
        )
    return calls[0]


def _shapes(structure: Any) -> Any:
    return tf.nest.map_structure(
        lambda t: None if t is None else f"{tuple(t.shape)} {t.dtype.name}", structure
    )


def _failure_message(model: keras.Model, batch: Batch, error: Exception) -> str:
    specs = input_specs(model)
    expected = (
        ", ".join(f"'{s.name}' {s.shape} {s.dtype}" for s in specs)
        if specs
        else "not declared"
    )
    return (
        f"Running model '{model.name}' and its compiled loss on the given batch "
        f"failed. Given: x {_shapes(batch.x)}, y {_shapes(batch.y)}, "
        f"sample_weight {_shapes(batch.sample_weight)}. Model inputs: {expected}. "
        "Pass one batch of the same x, y (and sample_weight) you give to "
        f"model.fit.\nThe error was: {error}"
    )


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_PER_MODEL = 8


def get_capture(
    model: keras.Model,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
    kinds: Sequence[str] = ("gradients",),
) -> GradientCapture:
    """The cached `GradientCapture` for this model, layer set and kinds.

    The cache holds the model weakly and is keyed also by the compiled loss
    and optimizer, so recompiling the model gives a fresh trace.

    Args:
        model: A compiled Keras model.
        layers: The layer selection, as for `GradientCapture`.
        kinds: The kinds, as for `GradientCapture`.

    Returns:
        A `GradientCapture`, traced at most once per input signature.

    Raises:
        CaptureError: As `GradientCapture`.
    """
    check_model(model)
    kinds = check_kinds(kinds)
    refs = resolve_layers(model, layers)
    key = (
        tuple(id(r.layer) for r in refs),
        kinds,
        id(model.loss),
        id(getattr(model, "optimizer", None)),
    )
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        if len(per_model) >= _CACHE_PER_MODEL:
            per_model.pop(next(iter(per_model)))
        per_model[key] = GradientCapture(model, [r.layer for r in refs], kinds)
    return per_model[key]


def capture(
    model: keras.Model,
    x: Any,
    y: Any,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
    kinds: Sequence[str] = ("gradients",),
    sample_weight: Any = None,
) -> CaptureResult:
    """Gradients, activations and masks of recurrent layers on one batch.

    One forward and one backward pass in inference mode (training=False),
    using the model's compiled loss (with its reduction, loss weights and
    sample weights). Compiled once per model, layer set, kinds and input
    signature.

    Args:
        model: A compiled Keras model.
        x: Model inputs for one batch, as for `model.fit`.
        y: Targets for the batch, as for `model.fit`.
        layers: None for every recurrent layer (searched through nested
            models; a Bidirectional layer counts once), or a name, an index
            into `model.layers`, a layer object, or a list of these.
        kinds: Any of "gradients", "activations", "input_gradients",
            "state_gradients", "weight_contributions", "weights",
            "weight_gradients" (see `CaptureResult`).
        sample_weight: Optional sample weights, as for `model.fit`.

    Returns:
        A `CaptureResult`.

    Raises:
        CaptureError: With a message saying what to change, if the model is
            not compiled, a layer is unknown or not recurrent, or the batch
            does not match the model.
    """
    return get_capture(model, layers, kinds)(x, y, sample_weight)


def rnn_gradients(
    model: keras.Model,
    x: Any,
    y: Any,
    layers: LayerSelector | Sequence[LayerSelector] | None = None,
    *,
    sample_weight: Any = None,
) -> GradientDict:
    """d(loss)/d(layer output) for recurrent layers, on exactly this batch.

    The gradient w.r.t. a layer's output contains only the paths through the
    layers after it: read right to left along the time axis it shows how far
    back the later layers carry gradient.

    Args:
        model: A compiled Keras model.
        x: Model inputs for one batch, as for `model.fit`.
        y: Targets for the batch, as for `model.fit`.
        layers: None for every recurrent layer, or a name, an index into
            `model.layers`, a layer object, or a list of these.
        sample_weight: Optional sample weights, as for `model.fit`.

    Returns:
        `{layer_key: np.ndarray}` shaped like each layer's output:
        (batch, timesteps, channels) with return_sequences=True, else
        (batch, channels). A Bidirectional layer with merge_mode="concat"
        keeps Keras's channel order (forward units first); with
        merge_mode=None it gives `<name>/forward` and `<name>/backward`.
        The dict also has `.masks` (`{key: bool (batch, timesteps) or None}`)
        and `.loss`.

    Raises:
        CaptureError: As `capture`.
    """
    result = capture(model, x, y, layers, ("gradients",), sample_weight)
    grads = GradientDict(result.gradients)
    grads.masks = dict(result.masks)
    grads.loss = result.loss
    return grads
