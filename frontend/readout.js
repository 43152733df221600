/**
 * Hover read-outs: the lines shown for what is under the pointer. Pure: no DOM.
 * @module readout
 */
/** @import { TagMeta } from "./api.js" */
import { timeLabel } from "./calls.js";
import { FLOW_PLOT_HEIGHT } from "./flow_rows.js";
import { originalChannel, timestepText } from "./kept.js";
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
 * @param {TagMeta} meta Tag metadata (for channel names).
 * @param {import("./kept.js").Kept|null} [kept] What a reduced series keeps at the
 *   step: channel and timesteps are then given as captured.
 * @returns {string[]} E.g. ["sample 0", "ch 1", "timestep 5", "value -1"].
 */
export function valueReadout(hit, meta, kept = null) {
  const input = hit.inputTime === undefined ? "" : ` (input time ${hit.inputTime})`;
  let time = "timestep — (no time axis)";
  if (hit.timestep !== null) {
    const pooled = kept && kept.timestep_pool > 1;
    const label = pooled ? timestepText(hit.timestep, kept) : timeLabel(hit.timestep, meta);
    time = `${label}${input}`;
  }
  return [
    hit.sample === "mean" ? "batch mean of |g|" : `sample ${hit.sample}`,
    channelLabel(originalChannel(hit.channel, kept), meta),
    time,
    `value ${readoutValue(hit.value)}${hit.masked ? " (masked timestep)" : ""}`,
  ];
}

/**
 * Lines for one cell of a weight's heatmap ("weight update by timestep").
 * @param {object} hit
 * @param {string} hit.weight Weight name.
 * @param {string} hit.gate Gate name.
 * @param {number} hit.timestep Timestep.
 * @param {number} [hit.inputTime] Input time of a reflected timestep.
 * @param {number} hit.value Norm of the timestep's term of that weight's gradient.
 * @param {TagMeta} [meta] Tag metadata (for the time axis of an unrolled recurrence).
 * @returns {string[]} E.g. ["weight recurrent_kernel", "gate f", "timestep 5",
 *   "value 0.25"].
 */
export function weightReadout(hit, meta) {
  const input = hit.inputTime === undefined ? "" : ` (input time ${hit.inputTime})`;
  return [
    `weight ${hit.weight}`,
    `gate ${hit.gate}`,
    `${timeLabel(hit.timestep, meta)}${input}`,
    `value ${readoutValue(hit.value)}`,
  ];
}

/**
 * Lines for one cell of a gate-saturation heatmap.
 * @param {object} hit
 * @param {string} hit.band What the heatmap counts, e.g. "units near 0 (gate closed)".
 * @param {string} hit.gate Gate name.
 * @param {number} hit.timestep Timestep.
 * @param {number} hit.value Fraction of units, 0 to 1.
 * @param {TagMeta} [meta] Tag metadata (for the time axis of an unrolled recurrence).
 * @returns {string[]} E.g. ["units near 0 (gate closed)", "gate f", "timestep 5",
 *   "82% of units"].
 */
export function gateFractionReadout(hit, meta) {
  const share = Number.isFinite(hit.value) ? `${Math.round(hit.value * 1000) / 10}%` : String(hit.value);
  return [hit.band, `gate ${hit.gate}`, timeLabel(hit.timestep, meta), `${share} of units`];
}

/**
 * Lines for a point of the flow view.
 * @param {NonNullable<ReturnType<typeof import("./views/flow.js").flowAt>>} hit A
 *   point (flowAt's answer, not null).
 * @param {string} [reach] Name of the reach (labels.reachName), e.g. "gradient
 *   horizon".
 * @returns {string[]} Step (the range of a row of merged steps, whose figures are
 *   maxima and summed counts); over the image the timestep, norm and NaN/Inf
 *   counts; the reach ("reach unknown" when the server sent none).
 */
export function flowReadout(hit, reach = "reach") {
  const merged = hit.lastStep !== undefined && hit.lastStep !== hit.step;
  const lines = [merged ? `steps ${hit.step}–${hit.lastStep} (max over them)` : `step ${hit.step}`];
  if (hit.timestep !== null) {
    // null: a NaN or infinite norm in the profile's JSON form (api.normalizeProfile
    // makes it NaN, read out as "NaN"); never read out as 0.
    const norm = hit.value === null ? "not finite" : readoutValue(hit.value);
    lines.push(`timestep ${hit.timestep}`, `norm ${norm}`);
    if (hit.nan) lines.push(`NaN: ${hit.nan}`);
    if (hit.inf) lines.push(`Inf: ${hit.inf}`);
  }
  lines.push(hit.reach === null ? `${reach} unknown` : `${reach} ${back(hit.reach)}`);
  return lines;
}

