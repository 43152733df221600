"""Summary ops that log per-timestep tensors of recurrent layers.

Each call writes, at one step, three time series (docs/format.md):

- `<name>`: the full tensor as a one- or two-element blob sequence (plugin
  "rnngrad"): the `.npy` bytes of the data, then those of the mask if given;
- `<name>/profile`: a float32 (3, timesteps) tensor (plugin "rnngrad_profile"):
  per-timestep L2 norm over batch and channels, NaN count, Inf count;
- `<name>/reach`: the gradient reach as an ordinary scalar (rank-3 data only),
  counted from each sample's last valid timestep when a mask is given;
- `<name>/end_profile`: with a mask, the float32 (timesteps,) norm per lag
  from each sample's last valid timestep (`stats.end_profile`).

TensorFlow is imported when an op runs, so that `gradients_pb` and friends work
without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tb_rnngrad.format import metadata, npy_format, validation
from tb_rnngrad.format import reduction as reducing
from tb_rnngrad.format.gate_saturation import BANDS
from tb_rnngrad.format.reduction import Reduction


def gradients(
    name: str,
    data: Any,
    step: int | None = None,
    *,
    layer: Any = None,
    description: str | None = None,
    mask: Any = None,
    reach_threshold: float = metadata.DEFAULT_REACH_THRESHOLD,
    reduction: Reduction | None = None,
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
        largest lag k, counted back from the last timestep (with a mask: from
        each sample's last valid timestep), at which the per-timestep norm is
        at least this fraction of its maximum (`tb_rnngrad.format.stats`).
      reduction: How to reduce the stored full tensor
        (`tb_rnngrad.format.reduction.Reduction`: first samples, timestep
        pooling by largest |g|, channels of largest norm, scaled float16);
        the profile and reach are computed on `data` as given. Needs a static
        shape. None stores `data` as given.

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
        reduction=reduction,
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


def gate_activations(
    name: str,
    data: Any,
    step: int | None = None,
    *,
    gates: Sequence[str],
    **options: Any,
) -> Any:
    """Logs how many units of each sigmoid gate are near 0 and near 1.

    Args:
      name: Tag of the full tensor.
      data: (2, timesteps, gates): at each timestep, the fraction of units
        (over the probe batch) whose gate value is below 0.05 (row 0) and
        above 0.95 (row 1); see `tb_rnngrad.format.gate_saturation`.
      step: Training step, as in `gradients`.
      gates: Names of axis 2, e.g. ("i", "f", "o") for an LSTM.
      **options: `layer`, `description` as in `gradients`.

    Returns:
      A boolean tensor, True if the data was written.
    """
    return write(
        "gate_activations", name, data, step, weights=BANDS, gates=gates, **options
    )


def weights(
    name: str,
    data: Any,
    step: int | None = None,
    *,
    weight: str,
    gates: Sequence[str],
    layer: Any = None,
    description: str | None = None,
    reduction: Reduction | None = None,
) -> Any:
    """Logs one recurrent weight's values, split into its gate blocks.

    Writes the full matrix (a blob sequence under plugin "rnngrad", with the
    weight and gate names in its metadata), and per gate g a TensorBoard
    histogram `<name>/<g>` of the block's finite values (Histograms and Time
    Series tabs) and the scalars `<name>/<g>/max_abs`, `/zero_fraction` and
    `/nonfinite` (see docs/format.md).

    Args:
      name: Tag of the full matrix, inside any enclosing `tf.name_scope`.
      data: (rows, columns) tensor, or (columns,) for a bias (stored as one
        row), with static shape; its columns are `len(gates)` equal blocks in
        Keras's order. float16/32/64 stored as given, bfloat16 as float32.
      step: Training step; defaults to `tf.summary.experimental.get_step()`.
      weight: The weight's name, e.g. "kernel", "recurrent_kernel", "bias".
      gates: The gate names, e.g. ("i", "f", "c", "o") for an LSTM.
      layer: A Keras layer, `LayerInfo` or dict recorded in the metadata.
      description: Markdown description shown in TensorBoard.
      reduction: None, or `Reduction(float16=True)` to store the matrix as
        scaled float16 (histograms and scalars stay exact).

    Returns:
      A boolean tensor, True if the matrix was written (a default writer
      exists).

    Raises:
      TypeError: `data` is not real floating.
      ValueError: `data` is not of rank 1 or 2, its shape is not static, its
        columns do not split into `len(gates)` equal blocks, or no step is
        given nor set.
    """
    return write(
        "weights", name, data, step, layer=layer, description=description,
        weights=(weight,), gates=gates, reduction=reduction,
    )  # fmt: skip


def weight_gradients(
    name: str,
    data: Any,
    step: int | None = None,
    *,
    weight: str,
    gates: Sequence[str],
    **options: Any,
) -> Any:
    """Logs the gradient of one recurrent weight; arguments as in `weights`."""
    return write(
        "weight_gradients", name, data, step, weights=(weight,), gates=gates,
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
    reduction: Reduction | None = None,
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
    if kind in metadata.MATRIX_KINDS:
        if mask is not None:
            raise ValueError(f"{kind} data has no time axis: pass mask=None.")
        return _write_matrix(
            tf, kind, name, data, step, layer, description, weights, gates, reduction
        )
    with tf.summary.experimental.summary_scope(
        name, "rnngrad_summary", values=[data, mask, step]
    ) as (tag, _):
        tensor = _checked_tensor(tf, data)
        mask_tensor = _checked_mask(tf, mask, tensor)
        shape = tuple(-1 if d is None else d for d in tensor.shape)
        role = "fixed" if kind in metadata.NAMED_AXES_KINDS else "sequence"
        chosen = _resolve(reduction, kind, shape, role)
        stored, blobs = _stored(tf, tensor, mask_tensor, chosen)
        series = metadata.create_summary_metadata(
            tag,
            kind=kind,
            layer=layer,
            shape=shape,
            dtype=tensor.dtype.name,
            has_mask=mask_tensor is not None,
            reach_threshold=reach_threshold,
            description=description,
            weights=weights,
            gates=gates,
            stored=stored,
        )
        written = _write(tf, series.full_tensor, tf.stack(blobs), step)
        profile = _profile(tf, tensor)
        reach_norms = profile[0]
        if series.end_profile is not None:  # before the profile, which readers poll
            reach_norms = _end_profile(tf, tensor, mask_tensor)
            _write(tf, series.end_profile, reach_norms, step)
        _write(tf, series.profile, profile, step)
        if series.reach is not None:
            _write(tf, series.reach, _reach(tf, reach_norms, reach_threshold), step)
        return written


def _write_matrix(
    tf: Any,
    kind: str,
    name: str,
    data: Any,
    step: Any,
    layer: Any,
    description: str | None,
    weights: Sequence[str],
    gates: Sequence[str],
    reduction: Reduction | None,
) -> Any:
    """The matrix, then each gate's histogram and scalars (`MATRIX_KINDS`)."""
    from tensorboard.plugins.histogram import summary_v2 as histogram_summary

    with tf.summary.experimental.summary_scope(
        name, "rnngrad_summary", values=[data, step]
    ) as (tag, _):
        tensor = _checked_matrix(tf, data)
        chosen = reducing.resolve(reduction, kind, tuple(tensor.shape), "matrix")
        stored, blobs = _stored(tf, tensor, None, chosen)
        series = metadata.create_summary_metadata(
            tag,
            kind=kind,
            layer=layer,
            shape=tuple(tensor.shape),
            dtype=tensor.dtype.name,
            has_mask=False,
            reach_threshold=metadata.DEFAULT_REACH_THRESHOLD,
            description=description,
            weights=weights,
            gates=gates,
            stored=stored,
        )
        written = _write(tf, series.full_tensor, tf.stack(blobs), step)
        for gate in series.gates:
            block = tensor[:, gate.columns[0] : gate.columns[1]]
            # Inside this scope the histogram's tag is `<tag>/<gate>`.
            histogram_summary.histogram(
                gate.gate,
                tf.boolean_mask(block, tf.math.is_finite(block)),
                step=step,
                description=description,
            )
            for stat, value in zip(gate.stats, _gate_stats(tf, block), strict=True):
                _write(tf, stat, value, step)
        return written


