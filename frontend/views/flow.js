/**
 * Gradient flow over training: the per-timestep gradient norm of every logged step
 * as an image (x timestep, y training step, log colours), with the reach curve the
 * server computed beside it (none when it sent none).
 * @module views/flow
 */
import { AXIS_FONT, blit, scratchImage, sizeCanvas } from "../canvas_util.js";
import { pack, sequentialLut } from "../colormap.js";
import { FLOW_PLOT_HEIGHT, flowRows } from "../flow_rows.js";
import { cellGeometry, hitCell, indexTicks } from "../layout.js";
import { positiveLogRange } from "../normalize.js";
import { hexToRgb } from "../palette.js";
import { fillFlow } from "../raster.js";
import { colors } from "../theme.js";
import { integerTicks } from "../ticks.js";

/** @import { CellGeometry } from "../layout.js" */

const LUT = sequentialLut();
const GAP = 14;
/** The reach plot's share of the width, and its bounds, CSS px. */
const REACH_SHARE = 0.3;
const REACH_MIN = 120;
const REACH_MAX = 260;

/**
 * Width of the reach plot: a share of the view's, so that its integer ticks (at
 * least five, ticks.integerTicks) stay apart.
 * @param {number} availWidth Width of the whole view, CSS px.
 * @returns {number} CSS px.
 */
export function reachWidth(availWidth) {
  return Math.round(Math.max(REACH_MIN, Math.min(REACH_MAX, availWidth * REACH_SHARE)));
}

/**
 * Draws the flow image and the reach curve; more steps than pixel rows are merged
 * (flow_rows.js), the current step keeping its own row.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {{steps: number[], values: Array<Array<number|null>>,
 *   nan_counts: number[][]|null, inf_counts: number[][]|null,
 *   reach: number[]|null}} full From api.profile (a null value, the JSON form
 *   of NaN or Inf, is taken as flow_rows.js takes it).
 * @param {object} [opts]
 * @param {number|null} [opts.currentStep] Step to mark.
 * @param {number} [opts.availWidth] Width, CSS px.
 * @param {string} [opts.timeAxis] Name of the time axis (calls.timeAxisName).
 * @param {number|null} [opts.mark] Timestep to outline, e.g. a health finding's.
 * @returns {FlowGeometry} For flowAt; includes the log range drawn.
 */
export function drawFlow(canvas, full, opts = {}) {
  const profile = flowRows(full, FLOW_PLOT_HEIGHT, opts.currentStep);
  const rows = profile.values.length;
  const cols = profile.values.reduce((m, r) => Math.max(m, r.length), 0) || 1;
  const showReach = cols > 1 && profile.reach !== null;
  const availWidth = opts.availWidth || 640;
  const reachW = showReach ? reachWidth(availWidth) : 0;
  const margin = { left: 56, top: 4, right: showReach ? reachW + GAP : 4, bottom: 30 };
  const g = cellGeometry({
    cols,
    rows: Math.max(rows, 1),
    availWidth,
    maxPlotHeight: FLOW_PLOT_HEIGHT,
    maxCell: 12,
    margin,
  });
  const ctx = sizeCanvas(canvas, g.width, g.height);
  const range = positiveLogRange(profile.values.flat());
  if (rows > 0) {
    const s = scratchImage(cols, rows);
    const pad = pack(hexToRgb(colors().background));
    fillFlow(s.pixels, profile.values, profile.nan_counts, profile.inf_counts, cols, range, LUT, pad);
    blit(ctx, s, g.x, g.y, cols * g.cellW, rows * g.cellH);
  }
  drawAxes(ctx, g, profile.steps, opts.timeAxis || "timestep");
  const current = opts.currentStep == null ? -1 : profile.steps.indexOf(opts.currentStep);
  if (current >= 0) markRow(ctx, g, current);
  if (opts.mark != null && opts.mark >= 0 && opts.mark < cols) markColumn(ctx, g, opts.mark);
  const reach = showReach && profile.reach ? drawReach(ctx, g, profile.reach, cols, current, reachW) : null;
  /** @type {Array<[number, number]>} */
  const origins = [[0, 0]];
  return { g, origins, range, cols, showReach, reach, rows: profile };
}

/**
 * What drawFlow drew, for flowAt.
 * @typedef {object} FlowGeometry
 * @property {CellGeometry} g Geometry of the image.
 * @property {Array<[number, number]>} origins Its one tile's origin.
 * @property {{loLog: number, hiLog: number}} range The log range drawn.
 * @property {number} cols Timesteps.
 * @property {boolean} showReach Whether the reach plot is drawn.
 * @property {{x0: number, width: number, ticks: Array<[number, number]>}|null} reach
 *   The reach plot (null: not drawn).
 * @property {import("../flow_rows.js").FlowRows} rows The rows drawn.
 */

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {CellGeometry} g Geometry of the image.
 * @param {number[]} steps First step of each row.
 * @param {string} timeAxis Name of the time axis.
 */
function drawAxes(ctx, g, steps, timeAxis) {
  const plotW = g.cols * g.cellW;
  const plotH = g.rows * g.cellH;
  ctx.font = AXIS_FONT;
  ctx.fillStyle = colors().axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of indexTicks(g.cols, g.cellW, 32)) {
    ctx.fillText(String(t), g.x + (t + 0.5) * g.cellW, g.y + plotH + 3);
  }
  ctx.fillText(timeAxis, g.x + plotW / 2, g.y + plotH + 16);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const r of indexTicks(steps.length, g.cellH, 14)) {
    ctx.fillText(String(steps[r]), g.x - 6, g.y + (r + 0.5) * g.cellH);
  }
  ctx.strokeStyle = colors().frame;
  ctx.strokeRect(g.x - 0.5, g.y - 0.5, plotW + 1, plotH + 1);
}

