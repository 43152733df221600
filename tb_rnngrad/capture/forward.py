"""The Keras-level part of a capture pass, shared by every backend.

`CaptureBase` holds what a capture of one model, layer set and kinds knows
before any tensor exists (the layers, the Embedding and Masking layers for
input gradients, how to call the compiled loss) and turns what the probed
forward pass recorded into the tensors to differentiate and, after the
backward pass, into a `CaptureResult`. The backward pass itself is the
backend's: `tf.GradientTape` (`tf_pass`), `jax.vjp` or
`torch.autograd.grad` (`backend_pass`).
"""

from __future__ import annotations

import dataclasses
import inspect
import weakref
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops, tree

from tb_rnngrad.capture import chains, kerases, probes, unrolled, weights
from tb_rnngrad.capture.data import Batch, input_names_for, input_specs
from tb_rnngrad.capture.errors import CaptureError
from tb_rnngrad.capture.layers import (
    LayerRef,
    LayerSelector,
    describe_choices,
    is_cell,
    is_recurrent,
    layers_of_type,
    not_a_sequence,
    recurrent_layers,
    resolve_layers,
)
from tb_rnngrad.capture.model_check import check_kinds, check_model
from tb_rnngrad.capture.state_kinds import Layout, Recurrence
from tb_rnngrad.format.layer_info import describe_layer
from tb_rnngrad.result import CaptureResult

_PARTS = ("forward", "backward")


def is_floating(tensor: Any) -> bool:
    """Whether a tensor of any backend has a floating dtype."""
    return keras.backend.is_float_dtype(keras.backend.standardize_dtype(tensor.dtype))


