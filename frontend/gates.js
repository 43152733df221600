/**
 * The Weights view's data: a logged weight matrix (kinds "weights" and
 * "weight_gradients", tb_rnngrad/format/weight_layout.py) split into its gate blocks,
 * their names and direction, per-gate colour scales (shared or per gate), the pixels
 * of one block, the layout of one heatmap per gate and what lies under a point.
 * Pure: no DOM.
 * @module gates
 */
/** @import { TagMeta } from "./api.js" */
import { divergingColor } from "./colormap.js";
import { hitCell, tileGrid } from "./layout.js";
import { symmetricScale, toUnit } from "./normalize.js";
import { countNonFinite } from "./tensor_ops.js";

/**
 * The kinds whose tensor is one weight matrix split into gate blocks
 * (tb_rnngrad/format/metadata.py MATRIX_KINDS).
 */
export const MATRIX_KINDS = ["weights", "weight_gradients"];

/** Names of what each matrix kind holds, in tile titles and read-outs. */
/** @type {Record<string, string>} */
const MATRIX_NAMES = { weights: "weights", weight_gradients: "d loss / d weight" };

/** What a row of each weight is (a bias is one row), as weight_layout.ROW_MEANING. */
/** @type {Record<string, string>} */
const ROW_NAMES = {
  kernel: "input feature",
  recurrent_kernel: "unit",
  bias: "input bias",
  recurrent_bias: "recurrent bias",
};

/** Gap between gate heatmaps, CSS px. */
const GAP = 10;
/** Margins around one gate's plot: two title lines above, indices left and below. */
const MARGIN = { left: 34, top: 28, right: 4, bottom: 16 };
/** Largest cell side, and the height of a gate's plot at most, CSS px. */
const MAX_CELL = 24;
const MAX_PLOT_H = 256;
/** A one-row matrix (a bias) is drawn at least this tall, CSS px. */
const MIN_ROW_H = 12;
/** A tile is at least this wide, CSS px: room for its title. */
const MIN_TILE_W = 140;

/**
 * @param {string} kind A series kind.
 * @returns {boolean} Whether it is a weight matrix split into gate blocks.
 */
export function isMatrix(kind) {
  return MATRIX_KINDS.includes(kind);
}

/**
 * @param {string} kind "weights" or "weight_gradients".
 * @returns {string} What the matrix holds, e.g. "d loss / d weight".
 */
export function matrixName(kind) {
  return MATRIX_NAMES[kind] || kind;
}

/**
 * The tag of the other matrix kind of the same weight, as the logger names them
 * (`weights/<layer>/<weight>` and `weight_gradients/<layer>/<weight>`), when the run
 * logged it with the same weight, gates and shape.
 * @param {Record<string, TagMeta>} runTags The run's tags -> metadata.
 * @param {string} tag The tag shown.
 * @param {TagMeta} meta Its metadata.
 * @returns {string|null}
 */
export function siblingTag(runTags, tag, meta) {
  const [from, to] =
    meta.kind === "weights" ? ["weights/", "weight_gradients/"] : ["weight_gradients/", "weights/"];
  if (!isMatrix(meta.kind) || !tag.startsWith(from)) return null;
  const other = to + tag.slice(from.length);
  const m = runTags ? runTags[other] : null;
  const same = (/** @type {unknown} */ a, /** @type {unknown} */ b) =>
    JSON.stringify(a) === JSON.stringify(b);
  const fits =
    m &&
    !m.error &&
    m.kind !== meta.kind &&
    isMatrix(m.kind) &&
    same(m.gates, meta.gates) &&
    same(m.weights, meta.weights) &&
    same(m.shape, meta.shape);
  return fits ? other : null;
}

/**
 * @typedef {object} GateSpan
 * @property {string} name Gate name, e.g. "f".
 * @property {number} start First column of the matrix it occupies.
 * @property {number} stop One past its last column.
 */

/**
 * The gate blocks of a matrix with `cols` columns: equal blocks in the metadata's
 * order (Keras's: LSTM i, f, c, o; GRU z, r, h).
 * @param {TagMeta} meta Tag metadata (`gates`).
 * @param {number} cols Columns of the matrix.
 * @returns {GateSpan[]}
 * @throws {Error} When the columns cannot be split into the named gates.
 */
export function gateSpans(meta, cols) {
  const gates = Array.isArray(meta.gates) && meta.gates.length ? meta.gates.map(String) : ["all"];
  if (cols % gates.length !== 0) {
    throw new Error(
      `The weight has ${cols} columns, which do not split into the ${gates.length} ` +
        `equal gate blocks ${gates.join(", ")} its metadata names.`,
    );
  }
  const w = cols / gates.length;
  return gates.map((name, g) => ({ name, start: g * w, stop: (g + 1) * w }));
}

/**
 * @param {TagMeta} meta Tag metadata (`direction`).
 * @returns {string} "forward", "backward" or "" (not a Bidirectional half).
 */
export function directionOf(meta) {
  return meta.direction === "forward" || meta.direction === "backward" ? meta.direction : "";
}

/**
 * @param {TagMeta} meta Tag metadata (`weights`: the weight's one name).
 * @returns {{weight: string, row: string}} The weight's name and what its rows are,
 *   e.g. {weight: "kernel", row: "input feature"}.
 */
export function rowMeaning(meta) {
  const weight = Array.isArray(meta.weights) && meta.weights.length ? String(meta.weights[0]) : "";
  return { weight, row: ROW_NAMES[weight] || "row" };
}

