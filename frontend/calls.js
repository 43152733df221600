/**
 * Recurrences unrolled by hand (a module or cell called once per step, or in
 * chunks): the metadata's `call_timesteps` lists the timesteps each call
 * contributed, stacked along the time axis in call order. Pure: no DOM.
 * @module calls
 */
/** @import { TagMeta } from "./api.js" */

/**
 * @param {TagMeta|null} [meta] Tag metadata (none: one call).
 * @returns {number[]} The timesteps of each call; empty for one call over the
 *   whole sequence.
 */
function callTimesteps(meta) {
  return Array.isArray(meta?.call_timesteps) ? meta.call_timesteps : [];
}

/**
 * Whether every column of the time axis is one call of a loop (a cell, or a
 * module called once per step).
 * @param {TagMeta|null} [meta] Tag metadata (none: one call).
 */
function stepPerCall(meta) {
  const calls = callTimesteps(meta);
  return calls.length > 0 && calls.every((n) => n === 1);
}

/**
 * Name of the time axis: "loop step" when each column is one call of a loop.
 * @param {TagMeta|null} [meta] Tag metadata (none: one call).
 * @returns {string} "loop step" or "timestep".
 */
export function timeAxisName(meta) {
  return stepPerCall(meta) ? "loop step" : "timestep";
}

/**
 * How the calls were stacked, for the panel's layer line.
 * @param {TagMeta|null} [meta] Tag metadata (none: one call).
 * @returns {string} E.g. "unrolled by hand: 20 calls of 1 timestep, stacked
 *   along time"; "" for one call over the whole sequence.
 */
export function callsSummary(meta) {
  const calls = callTimesteps(meta);
  if (calls.length === 0) return "";
  /** @type {Array<{n: number, count: number}>} */
  const runs = [];
  for (const n of calls) {
    const last = runs[runs.length - 1];
    if (last && last.n === n) last.count += 1;
    else runs.push({ n, count: 1 });
  }
  const parts = runs.map(({ n, count }) => {
    const what = count === 1 ? "a call" : `${count} calls`;
    return `${what} of ${n} timestep${n === 1 ? "" : "s"}`;
  });
  return `unrolled by hand: ${parts.join(", then ")}, stacked along time`;
}

/**
 * Label of one column of the time axis, for hover read-outs.
 * @param {number} t Column (stacked timestep).
 * @param {TagMeta|null} [meta] Tag metadata (none: one call).
 * @returns {string} "timestep 5"; "loop step 5" when each call is one step;
 *   "timestep 14 (call 3, its step 2 of 4)" when calls span several steps.
 */
export function timeLabel(t, meta) {
  const calls = callTimesteps(meta);
  if (calls.length === 0) return `timestep ${t}`;
  if (stepPerCall(meta)) return `loop step ${t}`;
  let start = 0;
  for (let c = 0; c < calls.length; c += 1) {
    if (t < start + calls[c]) {
      return `timestep ${t} (call ${c}, its step ${t - start} of ${calls[c]})`;
    }
    start += calls[c];
  }
  return `timestep ${t}`;
}
