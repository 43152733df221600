/**
 * Turns a fetched tensor and the UI state into exactly what the views draw:
 * reflected or not, one sample / all samples / batch mean of |g|, masks per tile,
 * NaN/Inf counts and max|g|. Pure: no DOM; derived arrays are cached on the entry.
 * @module prepare
 */
/** @import { TagMeta } from "./api.js" */
import { maxAbsFinite } from "./normalize.js";
import {
  countNonFinite,
  maskRow,
  meanAbsOverBatch,
  reflectFrom,
  reflectTime,
} from "./tensor_ops.js";
import { isWeights } from "./weights.js";

/**
 * @typedef {object} Prepared
 * @property {Float32Array|Float64Array} array Values drawn, (B', T, C).
 * @property {import("./tensor_ops.js").Dims} dims Dimensions of `array`.
 * @property {number[]} samples Batch indices of `array` to draw.
 * @property {Array<number|string>} sampleIds Labels of those samples ("mean" for
 *   the batch mean).
 * @property {Array<Uint8Array|null>} masks Per drawn sample (T,) mask rows.
 * @property {Uint8Array|null} gridMask Mask for the channel grid's shading.
 * @property {number} maskFlipFrom First channel whose mask reads reversed.
 * @property {number} splitAt First backward channel of a concat bidirectional layer.
 * @property {{nan: number, posInf: number, negInf: number}} counts Non-finite values
 *   in the samples drawn (whole batch for the mean).
 * @property {number} maxAbs max|x| of what is drawn.
 * @property {boolean} mean Whether `array` is the batch mean of |g|.
 * @property {boolean} weights Whether axis 0 holds weights ("weight update by
 *   timestep"): every weight is drawn, whatever the sample mode.
 * @property {import("./kept.js").Kept|null} [kept] What a reduced series keeps at
 *   the step (set by run_model.js; null: stored as captured).
 */

/**
 * @param {import("./loader.js").TensorEntry} entry Fetched tensor.
 * @param {Uint8Array|null} mask (B*T) mask of the whole batch, or null.
 * @param {TagMeta} meta Tag metadata.
 * @param {{sampleMode: string, sample: number, reflect: boolean}} st UI state
 *   (the sample mode does not apply to weights).
 * @returns {Prepared}
 * @throws {RangeError} When one sample is asked for and the batch has no such sample.
 */
export function prepare(entry, mask, meta, st) {
  const d = entry.dims;
  const C = d.channels;
  const T = d.time;
  const flipFrom = d.rank === 3 ? reflectFrom(meta, C) : C;
  const reflect = st.reflect && flipFrom < C;
  const data = reflect
    ? derive(entry, "reflect", () => reflectTime(entry.data, d, flipFrom))
    : entry.data;
  const split = meta.bidirectional && meta.merge_mode === "concat" ? reflectFrom(meta, C) : 0;
  const weights = isWeights(meta);
  const common = { maskFlipFrom: reflect ? flipFrom : C, splitAt: split, weights };
  const fullB = entry.sampleBase === null ? d.batch : null;
  const rowOf = (/** @type {number} */ local) => {
    const id = entry.sampleBase ?? local;
    return mask && id * T < mask.length ? maskRow(mask, mask.length / T, T, id) : null;
  };

  if (st.sampleMode === "mean" && !weights) {
    const array = derive(entry, `mean:${reflect}`, () => meanAbsOverBatch(data, d));
    const all = mask ? maskRow(mask, mask.length / T, T, "all") : null;
    return {
      ...common,
      array,
      dims: { ...d, batch: 1 },
      samples: [0],
      sampleIds: ["mean"],
      masks: [all],
      gridMask: all,
      counts: derive(entry, "counts", () => countNonFinite(entry.data)),
      maxAbs: derive(entry, `meanMax:${reflect}`, () => maxAbsFinite(array)),
      mean: true,
    };
  }
  if ((st.sampleMode === "all" || weights) && fullB !== null) {
    const samples = [...Array(d.batch).keys()];
    const all = mask ? maskRow(mask, mask.length / T, T, "all") : null;
    return {
      ...common,
      array: data,
      dims: d,
      samples,
      sampleIds: samples,
      masks: samples.map(rowOf),
      gridMask: all,
      counts: derive(entry, "counts", () => countNonFinite(entry.data)),
      maxAbs: derive(entry, "max", () => maxAbsFinite(entry.data)),
      mean: false,
    };
  }
  const local = fullB === null ? 0 : st.sample;
  if (local >= d.batch) throw new RangeError(sampleMissingText(null, d.batch, st.sample));
  const id = entry.sampleBase ?? local;
  const one = data.subarray(local * T * C, (local + 1) * T * C);
  const row = rowOf(local);
  return {
    ...common,
    array: data,
    dims: d,
    samples: [local],
    sampleIds: [id],
    masks: [row],
    gridMask: row,
    counts: countNonFinite(one),
    maxAbs: maxAbsFinite(one),
    mean: false,
  };
}

/**
 * Why one run cannot show the chosen sample: the sample input goes up to the largest
 * batch of the selected runs, and a run with a smaller batch says so instead of
 * showing another sample.
 * @param {string} run Run name.
 * @param {number|null} batch The run's batch size (null when unknown).
 * @param {{sampleMode: string, sample: number}} st UI state.
 * @returns {string|null} The message, or null when the sample exists (or is unknown).
 */
export function missingSample(run, batch, st) {
  if (st.sampleMode !== "one" || batch === null || st.sample < batch) return null;
  return sampleMissingText(run, batch, st.sample);
}

/**
 * @param {string|null} run Run (null: the tensor itself).
 * @param {number} batch Its batch size.
 * @param {number} sample The sample asked for.
 * @returns {string}
 */
function sampleMissingText(run, batch, sample) {
  const who = run === null ? "The tensor" : `Run "${run}"`;
  const has = `${batch} sample${batch === 1 ? "" : "s"}`;
  return (
    `${who} has ${has} (0 to ${batch - 1}), so there is no sample ${sample}; ` +
    `pick a smaller sample or show all samples.`
  );
}

/**
 * A value computed from `entry`'s data once, kept with the entry.
 * @template T
 * @param {import("./loader.js").TensorEntry} entry Tensor.
 * @param {string} key What the value is.
 * @param {() => T} make Computes it.
 * @returns {T}
 */
function derive(entry, key, make) {
  if (!entry.derived.has(key)) entry.derived.set(key, make());
  return entry.derived.get(key);
}