/**
 * Outlines row `r`, the step shown.
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {CellGeometry} g Geometry of the image.
 * @param {number} r Row.
 */
function markRow(ctx, g, r) {
  const y = g.y + r * g.cellH;
  ctx.strokeStyle = colors().marker;
  ctx.lineWidth = 2;
  ctx.strokeRect(g.x - 1, y - 1, g.cols * g.cellW + 2, g.cellH + 2);
  ctx.lineWidth = 1;
  ctx.fillStyle = colors().marker;
  ctx.beginPath();
  ctx.moveTo(g.x - 2, y + g.cellH / 2);
  ctx.lineTo(g.x - 6, y + g.cellH / 2 - 4);
  ctx.lineTo(g.x - 6, y + g.cellH / 2 + 4);
  ctx.fill();
}

/**
 * Outlines the column of timestep `t`.
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {CellGeometry} g Geometry of the image.
 * @param {number} t Timestep.
 */
function markColumn(ctx, g, t) {
  ctx.strokeStyle = colors().marker;
  ctx.lineWidth = 2;
  ctx.strokeRect(g.x + t * g.cellW - 1, g.y - 1, g.cellW + 2, g.rows * g.cellH + 2);
  ctx.lineWidth = 1;
}

/**
 * The reach per logged step, as dots joined by a line, against integer ticks of
 * timesteps back (at least five) with grid lines.
 * @returns {{x0: number, width: number, ticks: Array<[number, number]>}} Left edge
 *   and width of the plot, and each tick's value and x, CSS px.
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {CellGeometry} g Geometry of the image beside it.
 * @param {number[]} reach Reach per row.
 * @param {number} cols Timesteps.
 * @param {number} current Row of the step shown (-1: none).
 * @param {number} reachW Width of the plot, CSS px.
 */
function drawReach(ctx, g, reach, cols, current, reachW) {
  const x0 = g.x + g.cols * g.cellW + GAP;
  const plotW = reachW - 4;
  const plotH = g.rows * g.cellH;
  const sx = plotW / Math.max(1, cols - 1);
  const theme = colors();
  ctx.fillStyle = theme.plotBackground;
  ctx.fillRect(x0, g.y, plotW, plotH);
  const ticks = integerTicks(cols - 1).map((k) => /** @type {[number, number]} */ ([k, x0 + k * sx]));
  ctx.fillStyle = theme.zeroLine;
  for (const [, x] of ticks) ctx.fillRect(Math.round(x), g.y, 1, plotH);
  ctx.strokeStyle = theme.frame;
  ctx.strokeRect(x0 - 0.5, g.y - 0.5, plotW + 1, plotH + 1);
  ctx.strokeStyle = theme.ink;
  ctx.beginPath();
  reach.forEach((k, r) => {
    const x = x0 + k * sx;
    const y = g.y + (r + 0.5) * g.cellH;
    if (r === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = theme.ink;
  reach.forEach((k, r) => {
    ctx.fillRect(x0 + k * sx - 1.5, g.y + (r + 0.5) * g.cellH - 1.5, 3, 3);
  });
  if (current >= 0 && current < reach.length) {
    ctx.fillStyle = theme.marker;
    ctx.fillRect(x0 + reach[current] * sx - 2.5, g.y + (current + 0.5) * g.cellH - 2.5, 5, 5);
  }
  ctx.font = AXIS_FONT;
  ctx.fillStyle = theme.axis;
  ctx.textBaseline = "top";
  ctx.textAlign = "center";
  for (const [k, x] of ticks) ctx.fillText(String(k), x, g.y + plotH + 3);
  ctx.fillText("timesteps back", x0 + plotW / 2, g.y + plotH + 16);
  return { x0, width: plotW, ticks };
}

/**
 * What is under the pointer.
 * @param {FlowGeometry} geom From drawFlow (which holds the rows drawn).
 * @param {unknown} _profile The profile given to drawFlow.
 * @param {number} px x, CSS px.
 * @param {number} py y, CSS px.
 * @returns {{row: number, step: number, lastStep: number, timestep: number|null,
 *   value: number|null, nan: number|null, inf: number|null, reach: number|null}|null}
 *   step..lastStep: the steps merged into the row; timestep null over
 *   the reach plot; null counts and reach: unknown (not sent by the server).
 */
export function flowAt(geom, _profile, px, py) {
  const { g, rows: profile } = geom;
  const row = Math.floor((py - g.y) / g.cellH);
  if (row < 0 || row >= profile.values.length) return null;
  const hit = hitCell(g, geom.origins, px, py);
  const step = profile.steps[row];
  const base = { row, step, lastStep: profile.lastSteps[row], reach: profile.reach?.[row] ?? null };
  if (!hit) {
    const r = geom.reach;
    if (!r || px < r.x0 || px > r.x0 + r.width) return null;
    return { ...base, timestep: null, value: null, nan: null, inf: null };
  }
  const t = hit.col;
  return {
    ...base,
    timestep: t,
    value: profile.values[row][t],
    nan: profile.nan_counts?.[row]?.[t] ?? null,
    inf: profile.inf_counts?.[row]?.[t] ?? null,
  };
}
