"""Summary ops that log per-timestep tensors of recurrent layers.

Each call writes, at one step, three time series (DESIGN: event format):

- `<name>`: the full tensor as a one- or two-element blob sequence (plugin
  "rnngrad"): the `.npy` bytes of the data, then those of the mask if given;
- `<name>/profile`: a float32 (3, timesteps) tensor (plugin "rnngrad_profile"):
  per-timestep L2 norm over batch and channels, NaN count, Inf count;
- `<name>/reach`: the gradient reach as an ordinary scalar (rank-3 data only).

TensorFlow is imported when an op runs, so that `gradients_pb` and friends work
without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tb_rnngrad.format import metadata, npy_format, validation


def gradients(
    name: str,
    data: Any,
    step: int | None = None,
    *,
    layer: Any = None,
    description: str | None = None,
    mask: Any = None,
    reach_threshold: float = metadata.DEFAULT_REACH_THRESHOLD,
) -> Any:
    """Logs d(loss)/d(layer output) of a recurrent layer.

    The gradient w.r.t. a layer's returned sequence holds only the paths
    through the layers after it.

    Args:
      name: Tag of the full tensor, inside any enclosing `tf.name_scope`.
      data: Tensor or array of shape (batch, timesteps, channels) or (batch,
        channels); float16, float32 and float64 are stored as given, bfloat16
        as float32 (exactly). NaN and Inf are stored as logged.
      step: Training step; defaults to `tf.summary.experimental.get_step()`.
      layer: A Keras layer, `LayerInfo` or dict recorded in the metadata.
      description: Markdown description shown in TensorBoard.
      mask: Optional (batch, timesteps) bool array, True for valid timesteps.
      reach_threshold: Relative threshold of the reach scalar: the reach is the
        largest lag k, counted back from the last timestep, at which the
        per-timestep norm is at least this fraction of its maximum
        (`tb_rnngrad.format.stats.reach`).

    Returns:
      A boolean tensor, True if the data was written (a default writer exists).

    Raises:
      TypeError: `data` is not real floating, or `mask` not bool.
      ValueError: `data` is not of rank 2 or 3, has an empty dimension, the
        mask shape disagrees, or no step is given nor set.
    """
    return write(
        "gradients",
        name,
        data,
        step,
        layer=layer,
        description=description,
        mask=mask,
        reach_threshold=reach_threshold,
    )


def activations(name: str, data: Any, step: int | None = None, **options: Any) -> Any:
    """Logs a recurrent layer's outputs; arguments as in `gradients`."""
    return write("activations", name, data, step, **options)


def input_gradients(
    name: str, data: Any, step: int | None = None, **options: Any
) -> Any:
    """Logs d(loss)/d(model input), how far back the whole network reaches.

    Arguments as in `gradients`.
    """
    return write("input_gradients", name, data, step, **options)


def state_gradients(
    name: str, data: Any, step: int | None = None, **options: Any
) -> Any:
    """Logs the total d(loss)/d(h_t) of a recurrent layer's hidden state.

    Through every path, the layer's own recurrence included: read right to
    left, it shows whether gradient survives backpropagation through time
    inside the layer. Arguments as in `gradients`.
    """
    return write("state_gradients", name, data, step, **options)


def cell_state_gradients(
    name: str, data: Any, step: int | None = None, **options: Any
) -> Any:
    """Logs the total d(loss)/d(c_t) of an LSTM's cell state.

    Arguments as in `gradients`.
    """
    return write("cell_state_gradients", name, data, step, **options)


def weight_contributions(
    name: str,
    data: Any,
    step: int | None = None,
    *,
    weights: Sequence[str],
    gates: Sequence[str],
    **options: Any,
) -> Any:
    """Logs each timestep's share of a recurrent layer's weight update.

    Args:
      name: Tag of the full tensor.
      data: (weights, timesteps, gates): the norm of timestep t's term of each
        weight's batch gradient, per gate.
      step: Training step, as in `gradients`.
      weights: Names of axis 0, e.g. ("kernel", "recurrent_kernel", "bias").
      gates: Names of axis 2 in Keras's column order, e.g. ("i", "f", "c", "o").
      **options: `layer`, `description`, `reach_threshold` as in `gradients`.

    Returns:
      A boolean tensor, True if the data was written.
    """
    return write(
        "weight_contributions", name, data, step, weights=weights, gates=gates,
        **options,
    )  # fmt: skip