/**
 * Hover lines of the norm-over-training view (data without a time axis).
 * @param {{step: number, value: number}} hit From views/norm_history normHistoryAt.
 * @returns {string[]}
 */
export function normReadout(hit) {
  return [`step ${hit.step}`, `norm ${readoutValue(hit.value)}`];
}

/**
 * The flow view's caption; names the reach threshold the server used, if it said.
 * @param {{reach: number[]|null, reach_threshold: number|null}} profile
 * @param {string} [reach] Name of the reach (labels.reachName).
 * @param {boolean} [masked] The series has a mask: its reach counts from each
 *   sample's last valid timestep (the server's end-aligned profile).
 * @returns {string}
 */
export function flowCaption(profile, reach = "reach", masked = false) {
  const head =
    "Gradient flow over training — x: timestep, y: logged step (the first on top), " +
    "per-timestep L2 norm (log colour), one row per logged step (beyond " +
    `${FLOW_PLOT_HEIGHT} steps a row merges several: their max); `;
  let right = `${reach} unknown (the server sent none)`;
  if (profile.reach !== null) {
    const from = masked ? " from each sample's last valid timestep" : "";
    right = `right: ${reach} (timesteps back${from} with ≥ ${thresholdText(profile)} the max)`;
  }
  return `${head}${right}; click a row to show that step`;
}

/**
 * The panel's line on the reach at the step shown, e.g. "gradient horizon: 5
 * timesteps back at step 20 (the furthest with a norm ≥ 1% of the max)".
 * @param {{steps: number[], values: number[][], reach: number[]|null,
 *   reach_threshold: number|null}|null} profile The series' profile (null: none).
 * @param {number} step Step shown.
 * @param {string} [reach] Name of the reach (labels.reachName).
 * @param {boolean} [masked] The series has a mask (see flowCaption).
 * @returns {string} "" when there is nothing to say (no profile, the step is not in
 *   it, or it has no time axis).
 */
export function reachLine(profile, step, reach = "reach", masked = false) {
  const row = profile ? profile.steps.indexOf(step) : -1;
  if (!profile || row < 0 || profile.values[row].length < 2) return "";
  if (profile.reach === null) return `${reach} at step ${step} unknown (the server sent none)`;
  const k = profile.reach[row];
  const from = masked ? ", counted from each sample's last valid timestep" : "";
  const where = `the furthest with a norm ≥ ${thresholdText(profile)} the max${from}`;
  return `${reach}: ${back(k)} at step ${step} (${where})`;
}

/** @param {number} k Timesteps. @returns {string} E.g. "1 timestep back". */
function back(k) {
  return `${k} timestep${k === 1 ? "" : "s"} back`;
}

/** @param {{reach_threshold: number|null}} profile Profile. @returns {string} */
function thresholdText(profile) {
  const t = profile.reach_threshold;
  return t === null ? "a share of" : `${Math.round(t * 1000) / 10}% of`;
}

/**
 * Lines for one cell of the Weights view's gate heatmaps.
 * @param {object} hit
 * @param {string} hit.matrix What the matrix holds, e.g. "weights".
 * @param {string} hit.weight Weight name, e.g. "kernel".
 * @param {string} hit.gate Gate name.
 * @param {string} hit.direction "forward", "backward" or "" (not bidirectional).
 * @param {string} hit.rowName What a row is, e.g. "input feature".
 * @param {number} hit.row Row of the matrix.
 * @param {number} hit.col Unit within the gate block.
 * @param {number} hit.column Column of the matrix.
 * @param {number} hit.value Value.
 * @returns {string[]} E.g. ["weights · kernel", "gate f · forward direction",
 *   "row 3 (input feature 3)", "column 1 of gate f (matrix column 9)", "value 0.25"].
 */
export function gateReadout(hit) {
  const dir = hit.direction ? ` · ${hit.direction} direction` : "";
  return [
    `${hit.matrix}${hit.weight ? ` · ${hit.weight}` : ""}`,
    `gate ${hit.gate}${dir}`,
    `row ${hit.row} (${hit.rowName} ${hit.row})`,
    `column ${hit.col} of gate ${hit.gate} (matrix column ${hit.column})`,
    `value ${readoutValue(hit.value)}`,
  ];
}

/**
 * Lines for a point of a gate's distribution over training.
 * @param {{step: number, lo: number, hi: number, count: number}} hit From
 *   histogram_stack.stackAt.
 * @param {string} gate Gate name.
 * @returns {string[]} E.g. ["gate f", "step 20", "values 0.1 to 0.15", "count 3"].
 */
export function histogramReadout(hit, gate) {
  return [
    `gate ${gate}`,
    `step ${hit.step}`,
    `values ${readoutValue(hit.lo)} to ${readoutValue(hit.hi)}`,
    `count ${readoutValue(Math.round(hit.count * 100) / 100)}`,
  ];
}
