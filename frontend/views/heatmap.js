/**
 * Heatmap view: channels x timesteps (or transposed), diverging colours, one tile per
 * sample. drawHeatmap is importable on its own for benchmarks.
 * @module views/heatmap
 */
import { AXIS_COLOR, AXIS_FONT, blit, scratchImage, sizeCanvas } from "../canvas_util.js";
import { divergingLut } from "../colormap.js";
import { cellGeometry, hitCell, indexTicks, tileGrid } from "../layout.js";
import { fillHeatmap } from "../raster.js";

const LUT = divergingLut();

/**
 * @typedef {object} HeatmapGeometry
 * @property {import("../layout.js").CellGeometry} g One tile's geometry.
 * @property {Array<[number, number]>} origins Tile origins, CSS px.
 * @property {number[]} samples Batch indices into the drawn array, per tile.
 * @property {number[]} sampleIds Sample numbers shown to the user, per tile.
 * @property {boolean} transpose Timesteps along y.
 */

/**
 * Draws one heatmap tile per sample into `canvas`.
 * @param {HTMLCanvasElement} canvas Target; resized to fit.
 * @param {ArrayLike<number>} array (B, T, C) values, C order.
 * @param {{batch: number, time: number, channels: number}} dims Dimensions.
 * @param {object} opts
 * @param {import("../normalize.js").Scale} opts.scale Colour scale.
 * @param {number[]} [opts.samples] Batch indices to draw (default [0]).
 * @param {number[]} [opts.sampleIds] Their labels (default: samples).
 * @param {Array<Uint8Array|null>} [opts.masks] Per-tile (T,) masks, 1 = valid.
 * @param {number} [opts.maskFlipFrom] First channel reading its mask reversed.
 * @param {boolean} [opts.transpose] Timesteps along y.
 * @param {number} [opts.splitAt] Channel where a separator line is drawn
 *   (backward half of a bidirectional layer).
 * @param {number} [opts.availWidth] Width to fit into, CSS px (default 640).
 * @param {number} [opts.maxPlotHeight] Height of one plot, CSS px.
 * @returns {HeatmapGeometry} For hit testing with heatmapAt.
 */
export function drawHeatmap(canvas, array, dims, opts) {
  const samples = opts.samples || [0];
  const sampleIds = opts.sampleIds || samples;
  const many = samples.length > 1;
  const T = dims.time;
  const C = dims.channels;
  const cols = opts.transpose ? C : T;
  const rows = opts.transpose ? T : C;
  const availWidth = opts.availWidth || 640;
  const margin = { left: 40, top: many ? 14 : 4, right: 4, bottom: 16 };
  const g = cellGeometry({
    cols,
    rows,
    availWidth: many ? Math.floor((availWidth - 8) / 2) : availWidth, // 2+ per row
    maxPlotHeight: opts.maxPlotHeight || (many ? 128 : 360),
    maxCell: many ? 6 : 24,
    margin,
  });
  const tiles = tileGrid(samples.length, g.width, g.height, availWidth, 8);
  const origins = tiles.origins;
  const ctx = sizeCanvas(canvas, tiles.width, tiles.height);
  const s = scratchImage(cols, rows);
  const plotW = cols * g.cellW;
  const plotH = rows * g.cellH;
  ctx.font = AXIS_FONT;
  ctx.fillStyle = AXIS_COLOR;
  for (let i = 0; i < samples.length; i++) {
    fillHeatmap(s.pixels, array, dims, {
      sample: samples[i],
      scale: opts.scale,
      lut: LUT,
      mask: opts.masks ? opts.masks[i] : null,
      maskFlipFrom: opts.maskFlipFrom,
      transpose: opts.transpose,
    });
    const [ox, oy] = origins[i];
    blit(ctx, s, ox + g.x, oy + g.y, plotW, plotH);
    if (many) {
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.fillText(`sample ${sampleIds[i]}`, ox + g.x, oy);
    }
    drawAxes(ctx, g, ox, oy, opts.transpose, opts.splitAt);
  }
  return { g, origins, samples, sampleIds, transpose: Boolean(opts.transpose) };
}

function drawAxes(ctx, g, ox, oy, transpose, splitAt) {
  const x0 = ox + g.x;
  const y0 = oy + g.y;
  const plotW = g.cols * g.cellW;
  const plotH = g.rows * g.cellH;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const i of indexTicks(g.cols, g.cellW, 32)) {
    ctx.fillText(String(i), x0 + (i + 0.5) * g.cellW, y0 + plotH + 3);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const j of indexTicks(g.rows, g.cellH, 14)) {
    ctx.fillText(String(j), x0 - 4, y0 + (j + 0.5) * g.cellH);
  }
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 - 0.5, y0 - 0.5, plotW + 1, plotH + 1);
  if (splitAt > 0 && splitAt < (transpose ? g.cols : g.rows)) {
    ctx.strokeStyle = "#222";
    ctx.beginPath();
    if (transpose) {
      ctx.moveTo(x0 + splitAt * g.cellW, y0);
      ctx.lineTo(x0 + splitAt * g.cellW, y0 + plotH);
    } else {
      ctx.moveTo(x0, y0 + splitAt * g.cellH);
      ctx.lineTo(x0 + plotW, y0 + splitAt * g.cellH);
    }
    ctx.stroke();
  }
}

/**
 * The cell under a point.
 * @param {HeatmapGeometry} geom From drawHeatmap.
 * @param {number} px x in canvas CSS px.
 * @param {number} py y in canvas CSS px.
 * @returns {{local: number, sample: number, channel: number, timestep: number}|null}
 */
export function heatmapAt(geom, px, py) {
  const hit = hitCell(geom.g, geom.origins, px, py);
  if (!hit) return null;
  const channel = geom.transpose ? hit.col : hit.row;
  const timestep = geom.transpose ? hit.row : hit.col;
  return {
    local: geom.samples[hit.tile],
    sample: geom.sampleIds[hit.tile],
    channel,
    timestep,
  };
}