def write(
    kind: str,
    name: str,
    data: Any,
    step: int | None = None,
    *,
    layer: Any = None,
    description: str | None = None,
    mask: Any = None,
    reach_threshold: float = metadata.DEFAULT_REACH_THRESHOLD,
    weights: Sequence[str] = (),
    gates: Sequence[str] = (),
) -> Any:
    """Writes a tensor of the given `kind` (one of `metadata.KINDS`).

    Arguments as in `gradients`; `weights` and `gates` as in
    `weight_contributions`.
    """
    import tensorflow as tf

    if step is None and tf.summary.experimental.get_step() is None:
        raise ValueError(
            f"no step given for rnngrad summary {name!r}: pass step=... or call "
            "tf.summary.experimental.set_step(step) first."
        )
    with tf.summary.experimental.summary_scope(
        name, "rnngrad_summary", values=[data, mask, step]
    ) as (tag, _):
        tensor = _checked_tensor(tf, data)
        mask_tensor = _checked_mask(tf, mask, tensor)
        series = metadata.create_summary_metadata(
            tag,
            kind=kind,
            layer=layer,
            shape=tuple(-1 if d is None else d for d in tensor.shape),
            dtype=tensor.dtype.name,
            has_mask=mask_tensor is not None,
            reach_threshold=reach_threshold,
            description=description,
            weights=weights,
            gates=gates,
        )
        blobs = [_npy_string(tf, tensor)]
        if mask_tensor is not None:
            blobs.append(_npy_string(tf, mask_tensor))
        written = _write(tf, series.full_tensor, tf.stack(blobs), step)
        profile = _profile(tf, tensor)
        _write(tf, series.profile, profile, step)
        if series.reach is not None:
            _write(tf, series.reach, _reach(tf, profile[0], reach_threshold), step)
        return written


def _write(tf: Any, series: metadata.Series, tensor: Any, step: Any) -> Any:
    return tf.summary.write(series.tag, tensor, step=step, metadata=series.metadata)


def _checked_tensor(tf: Any, data: Any) -> Any:
    validation.reject_mapping(data)
    tensor = tf.convert_to_tensor(data)
    rank = tensor.shape.rank
    validation.check_tensor_spec(
        None if rank is None else tuple(tensor.shape), tensor.dtype.name
    )
    if tensor.dtype == tf.bfloat16:
        tensor = tf.cast(tensor, tf.float32)
    return tensor


def _checked_mask(tf: Any, mask: Any, tensor: Any) -> Any:
    if mask is None:
        return None
    mask_tensor = tf.convert_to_tensor(mask)
    validation.check_mask_spec(
        tuple(mask_tensor.shape), mask_tensor.dtype.name, tuple(tensor.shape)
    )
    return mask_tensor


def _raw_bytes(tf: Any, tensor: Any) -> Any:
    """The tensor's elements as a byte string in host order, C layout.

    `serialize_tensor` stores POD tensors in `TensorProto.tensor_content`, the
    last field written, so the data is the tail of the serialized proto.
    """
    serialized = tf.io.serialize_tensor(tensor)
    nbytes = tf.size(tensor, out_type=tf.int32) * tensor.dtype.size
    return tf.strings.substr(serialized, tf.strings.length(serialized) - nbytes, nbytes)


def _npy_string(tf: Any, tensor: Any) -> Any:
    """`.npy` bytes of `tensor`, byte-identical to `npy_format.encode`."""
    descr = npy_format.DESCR[tensor.dtype.name]
    dims = tf.strings.reduce_join(
        tf.strings.as_string(tf.shape(tensor, out_type=tf.int64)), separator=", "
    )
    text = tf.strings.join(
        [f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (", dims, "), }"]
    )
    fixed = len(npy_format.MAGIC) + 2 + 1
    align = npy_format.ALIGN
    pad = (align - (fixed + tf.strings.length(text)) % align) % align
    text = tf.strings.join([text, tf.strings.substr(" " * align, 0, pad), "\n"])
    return tf.strings.join(
        [npy_format.MAGIC, _header_length(tf, text), text, _raw_bytes(tf, tensor)]
    )


def _header_length(tf: Any, text: Any) -> Any:
    """The 2-byte little-endian length of a padded header `text`.

    Padded headers are 64*m - 10 bytes long, so the bytes come from a table.
    """
    align, fixed = npy_format.ALIGN, len(npy_format.MAGIC) + 2
    table = [(align * m - fixed).to_bytes(2, "little") for m in range(1, 64)]
    index = (tf.strings.length(text) + fixed) // align - 1
    return tf.gather(tf.constant(table), index)


def _profile(tf: Any, tensor: Any) -> Any:
    """Same figures as `tb_rnngrad.format.stats.profile`, as TF ops."""
    data3 = tensor[:, None, :] if tensor.shape.rank == 2 else tensor
    wide = tf.cast(data3, tf.float64)
    norms = tf.sqrt(tf.reduce_sum(tf.square(wide), axis=[0, 2]))
    nans = tf.reduce_sum(tf.cast(tf.math.is_nan(data3), tf.float64), axis=[0, 2])
    infs = tf.reduce_sum(tf.cast(tf.math.is_inf(data3), tf.float64), axis=[0, 2])
    return tf.cast(tf.stack([norms, nans, infs]), tf.float32)


def _reach(tf: Any, norms: Any, threshold: float) -> Any:
    """Same figure as `tb_rnngrad.format.stats.reach`, as a float32 scalar."""
    finite = tf.where(tf.math.is_finite(norms), norms, tf.zeros_like(norms))
    peak = tf.reduce_max(finite)
    above = tf.cast(finite >= tf.constant(threshold, tf.float32) * peak, tf.int32)
    first = tf.cast(tf.argmax(above), tf.int32)
    last = tf.size(norms) - 1
    return tf.cast(tf.where(peak > 0, last - first, 0), tf.float32)
