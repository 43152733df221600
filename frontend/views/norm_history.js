/**
 * Norm over training, for data without a time axis ((batch, channels), e.g. the
 * output gradient of a layer that returns its last output only): one L2 norm per
 * logged step, x the training step, y the norm on a log axis; NaN and +Inf marked
 * at the top in their own colours. It takes the flow view's place (a flow image of
 * one timestep would be a 1-pixel strip), as the exporter's `norm_history` does.
 * @module views/norm_history
 */
import { AXIS_FONT, sizeCanvas } from "../canvas_util.js";
import { css, SPECIAL } from "../colormap.js";
import { indexTicks } from "../layout.js";
import { positiveLogRange } from "../normalize.js";
import { colors } from "../theme.js";
import { formatTicks } from "../ticks.js";

const M = { left: 56, top: 8, right: 12, bottom: 32 };
const PLOT_H = 140;

/**
 * Draws the norm of each logged step.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {{steps: number[], values: number[][]}} profile From api.profile: one
 *   value per step (a single timestep).
 * @param {object} [opts]
 * @param {number|null} [opts.currentStep] Step to mark.
 * @param {number} [opts.availWidth] Width, CSS px.
 * @returns {{xs: number[], top: number, bottom: number, range: {loLog: number,
 *   hiLog: number}}} Geometry for normHistoryAt: each step's x, the plot's top and
 *   bottom, CSS px, and the log range drawn.
 */
export function drawNormHistory(canvas, profile, opts = {}) {
  const norms = profile.values.map((row) => (row.length ? row[0] : NaN));
  const n = norms.length;
  const width = Math.max(200, opts.availWidth || 640);
  const plotW = width - M.left - M.right;
  const ctx = sizeCanvas(canvas, width, M.top + PLOT_H + M.bottom);
  const range = positiveLogRange(norms, { min: 1, max: 12 });
  const span = range.hiLog - range.loLog || 1;
  const xOf = (/** @type {number} */ i) => M.left + (n > 1 ? (i * plotW) / (n - 1) : plotW / 2);
  const yOf = (/** @type {number} */ v) => M.top + PLOT_H * (1 - (Math.log10(v) - range.loLog) / span);
  const theme = colors();
  ctx.fillStyle = theme.plotBackground;
  ctx.fillRect(M.left, M.top, plotW, PLOT_H);
  drawAxes(ctx, profile.steps, range, xOf, plotW);
  const points = norms.map((v, i) => ({ x: xOf(i), y: v > 0 && v < Infinity ? yOf(v) : null }));
  ctx.strokeStyle = theme.ink;
  ctx.beginPath();
  let open = false;
  for (const p of points) {
    if (p.y === null) open = false;
    else if (open) ctx.lineTo(p.x, p.y);
    else {
      ctx.moveTo(p.x, p.y);
      open = true;
    }
  }
  ctx.stroke();
  points.forEach((p, i) => {
    const v = norms[i];
    if (p.y !== null) {
      ctx.fillStyle = theme.ink;
      ctx.fillRect(p.x - 2, p.y - 2, 4, 4);
    } else if (v !== 0) {
      ctx.fillStyle = css(v === Infinity ? SPECIAL.posInf : SPECIAL.nan);
      ctx.fillRect(p.x - 3, M.top, 6, 6);
    }
  });
  const current = opts.currentStep == null ? -1 : profile.steps.indexOf(opts.currentStep);
  if (current >= 0) {
    ctx.strokeStyle = theme.marker;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(points[current].x, M.top);
    ctx.lineTo(points[current].x, M.top + PLOT_H);
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  return { xs: points.map((p) => p.x), top: M.top, bottom: M.top + PLOT_H, range };
}

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {number[]} steps Logged steps.
 * @param {{loLog: number, hiLog: number}} range Log range of the y axis.
 * @param {(i: number) => number} xOf x of the i-th step, CSS px.
 * @param {number} plotW Plot width, CSS px.
 */
function drawAxes(ctx, steps, range, xOf, plotW) {
  const theme = colors();
  ctx.font = AXIS_FONT;
  ctx.fillStyle = theme.axis;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const span = range.hiLog - range.loLog || 1;
  const decades = [];
  for (let d = Math.ceil(range.loLog); d <= Math.floor(range.hiLog); d++) decades.push(d);
  const every = Math.ceil(decades.length / 5) || 1;
  let shown = decades.filter((_, i) => i % every === 0);
  if (shown.length < 3) shown = [0, 0.5, 1].map((f) => range.loLog + f * span); // < 3 decades
  const labels = formatTicks(shown.map((d) => 10 ** d));
  shown.forEach((d, i) => {
    const y = M.top + PLOT_H * (1 - (d - range.loLog) / span);
    ctx.fillText(labels[i], M.left - 6, y);
  });
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const cell = steps.length > 1 ? plotW / (steps.length - 1) : plotW;
  for (const i of indexTicks(steps.length, cell, 48)) {
    ctx.fillText(String(steps[i]), xOf(i), M.top + PLOT_H + 3);
  }
  ctx.fillText("training step", M.left + plotW / 2, M.top + PLOT_H + 17);
  ctx.strokeStyle = theme.frame;
  ctx.strokeRect(M.left - 0.5, M.top - 0.5, plotW + 1, PLOT_H + 1);
}

/**
 * The logged step nearest a point.
 * @param {ReturnType<typeof drawNormHistory>} geom From drawNormHistory.
 * @param {{steps: number[], values: number[][]}} profile The drawn profile.
 * @param {number} px x, CSS px.
 * @param {number} py y, CSS px.
 * @returns {{row: number, step: number, value: number}|null} null outside the plot.
 */
export function normHistoryAt(geom, profile, px, py) {
  if (geom.xs.length === 0 || py < geom.top || py > geom.bottom) return null;
  let row = 0;
  geom.xs.forEach((x, i) => {
    if (Math.abs(x - px) < Math.abs(geom.xs[row] - px)) row = i;
  });
  if (Math.abs(geom.xs[row] - px) > 12) return null;
  const values = profile.values[row];
  return { row, step: profile.steps[row], value: values.length ? values[0] : NaN };
}