/**
 * Largest finite |x| and NaN / +Inf / -Inf counts of one gate block.
 * @param {Float32Array|Float64Array} array (rows, cols) values, C order.
 * @param {number} rows Rows.
 * @param {number} cols Columns.
 * @param {GateSpan} span The block.
 * @returns {{maxAbs: number, nan: number, posInf: number, negInf: number}}
 */
export function blockStats(array, rows, cols, span) {
  let maxAbs = 0;
  const counts = { nan: 0, posInf: 0, negInf: 0 };
  for (let r = 0; r < rows; r++) {
    const row = array.subarray(r * cols + span.start, r * cols + span.stop);
    const c = countNonFinite(row);
    counts.nan += c.nan;
    counts.posInf += c.posInf;
    counts.negInf += c.negInf;
    for (let i = 0; i < row.length; i++) {
      const a = Math.abs(row[i]);
      if (a > maxAbs && a !== Infinity) maxAbs = a;
    }
  }
  return { maxAbs, ...counts };
}

/**
 * The colour scale of each gate: one symmetric scale from the largest finite |x| of
 * the whole matrix ("shared"), or each gate's own ("gate").
 * @param {Array<{maxAbs: number}>} stats Per gate, from blockStats.
 * @param {"shared"|"gate"} mode Scale mode.
 * @returns {import("./normalize.js").Scale[]} One per gate.
 */
export function gateScales(stats, mode) {
  const all = Math.max(0, ...stats.map((s) => s.maxAbs));
  return stats.map((s) => symmetricScale(mode === "gate" ? s.maxAbs : all));
}

/**
 * Fills the pixels of one gate block: rows along y, the gate's units along x,
 * diverging colours of the palette, NaN / +Inf / -Inf in their special colours.
 * @param {Uint32Array} pixels Output, rows x (span.stop - span.start).
 * @param {ArrayLike<number>} array (rows, cols) values, C order.
 * @param {number} rows Rows.
 * @param {number} cols Columns.
 * @param {GateSpan} span The block.
 * @param {import("./normalize.js").Scale} scale Colour scale.
 * @param {Uint32Array} lut Diverging LUT (colormap.divergingLut()).
 */
export function fillGateBlock(pixels, array, rows, cols, span, scale, lut) {
  const w = span.stop - span.start;
  for (let r = 0; r < rows; r++) {
    const from = r * cols + span.start;
    for (let c = 0; c < w; c++) pixels[r * w + c] = divergingColor(toUnit(array[from + c], scale), lut);
  }
}

/**
 * @typedef {object} GateTile
 * @property {number} matrix Index of the matrix (0: the tag shown, 1: its sibling).
 * @property {number} gate Index of the gate.
 */

/**
 * @typedef {object} GateGeometry
 * @property {import("./layout.js").CellGeometry} g One gate's geometry (all equal).
 * @property {Array<[number, number]>} origins Tile origins, CSS px.
 * @property {GateTile[]} tiles What each tile shows.
 * @property {number} width Canvas width, CSS px.
 * @property {number} height Canvas height, CSS px.
 */

/**
 * One heatmap per gate and matrix, all of one size, with square cells (a one-row
 * bias drawn at least MIN_ROW_H tall): every tile in one row (weights and gradients
 * side by side) when that leaves cells of 2 px or more, or as large as one row of
 * gates per matrix would; else one row of gates per matrix. Cells are whole pixels,
 * at least 1 (wide matrices scroll, no cell is dropped).
 * @param {number} matrices Matrices shown (1 or 2), all (rows, cols).
 * @param {number} gates Gates per matrix.
 * @param {number} rows Rows of a matrix.
 * @param {number} width Columns of one gate block.
 * @param {number} availWidth Width available, CSS px.
 * @returns {GateGeometry}
 */
export function gateGeometry(matrices, gates, rows, width, availWidth) {
  const n = matrices * gates;
  const cellFor = (/** @type {number} */ k) => {
    const tile = Math.floor((availWidth + GAP) / k) - GAP;
    return Math.floor((tile - MARGIN.left - MARGIN.right) / width);
  };
  const perRow = cellFor(n) >= Math.min(2, Math.max(1, cellFor(gates))) ? n : gates;
  const side = Math.max(1, Math.min(MAX_CELL, cellFor(perRow)));
  const cellW = rows === 1 ? side : Math.max(1, Math.min(side, Math.floor(MAX_PLOT_H / rows)));
  const cellH = rows === 1 ? Math.max(cellW, MIN_ROW_H) : cellW;
  const g = {
    cols: width,
    rows,
    cellW,
    cellH,
    x: MARGIN.left,
    y: MARGIN.top,
    width: Math.max(MIN_TILE_W, MARGIN.left + width * cellW + MARGIN.right),
    height: MARGIN.top + rows * cellH + MARGIN.bottom,
  };
  const grid = tileGrid(n, g.width, g.height, perRow * (g.width + GAP) - GAP, GAP);
  const tiles = [];
  for (let m = 0; m < matrices; m++) for (let k = 0; k < gates; k++) tiles.push({ matrix: m, gate: k });
  return { g, origins: grid.origins, tiles, width: grid.width, height: grid.height };
}

/**
 * The cell under a point.
 * @param {GateGeometry} geom From gateGeometry.
 * @param {number} px x in canvas CSS px.
 * @param {number} py y.
 * @returns {{matrix: number, gate: number, row: number, col: number}|null} `col` is
 *   the unit within the gate block.
 */
export function gateCellAt(geom, px, py) {
  const hit = hitCell(geom.g, geom.origins, px, py);
  if (!hit) return null;
  return { ...geom.tiles[hit.tile], row: hit.row, col: hit.col };
}
