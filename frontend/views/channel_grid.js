/**
 * Channel grid view: one small line chart per channel, value against timestep, the
 * samples overlaid with one colour per sample (the same in every chart); NaN, +Inf
 * and -Inf are marked in their own colours (middle, top, bottom of the chart).
 * @module views/channel_grid
 */
import { AXIS_FONT, sizeCanvas } from "../canvas_util.js";
import { pack, samplePacked } from "../colormap.js";
import { chartGrid, formatValue, hitTile } from "../layout.js";
import { hexToRgb } from "../palette.js";
import { fillRect, markNonFinite, strokeSeries } from "../raster.js";
import { colors as themeColors } from "../theme.js";

const BASE_PAD = { left: 2, top: 12, right: 2, bottom: 2 };
/** Space between a chart's edge and its header texts, CSS px. */
const TEXT_INSET = 2;
/** Height of a header line (chart title, scale label), CSS px. */
const LINE_H = 12;
/** Least space between a chart's title and its scale label on one line, CSS px. */
const HEADER_GAP = 8;
/** Chart height with a one-line header, CSS px (layout.chartGrid). */
const CHART_H = 60;

/**
 * What drawChannelGrid drew, for channelGridAt: the charts' origins and size, the
 * plot inside each (pw x ph after `pad`), the x step per timestep, the y ranges,
 * the samples drawn and their numbers, and the boxes of the header texts.
 * @typedef {object} GridGeometry
 * @property {Array<[number, number]>} origins
 * @property {number} chartW
 * @property {number} chartH
 * @property {number} pw
 * @property {number} ph
 * @property {number} dx
 * @property {{left: number, top: number, right: number, bottom: number}} pad
 * @property {{lo: Float64Array, hi: Float64Array}} ranges
 * @property {number[]} samples
 * @property {number[]} sampleIds
 * @property {Array<{title: number[], scale: number[]}>} labels
 */

/**
 * Per-channel y ranges of the drawn samples.
 * @param {ArrayLike<number>} array (B, T, C).
 * @param {{time: number, channels: number}} dims Dimensions.
 * @param {number[]} samples Batch indices drawn.
 * @param {"shared"|"free"} yaxis Shared: one range for all charts.
 * @returns {{lo: Float64Array, hi: Float64Array}} Symmetric around 0, or [0, max]
 *   when no drawn value is negative.
 */
export function channelRanges(array, dims, samples, yaxis) {
  const T = dims.time;
  const C = dims.channels;
  const max = new Float64Array(C);
  let negative = false;
  for (const b of samples) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * C;
      for (let c = 0; c < C; c++) {
        const v = array[row + c];
        const a = v < 0 ? -v : v;
        if (a > max[c] && a !== Infinity) max[c] = a;
        if (v < 0) negative = true;
      }
    }
  }
  if (yaxis === "shared") max.fill(max.reduce((a, b) => (b > a ? b : a), 0));
  const lo = new Float64Array(C);
  const hi = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = max[c] > 0 ? max[c] : 1;
    hi[c] = m;
    lo[c] = negative ? -m : 0;
  }
  return { lo, hi };
}

/**
 * Draws the channel grid. Lines and backgrounds are rasterised straight into an
 * ImageData (raster.strokeSeries); only the labels use canvas text.
 * @param {HTMLCanvasElement} canvas Target; resized to fit.
 * @param {ArrayLike<number>} array (B, T, C) values, C order.
 * @param {{batch: number, time: number, channels: number}} dims Dimensions.
 * @param {object} opts
 * @param {number[]} [opts.samples] Batch indices drawn (default all).
 * @param {number[]} [opts.sampleIds] Sample numbers (colours, read-out).
 * @param {string} [opts.color] One "#rrggbb" colour for all lines (batch mean).
 * @param {"shared"|"free"} [opts.yaxis] y axis per chart or shared.
 * @param {Uint8Array|null} [opts.mask] (T,) 1 = valid timestep; others shaded.
 * @param {number} [opts.maskFlipFrom] First channel reading the mask reversed.
 * @param {(c: number) => string} [opts.channelLabel] Chart titles.
 * @param {number} [opts.availWidth] Width to fit into, CSS px.
 * @returns {GridGeometry} Geometry for channelGridAt.
 */