def _resolve(
    reduction: Reduction | None, kind: str, shape: tuple[int, ...], role: str
) -> Reduction | None:
    """`reduction.resolve`, for a tensor whose shape is static."""
    if reduction is not None and any(d < 0 for d in shape):
        raise ValueError(
            f"a reduction needs a static shape; got {shape} for {kind!r} data. "
            "Give it one, e.g. with tf.ensure_shape."
        )
    return reducing.resolve(reduction, kind, shape, role)


def _stored(
    tf: Any, tensor: Any, mask: Any, chosen: Reduction | None
) -> tuple[metadata.Stored | None, list[Any]]:
    """As `summary.pb._stored`, with TF ops: the metadata's stored part and
    the blobs (data, mask if any, reduction index if reduced)."""
    if chosen is None:
        blobs = [_npy_string(tf, tensor)]
        return None, blobs + ([] if mask is None else [_npy_string(tf, mask)])
    data, mask, index = _reduce(tf, tensor, mask, chosen)
    blobs = [_npy_string(tf, data)]
    if mask is not None:
        blobs.append(_npy_string(tf, mask))
    blobs.append(_npy_string(tf, index))
    stored = metadata.Stored(tuple(data.shape), data.dtype.name, chosen.pool)
    return stored, blobs


def _reduce(tf: Any, tensor: Any, mask: Any, chosen: Reduction) -> tuple:
    """Same as `tb_rnngrad.format.reduction.apply`, as TF ops."""
    kept = _channel_order(tf, tensor, chosen.channels)
    data = tensor[: chosen.samples] if chosen.samples else tensor
    if mask is not None and chosen.samples:
        mask = mask[: chosen.samples]
    if chosen.pool > 1:
        data = _pool_timesteps(tf, data, chosen.pool)
        mask = None if mask is None else _pool_mask(tf, mask, chosen.pool)
    if kept is not None:
        data = tf.gather(data, kept, axis=data.shape.rank - 1)
    exponent = tf.constant(0, tf.int64)
    if chosen.float16:
        data, exponent = _to_float16(tf, data)
    parts = [tf.reshape(exponent, [1])]
    if kept is not None:
        parts.append(tf.cast(kept, tf.int64))
    return data, mask, tf.concat(parts, axis=0)


