/**
 * Hover read-outs: the lines shown for what is under the pointer. Pure: no DOM.
 * @module readout
 */
import { channelLabel } from "./labels.js";
import { readoutValue } from "./layout.js";

/**
 * Lines for one value of a tensor view (heatmap, channel grid, 0D).
 * @param {object} hit
 * @param {number|string} hit.sample Sample number, or "mean" for the batch mean.
 * @param {number} hit.channel Channel.
 * @param {number|null} hit.timestep Timestep (null: the tensor has no time axis).
 * @param {number} [hit.inputTime] Input time of a reflected timestep.
 * @param {number} hit.value Value.
 * @param {boolean} [hit.masked] Whether the timestep is masked.
 * @param {object} meta Tag metadata (for channel names).
 * @returns {string[]} E.g. ["sample 0", "ch 1", "timestep 5", "value -1"].
 */
export function valueReadout(hit, meta) {
  const input = hit.inputTime === undefined ? "" : ` (input time ${hit.inputTime})`;
  let time = "timestep — (no time axis)";
  if (hit.timestep !== null) time = `timestep ${hit.timestep}${input}`;
  return [
    hit.sample === "mean" ? "batch mean of |g|" : `sample ${hit.sample}`,
    channelLabel(hit.channel, meta),
    time,
    `value ${readoutValue(hit.value)}${hit.masked ? " (masked timestep)" : ""}`,
  ];
}

/**
 * Lines for a point of the flow view.
 * @param {ReturnType<typeof import("./views/flow.js").flowAt>} hit Not null.
 * @returns {string[]} Step; over the image the timestep, norm and NaN/Inf counts;
 *   the reach ("reach unknown" when the server sent none).
 */
export function flowReadout(hit) {
  const lines = [`step ${hit.step}`];
  if (hit.timestep !== null) {
    lines.push(`timestep ${hit.timestep}`, `norm ${readoutValue(hit.value)}`);
    if (hit.nan) lines.push(`NaN: ${hit.nan}`);
    if (hit.inf) lines.push(`Inf: ${hit.inf}`);
  }
  lines.push(hit.reach === null ? "reach unknown" : `reach ${hit.reach} timesteps back`);
  return lines;
}

/**
 * The flow view's caption; names the reach threshold the server used, if it said.
 * @param {{reach: number[]|null, reach_threshold: number|null}} profile
 * @returns {string}
 */
export function flowCaption(profile) {
  const head =
    "Gradient flow over training — per-timestep L2 norm (log colour), one row per " +
    "logged step; ";
  let reach = "reach unknown (the server sent none)";
  if (profile.reach !== null) {
    const t = profile.reach_threshold;
    const share = t === null ? "a share of" : `${Math.round(t * 1000) / 10}% of`;
    reach = `right: reach (timesteps back with ≥ ${share} the max)`;
  }
  return `${head}${reach}; click a row to show that step`;
}