export function drawChannelGrid(canvas, array, dims, opts = {}) {
  const T = dims.time;
  const C = dims.channels;
  const samples = opts.samples || [...Array(dims.batch).keys()];
  const sampleIds = opts.sampleIds || samples;
  const ranges = channelRanges(array, dims, samples, opts.yaxis || "shared");
  const titles = [...Array(C).keys()].map(opts.channelLabel || ((c) => `ch ${c}`));
  const scales = titles.map((_, c) => scaleText(ranges.lo[c], ranges.hi[c]));
  const availWidth = opts.availWidth || 640;
  const header = headerLines(canvas, titles, scales, chartGrid(C, availWidth).chartW);
  const pad = { ...BASE_PAD, top: header * LINE_H };
  const { chartW, chartH, grid } = chartGrid(C, availWidth, undefined, CHART_H - LINE_H + pad.top);
  const ctx = sizeCanvas(canvas, grid.width, grid.height);
  const dpr = canvas.width / Math.max(1, grid.width);
  const image = canvasImage(canvas, ctx);
  const px = new Uint32Array(image.data.buffer);
  const W = canvas.width;
  px.fill(0);
  const pw = chartW - pad.left - pad.right;
  const ph = chartH - pad.top - pad.bottom;
  const one = opts.color ? pack(hexToRgb(opts.color)) : 0;
  const colors = sampleIds.map((id) => (opts.color ? one : samplePacked(id)));
  const flipFrom = opts.maskFlipFrom ?? C;
  const marker = Math.max(3, Math.round(4 * dpr));
  const frame = frameColors();
  for (let c = 0; c < C; c++) {
    const box = {
      x: Math.round((grid.origins[c][0] + pad.left) * dpr),
      y: Math.round((grid.origins[c][1] + pad.top) * dpr),
      w: Math.round(pw * dpr),
      h: Math.round(ph * dpr),
    };
    drawFrame(px, W, box, ranges.lo[c], ranges.hi[c], opts.mask, c >= flipFrom, T, frame);
    for (let k = 0; k < samples.length; k++) {
      const off = samples[k] * T * C + c;
      strokeSeries(px, W, array, off, C, T, box, ranges.lo[c], ranges.hi[c], colors[k]);
    }
    for (const b of samples) markNonFinite(px, W, array, b * T * C + c, C, T, box, marker);
  }
  ctx.putImageData(image, 0, 0);
  const labels = drawLabels(ctx, grid.origins, chartW, titles, scales, header);
  const dx = T > 1 ? pw / (T - 1) : 0;
  return {
    origins: grid.origins,
    chartW,
    chartH,
    pw,
    ph,
    dx,
    pad,
    ranges,
    samples,
    sampleIds,
    labels,
  };
}

/**
 * A chart's scale label: its y range's top, "±" when it spans negative values.
 * @param {number} lo Bottom of the range.
 * @param {number} hi Top.
 * @returns {string}
 */
function scaleText(lo, hi) {
  return lo < 0 ? `±${formatValue(hi)}` : formatValue(hi);
}

/**
 * How many header lines the charts need: 1 when every title and its scale label
 * fit side by side in a chart's width, else 2 (the scale label on a line of its
 * own under the title), for all charts alike.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {string[]} titles Chart titles.
 * @param {string[]} scales Scale labels.
 * @param {number} chartW Chart width, CSS px.
 * @returns {1|2}
 */
function headerLines(canvas, titles, scales, chartW) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  ctx.font = AXIS_FONT;
  const room = chartW - 2 * TEXT_INSET;
  const fits = titles.every(
    (t, c) => ctx.measureText(t).width + HEADER_GAP + ctx.measureText(scales[c]).width <= room,
  );
  return fits ? 1 : 2;
}

/**
 * `text`, cut with "…" to fit `room` px if it does not.
 * @param {CanvasRenderingContext2D} ctx Context (its font set).
 * @param {string} text Text.
 * @param {number} room Width, CSS px.
 * @returns {string}
 */
function fitText(ctx, text, room) {
  if (ctx.measureText(text).width <= room) return text;
  let n = text.length;
  while (n > 1 && ctx.measureText(`${text.slice(0, n - 1)}…`).width > room) n--;
  return `${text.slice(0, n - 1)}…`;
}

/** Packed colours of a chart's background, zero line and masked shading. */
function frameColors() {
  const t = themeColors();
  const packed = (/** @type {string} */ css) => pack(hexToRgb(css));
  return { bg: packed(t.plotBackground), zero: packed(t.zeroLine), shade: packed(t.maskShade) };
}

/**
 * A chart's background, masked timesteps shaded, and its zero line.
 * @param {Uint32Array} px Canvas pixels.
 * @param {number} W Canvas width, pixels.
 * @param {{x: number, y: number, w: number, h: number}} box Plot box, pixels.
 * @param {number} lo Bottom of the y range.
 * @param {number} hi Top.
 * @param {Uint8Array|null|undefined} mask (T,) 1 = valid timestep.
 * @param {boolean} flip Read the mask reversed.
 * @param {number} T Timesteps.
 * @param {ReturnType<typeof frameColors>} frame Packed colours.
 */
