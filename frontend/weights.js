/**
 * "Weight update by timestep" series: (weights, timesteps, gates) norms of each
 * timestep's term of each weight's gradient, drawn as one timesteps x gates heatmap
 * per weight; gate saturation, (near 0, near 1) x timesteps x gates fractions of
 * units, drawn the same way. Names of the axes and the heatmaps' layout. Pure: no
 * DOM.
 * @module weights
 */
/** @import { TagMeta } from "./api.js" */

/** Largest side of a cell, CSS px: room for a gate name per row. */
const CELL = 14;
/** Width of a character of the axis font, CSS px (a generous estimate). */
const CHAR_W = 6;
/** Left margin, CSS px: at least the heatmap's, at most this (longer names overflow). */
const MIN_LEFT = 40;
const MAX_LEFT = 160;
/** Height of one heatmap's plot, CSS px, at most. */
const MAX_PLOT_H = 240;

/**
 * @param {TagMeta|null} meta Tag metadata.
 * @returns {boolean} Whether the series is a (names, timesteps, gates) one drawn as
 *   one timesteps x gates heatmap per entry of axis 0 (not a batch): "weight update
 *   by timestep" (axis 0: weights) or gate saturation (axis 0: near 0, near 1).
 */
export function isWeights(meta) {
  return Boolean(meta && (meta.kind === "weight_contributions" || isGateActivations(meta)));
}

/**
 * @param {TagMeta|null} meta Tag metadata.
 * @returns {boolean} Whether the series is gate saturation ("gate_activations"): the
 *   fraction of units of each gate near 0 and near 1 at each timestep.
 */
export function isGateActivations(meta) {
  return Boolean(meta && meta.kind === "gate_activations");
}

/** What each band of a gate-saturation series holds, by its logged name. */
/** @type {Record<string, string>} */
const BAND_TITLES = {
  near_0: "units near 0 (gate closed)",
  near_1: "units near 1 (gate open)",
};

/**
 * @param {string} band A band's logged name, e.g. "near_0".
 * @returns {string} Its title, e.g. "units near 0 (gate closed)"; the name itself
 *   when unknown.
 */
export function bandTitle(band) {
  return BAND_TITLES[band] || band;
}

/**
 * Names of the weights (axis 0) and gates (axis 2), from the metadata when it names
 * as many as the tensor has, else numbered.
 * @param {TagMeta} meta Tag metadata (`weights`, `gates`).
 * @param {{batch: number, channels: number}} dims Dimensions of the tensor.
 * @returns {{weights: string[], gates: string[]}} E.g. ["kernel", "recurrent_kernel",
 *   "bias"] and ["i", "f", "c", "o"]; or ["weight 0", ...], ["gate 0", ...].
 */
export function axisNames(meta, dims) {
  return {
    weights: names(meta.weights, dims.batch, "weight"),
    gates: names(meta.gates, dims.channels, "gate"),
  };
}

/**
 * @param {unknown} given Names from the metadata.
 * @param {number} n How many there must be.
 * @param {string} what What they name, for the fallback names ("weight 0", ...).
 * @returns {string[]}
 */
function names(given, n, what) {
  if (Array.isArray(given) && given.length === n) return given.map(String);
  return Array.from({ length: n }, (_, i) => `${what} ${i}`);
}

/**
 * How the weights' heatmaps are laid out (views/heatmap.js HeatmapFrame): a title
 * above each, cells of up to CELL px, and a left margin wide enough for the gate
 * names (timestep indices when transposed).
 * @param {string[]} gates Gate names.
 * @param {{time: number, channels: number}} dims Dimensions.
 * @param {number} availWidth Width available, CSS px.
 * @param {boolean} transpose Timesteps along y (gates along x).
 * @returns {import("./views/heatmap.js").HeatmapFrame}
 */
export function weightFrame(gates, dims, availWidth, transpose) {
  const rows = transpose ? dims.time : dims.channels;
  const longest = Math.max(0, ...gates.map((g) => g.length));
  const left = transpose ? MIN_LEFT : clamp(10 + CHAR_W * longest, MIN_LEFT, MAX_LEFT);
  return {
    margin: { left, top: 14, right: 4, bottom: 16 },
    tileWidth: availWidth,
    maxPlotHeight: Math.min(MAX_PLOT_H, rows * CELL),
    maxCell: CELL,
  };
}

/** @param {number} v @param {number} lo @param {number} hi @returns {number} */
function clamp(v, lo, hi) {
  return Math.max(lo, Math.min(hi, v));
}
