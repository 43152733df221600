/**
 * Operations on C-order (batch, time, channels) tensors held as flat typed arrays.
 * Rank-2 (batch, channels) data is treated as time = 1. Pure: no DOM.
 * @module tensor_ops
 */
/** @import { TagMeta } from "./api.js" */

/**
 * @typedef {object} Dims
 * @property {number} batch
 * @property {number} time Timesteps (1 for rank-2 data).
 * @property {number} channels
 * @property {number} rank 3, or 2 when the data has no time axis.
 */

/**
 * @param {number[]} shape [batch, time, channels] or [batch, channels].
 * @returns {Dims}
 * @throws {Error} For any other rank, or a dimension of size 0 (nothing to draw).
 */
export function dimsOf(shape) {
  if (shape.includes(0)) {
    throw new Error(
      `The tensor has an empty dimension (${shape.join(", ")}): there is nothing to draw.`,
    );
  }
  if (shape.length === 3) {
    return { batch: shape[0], time: shape[1], channels: shape[2], rank: 3 };
  }
  if (shape.length === 2) return { batch: shape[0], time: 1, channels: shape[1], rank: 2 };
  throw new Error(
    `Expected a tensor of shape (batch, timesteps, channels) or (batch, channels); ` +
      `got shape (${shape.join(", ")}).`,
  );
}

/**
 * Flips the time axis of channels [from, channels) into `out` (other channels are
 * copied). `from = 0` flips the whole tensor.
 * @param {ArrayLike<number>} src Source (B, T, C).
 * @param {Dims} d Dimensions.
 * @param {number} from First channel to flip.
 * @param {Float32Array|Float64Array} [out] Reused output buffer of src.length.
 * @returns {Float32Array|Float64Array} out.
 */
export function reflectTime(src, d, from, out) {
  const { batch: B, time: T, channels: C } = d;
  const dst = out && out.length === src.length ? out : new (/** @type {new (n: number) => Float32Array|Float64Array} */ (src.constructor))(src.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * C;
      const mirror = (b * T + (T - 1 - t)) * C;
      for (let c = 0; c < from; c++) dst[row + c] = src[row + c];
      for (let c = from; c < C; c++) dst[row + c] = src[mirror + c];
    }
  }
  return dst;
}

/**
 * Mean of |x| over the batch axis, summed in float64 so that large finite values
 * cannot overflow to Infinity.
 * @param {ArrayLike<number>} src (B, T, C).
 * @param {Dims} d Dimensions.
 * @returns {Float32Array|Float64Array} (1, T, C), Float32Array for float32 input
 *   (a mean fits the input's range); NaN/Inf propagate.
 */
export function meanAbsOverBatch(src, d) {
  const n = d.time * d.channels;
  const sum = new Float64Array(n);
  for (let b = 0; b < d.batch; b++) {
    const off = b * n;
    for (let i = 0; i < n; i++) sum[i] += Math.abs(src[off + i]);
  }
  const out = src instanceof Float32Array ? new Float32Array(n) : sum;
  for (let i = 0; i < n; i++) out[i] = sum[i] / (d.batch || 1);
  return out;
}

/**
 * Counts non-finite values.
 * @param {ArrayLike<number>} a Values.
 * @returns {{nan: number, posInf: number, negInf: number}}
 */
export function countNonFinite(a) {
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v !== v) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
  }
  return { nan, posInf, negInf };
}

/**
 * One sample's mask row, or the timesteps masked in every sample.
 * @param {Uint8Array|null} mask (B, T) with 1 = valid timestep, or null.
 * @param {number} batch B.
 * @param {number} time T.
 * @param {number|"all"} sample Sample index, or "all" for "valid in any sample".
 * @returns {Uint8Array|null} (T,) with 1 = valid, or null without a mask.
 */
export function maskRow(mask, batch, time, sample) {
  if (!mask) return null;
  if (sample !== "all") return mask.subarray(sample * time, (sample + 1) * time);
  const row = new Uint8Array(time);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < time; t++) row[t] |= mask[b * time + t];
  }
  return row;
}

/**
 * First channel whose time axis "reflect" flips.
 * @param {TagMeta} meta Tag metadata from the tags route.
 * @param {number} channels Channel count of the data.
 * @returns {number} channels when nothing is flipped.
 */
export function reflectFrom(meta, channels) {
  if (meta.bidirectional && meta.merge_mode === "concat") {
    const units = meta.units > 0 ? meta.units : channels / 2;
    return Math.min(channels, units);
  }
  if (meta.direction === "backward") return 0;
  return channels;
}

/**
 * @param {TagMeta|null} meta Tag metadata (null: none, nothing to reflect).
 * @returns {boolean} Whether "reflect" changes anything for this series.
 */
export function canReflect(meta) {
  if (!meta || !Array.isArray(meta.shape) || meta.shape.length !== 3) return false;
  return Boolean(
    (meta.bidirectional && meta.merge_mode === "concat") || meta.direction === "backward",
  );
}