function drawFrame(px, W, box, lo, hi, mask, flip, T, frame) {
  fillRect(px, W, box.x, box.y, box.w, box.h, frame.bg);
  if (mask && T > 1) {
    const colW = box.w / T;
    for (let t = 0; t < T; t++) {
      if (!(flip ? mask[T - 1 - t] : mask[t])) {
        const x = box.x + (t * (box.w - 1)) / (T - 1) - colW / 2;
        const x0 = Math.max(box.x, x);
        const x1 = Math.min(box.x + box.w, x + Math.max(1, colW));
        fillRect(px, W, x0, box.y, x1 - x0, box.h, frame.shade);
      }
    }
  }
  if (lo < 0) {
    const y = box.y + box.h - 1 - ((0 - lo) * (box.h - 1)) / (hi - lo);
    fillRect(px, W, box.x, y, box.w, 1, frame.zero);
  }
}

/**
 * Draws each chart's title (left) and scale label (right), on one line or, with
 * `lines` 2, the scale label under the title; texts too wide are cut with "…".
 * @returns {Array<{title: number[], scale: number[]}>} Per chart, the boxes
 *   [left, top, right, bottom] of the two texts as drawn, CSS px.
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {Array<[number, number]>} origins Chart origins, CSS px.
 * @param {number} w Chart width, CSS px.
 * @param {string[]} titles Titles.
 * @param {string[]} scales Scale labels.
 * @param {number} lines Header lines (headerLines).
 */
function drawLabels(ctx, origins, w, titles, scales, lines) {
  ctx.font = AXIS_FONT;
  ctx.fillStyle = themeColors().axis;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  const room = w - 2 * TEXT_INSET;
  /** @type {Array<{title: number[], scale: number[]}>} */
  const boxes = [];
  for (let c = 0; c < origins.length; c++) {
    const [ox, oy] = origins[c];
    const scale = fitText(ctx, scales[c], room);
    const scaleW = ctx.measureText(scale).width;
    const titleRoom = lines === 1 ? room - HEADER_GAP - scaleW : room;
    const title = fitText(ctx, titles[c], titleRoom);
    const titleW = ctx.measureText(title).width;
    const left = ox + TEXT_INSET;
    const right = ox + w - TEXT_INSET;
    const scaleY = oy + (lines - 1) * LINE_H;
    ctx.fillText(title, left, oy);
    ctx.fillText(scale, right - scaleW, scaleY);
    boxes.push({
      title: [left, oy, left + titleW, oy + LINE_H],
      scale: [right - scaleW, scaleY, right, scaleY + LINE_H],
    });
  }
  return boxes;
}

/**
 * A reused ImageData the size of the canvas (kept on the canvas as `__rgImage`).
 * @param {HTMLCanvasElement & {__rgImage?: ImageData}} canvas Canvas.
 * @param {CanvasRenderingContext2D} ctx Its context.
 * @returns {ImageData}
 */
function canvasImage(canvas, ctx) {
  let img = canvas.__rgImage;
  if (!img || img.width !== canvas.width || img.height !== canvas.height) {
    img = ctx.createImageData(canvas.width, canvas.height);
    canvas.__rgImage = img;
  }
  return img;
}

/**
 * The chart, timestep and nearest sample line under a point.
 * @param {GridGeometry} geom From drawChannelGrid.
 * @param {ArrayLike<number>} array The drawn array.
 * @param {{time: number, channels: number}} dims Dimensions.
 * @param {number} px x, CSS px.
 * @param {number} py y, CSS px.
 * @returns {{local: number, sample: number, channel: number, timestep: number,
 *   value: number}|null}
 */
export function channelGridAt(geom, array, dims, px, py) {
  const hit = hitTile(geom.origins, geom.chartW, geom.chartH, px, py);
  if (!hit || geom.samples.length === 0) return null;
  const c = hit.tile;
  const T = dims.time;
  const C = dims.channels;
  const t = geom.dx > 0 ? Math.round((hit.x - geom.pad.left) / geom.dx) : 0;
  const timestep = Math.max(0, Math.min(T - 1, t));
  const lo = geom.ranges.lo[c];
  const target = lo + ((geom.pad.top + geom.ph - hit.y) * (geom.ranges.hi[c] - lo)) / geom.ph;
  let best = 0;
  let bestDist = Infinity;
  for (let k = 0; k < geom.samples.length; k++) {
    const v = array[(geom.samples[k] * T + timestep) * C + c];
    const d = Number.isFinite(v) ? Math.abs(v - target) : Infinity;
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  const local = geom.samples[best];
  return {
    local,
    sample: geom.sampleIds[best],
    channel: c,
    timestep,
    value: array[(local * T + timestep) * C + c],
  };
}