def _channel_order(tf: Any, tensor: Any, channels: int | None) -> Any:
    """Same as `reduction.channel_order`, as TF ops (None: every channel)."""
    if channels is None:
        return None
    axes = list(range(tensor.shape.rank - 1))
    scores = tf.reduce_sum(tf.square(tf.cast(tensor, tf.float64)), axis=axes)
    inf = tf.constant(float("inf"), tf.float64)
    scores = tf.where(tf.math.is_nan(scores), inf, scores)
    ranked = tf.argsort(scores, direction="DESCENDING", stable=True)[:channels]
    return tf.sort(ranked)


def _grouped(tf: Any, data: Any, pool: int) -> Any:
    """(batch, groups, pool, ...) with the time axis zero-padded."""
    batch, timesteps = data.shape[0], data.shape[1]
    groups = -(-timesteps // pool)
    padding = [[0, 0], [0, groups * pool - timesteps]] + [[0, 0]] * (
        data.shape.rank - 2
    )
    padded = tf.pad(data, padding)
    return tf.reshape(padded, [batch, groups, pool, *data.shape[2:]])


def _pool_timesteps(tf: Any, data: Any, pool: int) -> Any:
    """Same as `reduction.pool_timesteps`, as TF ops."""
    grouped = _grouped(tf, data, pool)
    is_nan = tf.math.is_nan(grouped)
    clean = tf.where(is_nan, tf.zeros_like(grouped), grouped)
    high = tf.reduce_max(clean, axis=2)
    low = tf.reduce_min(clean, axis=2)
    pooled = tf.where(high >= -low, high, low)
    pooled = tf.where(pooled == 0, tf.zeros_like(pooled), pooled)
    nan = tf.fill(tf.shape(pooled), tf.constant(float("nan"), data.dtype))
    return tf.where(tf.reduce_any(is_nan, axis=2), nan, pooled)


def _pool_mask(tf: Any, mask: Any, pool: int) -> Any:
    """Same as `reduction.pool_mask`, as TF ops."""
    return tf.reduce_any(_grouped(tf, mask, pool), axis=2)


def _power_of_two(tf: Any, exponent: Any) -> Any:
    """float32 2**exponent from its bits (exponent within the normal range)."""
    return tf.bitcast(tf.bitwise.left_shift(exponent + 127, 23), tf.float32)


def _to_float16(tf: Any, data: Any) -> tuple[Any, Any]:
    """Same as `reduction.to_float16`, as TF ops: (float16 data, int64 e)."""
    values = tf.cast(data, tf.float32)
    finite = tf.abs(tf.where(tf.math.is_finite(values), values, tf.zeros_like(values)))
    peak = tf.reduce_max(finite)
    bits = tf.bitcast(peak, tf.int32)
    biased = tf.maximum(
        tf.bitwise.bitwise_and(tf.bitwise.right_shift(bits, 23), 255), 1
    )
    exponent = tf.where(peak > 0, biased - 126 - 15, 0)
    half = tf.math.floordiv(-exponent, 2)
    scaled = values * _power_of_two(tf, half) * _power_of_two(tf, -exponent - half)
    stored = tf.cast(scaled, tf.float16)
    nan = tf.fill(tf.shape(stored), tf.constant(float("nan"), tf.float16))
    stored = tf.where(tf.math.is_nan(stored), nan, stored)
    return stored, tf.cast(exponent, tf.int64)


def _checked_matrix(tf: Any, data: Any) -> Any:
    validation.reject_mapping(data)
    tensor = tf.convert_to_tensor(data)
    rank = tensor.shape.rank
    shape = None if rank is None else tuple(tensor.shape)
    validation.check_matrix_spec(shape, tensor.dtype.name)
    if not tensor.shape.is_fully_defined():
        raise ValueError(
            f"got a weight of shape {tensor.shape} with a dimension unknown "
            "when tracing; give it a static shape, e.g. with tf.ensure_shape."
        )
    if tensor.dtype == tf.bfloat16:
        tensor = tf.cast(tensor, tf.float32)
    return tf.reshape(tensor, [1, -1]) if rank == 1 else tensor


def _gate_stats(tf: Any, block: Any) -> list[Any]:
    """Same figures as `tb_rnngrad.format.weight_layout.gate_stats`, as TF ops."""
    finite = tf.math.is_finite(block)
    wide = tf.cast(block, tf.float64)
    max_abs = tf.reduce_max(tf.abs(tf.where(finite, wide, tf.zeros_like(wide))))
    size = tf.cast(tf.size(block), tf.float64)
    zeros = tf.reduce_sum(tf.cast(tf.equal(wide, 0), tf.float64)) / size
    nonfinite = size - tf.reduce_sum(tf.cast(finite, tf.float64))
    return [tf.cast(v, tf.float32) for v in (max_abs, zeros, nonfinite)]


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
    if tensor.shape.rank == 1:  # NumPy writes a 1-tuple as "(n,)"
        dims = tf.strings.join([dims, ","])
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


def _end_profile(tf: Any, tensor: Any, mask: Any) -> Any:
    """Same figures as `tb_rnngrad.format.stats.end_profile`, as TF ops."""
    squares = tf.reduce_sum(tf.square(tf.cast(tensor, tf.float64)), axis=2)
    squares = tf.where(mask, squares, tf.zeros_like(squares))
    timesteps = tf.shape(squares, out_type=tf.int32)[1]
    from_end = tf.argmax(
        tf.cast(tf.reverse(mask, axis=[1]), tf.int32), axis=1, output_type=tf.int32
    )
    source = tf.range(timesteps)[None, :] - from_end[:, None]
    aligned = tf.gather(squares, tf.maximum(source, 0), batch_dims=1)
    aligned = tf.where(source >= 0, aligned, tf.zeros_like(aligned))
    return tf.cast(tf.sqrt(tf.reduce_sum(aligned, axis=0)), tf.float32)


def _reach(tf: Any, norms: Any, threshold: float) -> Any:
    """Same figure as `tb_rnngrad.format.stats.reach`, as a float32 scalar."""
    finite = tf.where(tf.math.is_finite(norms), norms, tf.zeros_like(norms))
    peak = tf.reduce_max(finite)
    above = tf.cast(finite >= tf.constant(threshold, tf.float32) * peak, tf.int32)
    first = tf.cast(tf.argmax(above), tf.int32)
    last = tf.size(norms) - 1
    return tf.cast(tf.where(peak > 0, last - first, 0), tf.float32)