class CaptureBase:
    """What every backend's capture pass shares (see the module docstring).

    Args:
        model: A compiled Keras model.
        layers: None for every recurrent layer, or names, indices into
            `model.layers` or layer objects (see `resolve_layers`).
        kinds: Which tensors to return (see `KINDS`).

    Raises:
        CaptureError: If the model is not compiled, a layer is unknown or a
            kind is unknown.
    """

    def __init__(
        self,
        model: keras.Model,
        layers: LayerSelector | Sequence[LayerSelector] | None = None,
        kinds: Sequence[str] = ("gradients",),
    ) -> None:
        self._platform = check_model(model)
        self._kinds = check_kinds(kinds, self._platform)
        self._model_ref = weakref.ref(model)
        self._refs = resolve_layers(model, layers)
        self._recurrence = Recurrence(self._refs, self._kinds)
        self._unused_outputs: tuple[str, ...] = ()
        self._layout: Layout = {}  # the entries of each layer, set by a pass
        self._links: dict | None = None  # JAX: `jax_links.Links`, once learned
        self._weight_cells: list = []
        self._weight_notes: list[str] = []
        wants_inputs = "input_gradients" in self._kinds
        self._embeddings = (
            layers_of_type(model, kerases.types("Embedding")) if wants_inputs else []
        )
        self._maskings = (
            layers_of_type(model, kerases.types("Masking")) if wants_inputs else []
        )
        signature = inspect.signature(model.compute_loss).parameters
        self._loss_takes_training = "training" in signature

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
        from tb_rnngrad.capture.data import prepare_batch

        return self.run(prepare_batch(self.model, x, y, sample_weight))

    def run(self, batch: Batch) -> CaptureResult:
        """Runs the capture on a batch already checked by `prepare_batch`."""
        raise NotImplementedError

    def _plan_inputs(self, x: Any) -> tuple[list[int], list[str], bool]:
        """(indices of float leaves, notes, whether to probe Embedding layers)."""
        flat = tree.flatten(x)
        names = input_names_for(self.model, x)
        floats = [i for i, t in enumerate(flat) if is_floating(t)]
        ints = [names[i] for i, t in enumerate(flat) if not is_floating(t)]
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

    def _loss(self, x: Any, y: Any, y_pred: Any, sample_weight: Any) -> Any:
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

    def _layer_tensors(self, records: dict) -> tuple[dict, dict, dict, dict]:
        """(masks, probes, outputs, steps) per entry key of the captured
        layers; a stacked entry's are lists with one per call (`unrolled`),
        and only stacked entries have steps (the timesteps of each call)."""
        masks, watched, outputs, steps = {}, {}, {}, {}
        layout: Layout = {}
        for ref in self._refs:
            calls = _calls(self.model, ref, records)
            shape = tuple(calls[0].outputs[0].shape)
            if not is_recurrent(ref.layer) and len(shape) != 3:
                choices = describe_choices(recurrent_layers(self.model))
                raise not_a_sequence(self.model, ref.layer, shape, choices)
            found = chains.group(ref.key, calls, self._links)
            layout[ref.key] = unrolled.entries(ref.key, found, is_cell(ref.layer))
            for entry in layout[ref.key]:
                for n, (key, _) in enumerate(_entries(ref, entry.key)):
                    masks[key] = unrolled.pick(entry, [c.mask for c in calls])
                    watched[key] = unrolled.pick(entry, [c.probes[n] for c in calls])
                    outputs[key] = unrolled.pick(entry, [c.outputs[n] for c in calls])
                    if entry.stacked:
                        steps[key] = [
                            ops.convert_to_tensor(calls[i].steps) for i in entry.calls
                        ]
        self._layout = layout
        return masks, watched, outputs, steps

    def _counts(self, records: dict) -> dict[str, int]:
        """`{layer key: how many times the pass called it}`."""
        return {ref.key: len(records[id(ref.layer)]) for ref in self._refs}

    def _check_used(self, found: dict, states: dict) -> None:
        """Sets the unused outputs from `found`, `{entry key: gradient or None
        (a list for a stacked entry)}`. A free cell none of whose calls'
        outputs (or, from `states` alike, states) the loss uses is a
        CaptureError."""
        unused = []
        for ref in self._refs:
            for entry in self._layout.get(ref.key, ()):
                for key, _ in _entries(ref, entry.key):
                    for where, given in (("outputs", found), ("states", states)):
                        if key in given and not _connected(given[key]):
                            if is_cell(ref.layer):
                                raise _unused_cell(self.model, ref, key, where)
                            if where == "outputs":
                                unused.append(key)
        self._unused_outputs = tuple(unused)

    def _input_tensors(
        self, x: Any, floats: list[int], records: dict, probe_embeddings: bool
    ) -> tuple[dict, dict]:
        """(tensors to differentiate, their masks) for the input gradients."""
        if "input_gradients" not in self._kinds:
            return {}, {}
        flat_x = tree.flatten(x)
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

        steps = {
            key: [int(ops.convert_to_numpy(n)) for n in counts]
            for key, counts in out.get("steps", {}).items()
        }
        owners = {
            key: (ref, part, entry)
            for ref in self._refs
            for entry in self._layout.get(ref.key, ())
            for key, part in _entries(ref, entry.key)
        }
        backwards = {
            key for key, (ref, _, _) in owners.items() if _goes_backwards(ref.layer)
        }
        join = unrolled.Joiner(steps, backwards, batch.size)
        names = set(input_names_for(self.model, batch.x))
        sources = {
            key: "input" if key in names else "embedding"
            for key in out["input_gradients"]
        }
        described, mixed = self._described(owners, steps)
        return CaptureResult(
            loss=float(ops.convert_to_numpy(out["loss"])),
            gradients=join.outputs(out["gradients"]),
            activations=join.outputs(out["activations"]),
            masks=join.masks(out["masks"]),
            input_gradients=join.along(out["input_gradients"], 1, "gradients"),
            input_masks=join.along(out["input_masks"], 1, "masks"),
            input_sources=sources,
            layers=described,
            notes=tuple(
                notes
                + mixed
                + self._recurrence.notes()
                + self._weight_notes
                + _unused_notes(self._unused_outputs)
            ),
            unused_outputs=self._unused_outputs,
            state_gradients=join.along(out["state_gradients"], 1, "state gradients"),
            weight_contributions={
                key: join.along(by_weight, 0, "weight terms")
                for key, by_weight in out["weight_contributions"].items()
            },
            gate_activations={
                key: join.along(by_band, 0, "gate activations")
                for key, by_band in out["gate_activations"].items()
            },
            activation_gates=self._recurrence.activation_gates(self._layout),
            weights={
                key: join.along(v, 0, "weights") for key, v in out["weights"].items()
            },
            weight_gradients={
                key: join.along(v, 0, "weights")
                for key, v in out["weight_gradients"].items()
            },
            gates={
                **weights.gates(self._weight_cells),
                **self._recurrence.gates(self._layout),
            },
        )

    def _described(self, owners: dict, steps: dict) -> tuple[dict, list[str]]:
        """(`{key: LayerInfo}` of every entry, and of a shared layer's own key;
        the notes on chains that mix calls of several timesteps)."""
        described, notes = {}, []
        for key, (ref, part, entry) in owners.items():
            info = describe_layer(ref.layer, part)
            if entry.stacked:
                info = dataclasses.replace(info, call_timesteps=tuple(steps[key]))
                notes.append(unrolled.note(key, ref.key, steps[key]))
            described[key] = info
        for ref in self._refs:  # the owner of a shared layer's weight entries
            if len(self._layout.get(ref.key, ())) > 1:
                described.setdefault(ref.key, describe_layer(ref.layer))
        return described, [text for text in notes if text]


