/**
 * Geometry of plots: cell sizes, small-multiple grids and hit testing. Pure: no DOM.
 * @module layout
 */

/** Margins (CSS px) around a heatmap plot for axis labels. */
export const HEATMAP_MARGIN = { left: 44, top: 6, right: 6, bottom: 22 };

/**
 * @typedef {object} CellGeometry
 * @property {number} cols Cells along x.
 * @property {number} rows Cells along y.
 * @property {number} cellW Cell width, px (integer, >= 1).
 * @property {number} cellH Cell height, px (integer, >= 1).
 * @property {number} x Plot left edge inside the tile, px.
 * @property {number} y Plot top edge inside the tile, px.
 * @property {number} width Tile width including margins, px.
 * @property {number} height Tile height including margins, px.
 */

/**
 * Integer cell sizes that fit `cols` x `rows` cells into the space available
 * (never below 1 px, so no cell is dropped; wide data scrolls instead).
 * @param {object} o
 * @param {number} o.cols Cells along x.
 * @param {number} o.rows Cells along y.
 * @param {number} o.availWidth Width available for the tile, px.
 * @param {number} o.maxPlotHeight Height available for the plot area, px.
 * @param {number} [o.maxCell] Largest cell side, px.
 * @param {{left: number, top: number, right: number, bottom: number}} [o.margin]
 * @returns {CellGeometry}
 */
export function cellGeometry({
  cols,
  rows,
  availWidth,
  maxPlotHeight,
  maxCell = 16,
  margin = HEATMAP_MARGIN,
}) {
  const plotW = availWidth - margin.left - margin.right;
  const cellW = clampInt(Math.floor(plotW / Math.max(1, cols)), 1, maxCell);
  const cellH = clampInt(Math.floor(maxPlotHeight / Math.max(1, rows)), 1, maxCell);
  return {
    cols,
    rows,
    cellW,
    cellH,
    x: margin.left,
    y: margin.top,
    width: margin.left + cols * cellW + margin.right,
    height: margin.top + rows * cellH + margin.bottom,
  };
}

/**
 * Places `n` equal tiles in rows that fit the available width.
 * @param {number} n Number of tiles.
 * @param {number} tileW Tile width, px.
 * @param {number} tileH Tile height, px.
 * @param {number} availWidth Width available, px.
 * @param {number} [gap] Gap between tiles, px.
 * @returns {{cols: number, rows: number, width: number, height: number,
 *   origins: Array<[number, number]>}} Tile origins in tile order.
 */
export function tileGrid(n, tileW, tileH, availWidth, gap = 8) {
  const cols = Math.max(1, Math.min(n, Math.floor((availWidth + gap) / (tileW + gap))));
  const rows = Math.ceil(n / cols);
  /** @type {Array<[number, number]>} */
  const origins = [];
  for (let i = 0; i < n; i++) {
    origins.push([(i % cols) * (tileW + gap), Math.floor(i / cols) * (tileH + gap)]);
  }
  return {
    cols,
    rows,
    width: cols * tileW + (cols - 1) * gap,
    height: rows * tileH + Math.max(0, rows - 1) * gap,
    origins,
  };
}

/**
 * Chart size for the channel grid: as many columns of at least `minW` px as fit.
 * @param {number} n Number of charts.
 * @param {number} availWidth Width available, px.
 * @param {number} [minW] Minimum chart width, px.
 * @param {number} [chartH] Chart height, px.
 * @param {number} [gap] Gap, px.
 * @returns {{chartW: number, chartH: number, gap: number, grid: ReturnType<typeof tileGrid>}}
 */
export function chartGrid(n, availWidth, minW = 120, chartH = 60, gap = 6) {
  const cols = Math.max(1, Math.min(n, Math.floor((availWidth + gap) / (minW + gap))));
  const chartW = Math.max(minW, Math.floor((availWidth - (cols - 1) * gap) / cols));
  return { chartW, chartH, gap, grid: tileGrid(n, chartW, chartH, availWidth, gap) };
}

/**
 * Finds which tile and cell a point falls in.
 * @param {CellGeometry} g Cell geometry of one tile.
 * @param {Array<[number, number]>} origins Tile origins.
 * @param {number} px Point x, px, canvas CSS coordinates.
 * @param {number} py Point y.
 * @returns {{tile: number, col: number, row: number}|null} null outside every plot.
 */
export function hitCell(g, origins, px, py) {
  for (let i = 0; i < origins.length; i++) {
    const x = px - origins[i][0] - g.x;
    const y = py - origins[i][1] - g.y;
    if (x >= 0 && y >= 0 && x < g.cols * g.cellW && y < g.rows * g.cellH) {
      return { tile: i, col: Math.floor(x / g.cellW), row: Math.floor(y / g.cellH) };
    }
  }
  return null;
}

/**
 * Which rectangle of a tile grid contains a point.
 * @param {Array<[number, number]>} origins Tile origins.
 * @param {number} w Tile width.
 * @param {number} h Tile height.
 * @param {number} px Point x.
 * @param {number} py Point y.
 * @returns {{tile: number, x: number, y: number}|null} Point relative to the tile.
 */
export function hitTile(origins, w, h, px, py) {
  for (let i = 0; i < origins.length; i++) {
    const x = px - origins[i][0];
    const y = py - origins[i][1];
    if (x >= 0 && y >= 0 && x < w && y < h) return { tile: i, x, y };
  }
  return null;
}

/**
 * Index ticks (timesteps, channels) at least `minSpacing` px apart.
 * @param {number} n Number of cells.
 * @param {number} cellPx Cell size, px.
 * @param {number} [minSpacing] Minimum distance between ticks, px.
 * @returns {number[]} Cell indices starting at 0, in steps of 1, 2, 5, 10, 20, ...
 */
export function indexTicks(n, cellPx, minSpacing = 36) {
  const need = minSpacing / Math.max(cellPx, 1e-9);
  let step = 1;
  for (let k = 1; step < need; k++) step = [1, 2, 5][k % 3] * 10 ** Math.floor(k / 3);
  const ticks = [];
  for (let i = 0; i < n; i += step) ticks.push(i);
  return ticks;
}

/**
 * Short label for a value: 3 significant digits, exponent form outside 1e-3..1e4.
 * @param {number} v Value.
 * @returns {string}
 */
export function formatValue(v) {
  if (v !== v) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

/**
 * Read-out text of a value: 5 significant digits, trailing zeros dropped.
 * @param {number} v Value.
 * @returns {string} E.g. "-1", "0.25", "12000", "1.5e-7", "NaN", "+Inf".
 */
export function readoutValue(v) {
  if (v !== v) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const [mantissa, exponent] = Number(v).toPrecision(5).split("e");
  const m = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
  return exponent ? `${m}e${exponent}` : m;
}

/**
 * @param {number} v Value (not a number: `lo`).
 * @param {number} lo Lower bound.
 * @param {number} hi Upper bound.
 * @returns {number} `v` truncated to an integer in [lo, hi].
 */
function clampInt(v, lo, hi) {
  return Math.max(lo, Math.min(hi, Math.trunc(v) || lo));
}
