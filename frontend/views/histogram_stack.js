/**
 * Per-gate distributions over training: one offset histogram stack per gate
 * (histogram_stack.js), the oldest step at the back, the step shown outlined.
 * @module views/histogram_stack
 */
import { AXIS_FONT, sizeCanvas } from "../canvas_util.js";
import { css, interpolate } from "../colormap.js";
import { curvePoints, stackAt, stackGeometry } from "../histogram_stack.js";
import { chartGrid, formatValue } from "../layout.js";
import { PALETTE } from "../palette.js";
import { colors } from "../theme.js";

/** @import { Stack, StackGeometry } from "../histogram_stack.js" */

/** Margins around a stack's plot, CSS px: title above, step labels left, values below. */
const MARGIN = { left: 52, top: 16, right: 8, bottom: 16 };
const CHART_W = 200;
const CHART_H = 150;

/**
 * @param {HTMLCanvasElement} canvas Target; resized to fit.
 * @param {Array<{gate: string, stack: import("../histogram_stack.js").Stack|null,
 *   error: string|null}>} stacks Per gate.
 * @param {{currentStep: number, availWidth: number}} opts The step shown (outlined).
 * @returns {{charts: Array<{gate: string, stack: Stack|null, geom: StackGeometry}>}}
 *   For hit testing with histogramStackAt.
 */
export function drawHistogramStacks(canvas, stacks, opts) {
  const { chartW, chartH, grid } = chartGrid(stacks.length, opts.availWidth, CHART_W, CHART_H, 10);
  const ctx = sizeCanvas(canvas, grid.width, grid.height);
  const c = colors();
  ctx.font = AXIS_FONT;
  const charts = stacks.map(({ gate, stack, error }, i) => {
    const [ox, oy] = grid.origins[i];
    const box = {
      x: ox + MARGIN.left,
      y: oy + MARGIN.top,
      w: chartW - MARGIN.left - MARGIN.right,
      h: chartH - MARGIN.top - MARGIN.bottom,
    };
    ctx.fillStyle = c.axis;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(`gate ${gate}`, box.x, oy);
    const geom = stackGeometry(stack ? stack.steps.length : 0, box);
    if (!stack || stack.steps.length === 0) {
      ctx.fillText(error ? "histograms not loaded" : "no histograms logged", box.x, box.y + 4);
      return { gate, stack: null, geom };
    }
    drawStack(ctx, stack, geom, opts.currentStep);
    drawAxes(ctx, stack, geom);
    return { gate, stack, geom };
  });
  return { charts };
}

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {Stack} stack Stack.
 * @param {StackGeometry} geom Its geometry.
 * @param {number} currentStep Step outlined.
 */
function drawStack(ctx, stack, geom, currentStep) {
  const n = stack.steps.length;
  const c = colors();
  for (let i = 0; i < n; i++) {
    const points = curvePoints(stack, geom, i);
    const base = geom.baselines[i];
    ctx.beginPath();
    ctx.moveTo(geom.box.x, base);
    for (const [x, y] of points) ctx.lineTo(x, y);
    ctx.lineTo(geom.box.x + geom.box.w, base);
    ctx.closePath();
    ctx.fillStyle = css(interpolate(PALETTE.sequential, n > 1 ? i / (n - 1) : 1));
    ctx.fill();
    const current = stack.steps[i] === currentStep;
    ctx.strokeStyle = current ? c.marker : c.plotBackground;
    ctx.lineWidth = current ? 2 : 0.5;
    ctx.stroke();
  }
}

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {Stack} stack Stack.
 * @param {StackGeometry} geom Its geometry.
 */
function drawAxes(ctx, stack, geom) {
  const { box, baselines } = geom;
  const n = stack.steps.length;
  ctx.fillStyle = colors().axis;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText(`step ${stack.steps[0]}`, box.x - 4, baselines[0]);
  if (n > 1) ctx.fillText(`step ${stack.steps[n - 1]}`, box.x - 4, baselines[n - 1]);
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(formatValue(stack.lo), box.x, box.y + box.h + 3);
  ctx.textAlign = "right";
  ctx.fillText(formatValue(stack.hi), box.x + box.w, box.y + box.h + 3);
  if (stack.lo < 0 && stack.hi > 0) {
    const x = box.x + (-stack.lo / (stack.hi - stack.lo)) * box.w;
    ctx.textAlign = "center";
    ctx.fillText("0", x, box.y + box.h + 3);
  }
}

/**
 * What lies under a point.
 * @param {ReturnType<typeof drawHistogramStacks>} drawn From drawHistogramStacks.
 * @param {number} px x, CSS px.
 * @param {number} py y.
 * @returns {{gate: string, step: number, lo: number, hi: number, count: number}|null}
 */
export function histogramStacksAt(drawn, px, py) {
  for (const { gate, stack, geom } of drawn.charts) {
    if (!stack) continue;
    const hit = stackAt(stack, geom, px, py);
    if (hit) return { ...hit, gate };
  }
  return null;
}
