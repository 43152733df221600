/**
 * 0D view for data without a time axis (return_sequences=False): the gradient of
 * every channel as a scatter, one colour per sample.
 * @module views/scalar0d
 */
import { AXIS_FONT, sizeCanvas } from "../canvas_util.js";
import { SPECIAL, css, sampleColor } from "../colormap.js";
import { formatValue, indexTicks } from "../layout.js";
import { maxAbsFinite } from "../normalize.js";
import { colors } from "../theme.js";

const M = { left: 52, top: 8, right: 8, bottom: 18 };
/** Distance (px) between +-max and the plot edges, so no point is clipped. */
const INSET = 5;

/**
 * Draws the scatter.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {Float32Array|Float64Array} array (B, C) values (rank 2, or (B, 1, C)).
 * @param {{batch: number, channels: number}} dims Dimensions.
 * @param {object} opts
 * @param {number[]} [opts.samples] Batch indices drawn (default all).
 * @param {number[]} [opts.sampleIds] Sample numbers (colours).
 * @param {string} [opts.color] One colour for all points.
 * @param {number} [opts.availWidth] Width, CSS px.
 * @param {number} [opts.height] Height, CSS px.
 * @returns {{hi: number, dx: number, ph: number, samples: number[],
 *   sampleIds: number[], channels: number, left: number, top: number, inset: number}}
 *   Geometry for scalar0dAt.
 */
export function drawScalar0d(canvas, array, dims, opts = {}) {
  const C = dims.channels;
  const samples = opts.samples || [...Array(dims.batch).keys()];
  const sampleIds = opts.sampleIds || samples;
  const width = Math.max(200, Math.min(opts.availWidth || 640, M.left + M.right + C * 12));
  const height = opts.height || 220;
  const ctx = sizeCanvas(canvas, width, height);
  const pw = width - M.left - M.right;
  const ph = height - M.top - M.bottom;
  let m = 0;
  for (const b of samples) m = Math.max(m, maxAbsFinite(array.subarray(b * C, (b + 1) * C)));
  const hi = m > 0 ? m : 1;
  const dx = pw / C;
  const half = ph / 2 - INSET;
  const yOf = (/** @type {number} */ v) => M.top + ph / 2 - (v / hi) * half;
  const theme = colors();
  ctx.fillStyle = theme.plotBackground;
  ctx.fillRect(M.left, M.top, pw, ph);
  ctx.fillStyle = theme.zeroLine;
  ctx.fillRect(M.left, Math.round(yOf(0)), pw, 1);
  for (let k = 0; k < samples.length; k++) {
    const base = samples[k] * C;
    const color = opts.color || sampleColor(sampleIds[k]);
    for (let c = 0; c < C; c++) {
      const v = array[base + c];
      let y;
      if (v !== v) [ctx.fillStyle, y] = [css(SPECIAL.nan), M.top + ph / 2];
      else if (v === Infinity) [ctx.fillStyle, y] = [css(SPECIAL.posInf), M.top + 2];
      else if (v === -Infinity) [ctx.fillStyle, y] = [css(SPECIAL.negInf), M.top + ph - 2];
      else [ctx.fillStyle, y] = [color, yOf(v)];
      ctx.fillRect(M.left + (c + 0.5) * dx - 2, y - 2, 4, 4);
      if (theme.nonfiniteOutline && !Number.isFinite(v)) {
        // e.g. +Inf's black on a dark plot: ringed so that it stays visible
        ctx.strokeStyle = theme.nonfiniteOutline;
        ctx.strokeRect(M.left + (c + 0.5) * dx - 2.5, y - 2.5, 5, 5);
      }
    }
  }
  drawAxes(ctx, C, dx, hi, pw, ph, yOf);
  return { hi, dx, ph, samples, sampleIds, channels: C, left: M.left, top: M.top, inset: INSET };
}

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {number} C Channels.
 * @param {number} dx Width of a channel's column, CSS px.
 * @param {number} hi max|value| drawn.
 * @param {number} pw Plot width, CSS px.
 * @param {number} ph Plot height, CSS px.
 * @param {(v: number) => number} yOf y of a value, CSS px.
 */
function drawAxes(ctx, C, dx, hi, pw, ph, yOf) {
  ctx.font = AXIS_FONT;
  ctx.fillStyle = colors().axis;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of [hi, 0, -hi]) ctx.fillText(formatValue(v), M.left - 4, yOf(v));
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const c of indexTicks(C, dx, 28)) {
    ctx.fillText(String(c), M.left + (c + 0.5) * dx, M.top + ph + 3);
  }
  ctx.strokeStyle = colors().frame;
  ctx.strokeRect(M.left - 0.5, M.top - 0.5, pw + 1, ph + 1);
}

/**
 * The point nearest to the pointer in its channel column.
 * @param {ReturnType<typeof drawScalar0d>} geom From drawScalar0d.
 * @param {ArrayLike<number>} array Drawn array.
 * @param {number} px x, CSS px.
 * @param {number} py y, CSS px.
 * @returns {{local: number, sample: number, channel: number, value: number}|null}
 */
export function scalar0dAt(geom, array, px, py) {
  const c = Math.floor((px - M.left) / geom.dx);
  if (c < 0 || c >= geom.channels || py < M.top || py > M.top + geom.ph) return null;
  const target = ((M.top + geom.ph / 2 - py) / (geom.ph / 2 - INSET)) * geom.hi;
  let best = 0;
  let dist = Infinity;
  geom.samples.forEach((b, k) => {
    const v = array[b * geom.channels + c];
    const d = Number.isFinite(v) ? Math.abs(v - target) : 0;
    if (d < dist) [best, dist] = [k, d];
  });
  const local = geom.samples[best];
  const value = array[local * geom.channels + c];
  return { local, sample: geom.sampleIds[best], channel: c, value };
}