def _goes_backwards(layer: keras.layers.Layer) -> bool:
    return bool(getattr(layer, "go_backwards", False))


def _unused_notes(keys: Sequence[str]) -> list[str]:
    return [
        f"The output of layer '{key}' is not used downstream (e.g. an encoder "
        "whose returned states alone feed a decoder), so d(loss)/d(output) is "
        "zero. Its state gradient (kinds=('state_gradients',)) holds the paths "
        "through the states it returns."
        for key in keys
    ]


def capture_error_in(error: BaseException) -> CaptureError | None:
    """The CaptureError raised while tracing, which TensorFlow re-raises wrapped."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, CaptureError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _entries(ref: LayerRef, base: str) -> list[tuple[str, str | None]]:
    """`[(key, part)]` of the entry `base` of `ref`: one entry, or
    forward/backward halves."""
    if probes.probed_output_count(ref.layer) == 2:
        return [(f"{base}/{part}", part) for part in _PARTS]
    return [(base, None)]


def _calls(
    model: keras.Model, ref: LayerRef, records: dict[int, list[probes.Record]]
) -> list[probes.Record]:
    calls = records[id(ref.layer)]
    if not calls:
        raise CaptureError(
            f"Layer '{ref.key}' ({type(ref.layer).__name__}) was called 0 times "
            f"when model '{model.name}' ran on x, so it has no output and no "
            "gradient. Choose a layer or cell the model calls in its forward "
            "pass (with training=False), or leave it out of `layers=`."
        )
    return calls


def _connected(value: Any) -> bool:
    """Whether any gradient of an entry (a list for a stacked one) exists."""
    values = value if isinstance(value, list) else [value]
    return any(g is not None for g in values)


def _unused_cell(
    model: keras.Model, ref: LayerRef, key: str, what: str
) -> CaptureError:
    return CaptureError(
        f"Cell '{ref.key}' ({type(ref.layer).__name__}) of model "
        f"'{model.name}' runs (entry '{key}'), but the loss uses none of its "
        f"{what}, so every gradient of it would be zero. Make the loss depend "
        "on the cell's output, or leave it out of `layers=`."
    )


def _shapes(structure: Any) -> Any:
    def text(t: Any) -> str | None:
        if t is None:
            return None
        return f"{tuple(t.shape)} {keras.backend.standardize_dtype(t.dtype)}"

    return tree.map_structure(text, structure)


def failure_message(model: keras.Model, batch: Batch, error: Exception) -> str:
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
