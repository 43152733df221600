/**
 * Heatmap view: channels x timesteps (or transposed), diverging colours, one tile per
 * sample (or per weight, with gates as channels). drawHeatmap is importable on its
 * own for benchmarks.
 * @module views/heatmap
 */
import { AXIS_FONT, blit, scratchImage, sizeCanvas } from "../canvas_util.js";
import { divergingLut } from "../colormap.js";
import { cellGeometry, hitCell, indexTicks, tileGrid } from "../layout.js";
import { fillHeatmap } from "../raster.js";
import { colors } from "../theme.js";

const LUT = divergingLut();

/**
 * @typedef {object} HeatmapGeometry
 * @property {import("../layout.js").CellGeometry} g One tile's geometry.
 * @property {Array<[number, number]>} origins Tile origins, CSS px.
 * @property {number[]} samples Batch indices into the drawn array, per tile.
 * @property {Array<number|string>} sampleIds Sample numbers (or weight names) shown
 *   to the user, per tile.
 * @property {string[]|null} titles Titles drawn above the tiles.
 * @property {string[]|null} channelNames Labels of the channel axis (null: indices).
 * @property {boolean} transpose Timesteps along y.
 */

/**
 * How tiles are laid out.
 * @typedef {object} HeatmapFrame
 * @property {{left: number, top: number, right: number, bottom: number}} margin
 *   Around each tile's plot, CSS px (titles go in the top margin).
 * @property {number} tileWidth Width one tile may take, CSS px.
 * @property {number} maxPlotHeight Height of one tile's plot, CSS px, at most.
 * @property {number} maxCell Largest cell side, CSS px.
 */

/**
 * The layout of sample tiles: one large tile, or small ones two or more per row.
 * @param {boolean} many More than one tile.
 * @param {number} availWidth Width available, CSS px.
 * @returns {HeatmapFrame}
 */
function sampleFrame(many, availWidth) {
  return {
    margin: { left: 40, top: many ? 14 : 4, right: 4, bottom: 16 },
    tileWidth: many ? Math.floor((availWidth - 8) / 2) : availWidth,
    maxPlotHeight: many ? 128 : 360,
    maxCell: many ? 6 : 24,
  };
}

/**
 * Draws one heatmap tile per sample (or per weight) into `canvas`.
 * @param {HTMLCanvasElement} canvas Target; resized to fit.
 * @param {ArrayLike<number>} array (B, T, C) values, C order.
 * @param {{batch: number, time: number, channels: number}} dims Dimensions.
 * @param {object} opts
 * @param {import("../normalize.js").Scale} opts.scale Colour scale.
 * @param {number[]} [opts.samples] Batch indices to draw (default [0]).
 * @param {Array<number|string>} [opts.sampleIds] Their labels (default: samples).
 * @param {string[]} [opts.titles] Title above each tile (default: "sample <id>"
 *   when there is more than one tile, else none).
 * @param {string[]} [opts.channelNames] Labels of the channel axis (default: the
 *   channel indices).
 * @param {string[]} [opts.timeNames] Labels of the timestep axis (default: the
 *   timestep indices; a pooled series gives its captured timesteps).
 * @param {HeatmapFrame} [opts.frame] Layout (default: the samples' layout).
 * @param {Array<Uint8Array|null>} [opts.masks] Per-tile (T,) masks, 1 = valid.
 * @param {number} [opts.maskFlipFrom] First channel reading its mask reversed.
 * @param {boolean} [opts.transpose] Timesteps along y.
 * @param {number} [opts.splitAt] Channel where a separator line is drawn
 *   (backward half of a bidirectional layer).
 * @param {number} [opts.availWidth] Width to fit into, CSS px (default 640).
 * @param {number|null} [opts.mark] Timestep (drawn column, or row when transposed)
 *   to outline in each tile, e.g. a health finding's.
 * @returns {HeatmapGeometry} For hit testing with heatmapAt.
 */
export function drawHeatmap(canvas, array, dims, opts) {
  const samples = opts.samples || [0];
  const sampleIds = opts.sampleIds || samples;
  const many = samples.length > 1;
  const titles = opts.titles || (many ? sampleIds.map((id) => `sample ${id}`) : null);
  const T = dims.time;
  const C = dims.channels;
  const cols = opts.transpose ? C : T;
  const rows = opts.transpose ? T : C;
  const availWidth = opts.availWidth || 640;
  const frame = opts.frame || sampleFrame(many, availWidth);
  const g = cellGeometry({
    cols,
    rows,
    availWidth: frame.tileWidth,
    maxPlotHeight: frame.maxPlotHeight,
    maxCell: frame.maxCell,
    margin: frame.margin,
  });
  const tiles = tileGrid(samples.length, g.width, g.height, availWidth, 8);
  const origins = tiles.origins;
  const ctx = sizeCanvas(canvas, tiles.width, tiles.height);
  const s = scratchImage(cols, rows);
  const plotW = cols * g.cellW;
  const plotH = rows * g.cellH;
  const axes = {
    transpose: opts.transpose,
    splitAt: opts.splitAt,
    names: opts.channelNames,
    times: opts.timeNames,
  };
  ctx.font = AXIS_FONT;
  ctx.fillStyle = colors().axis;
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
    if (titles) {
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.fillText(titles[i], ox + g.x, oy);
    }
    drawAxes(ctx, g, ox, oy, axes);
    if (opts.mark != null && opts.mark >= 0 && opts.mark < T) {
      markTimestep(ctx, g, ox, oy, opts.mark, Boolean(opts.transpose));
    }
  }
  const channelNames = opts.channelNames || null;
  const transpose = Boolean(opts.transpose);
  return { g, origins, samples, sampleIds, titles, channelNames, transpose };
}

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {import("../layout.js").CellGeometry} g One tile's geometry.
 * @param {number} ox Tile origin x, CSS px.
 * @param {number} oy Tile origin y.
 * @param {{transpose?: boolean, splitAt?: number, names?: string[]|null,
 *   times?: string[]|null}} axes Channel names, timestep labels, where a
 *   bidirectional layer's halves meet (undefined: nowhere).
 */
function drawAxes(ctx, g, ox, oy, { transpose, splitAt, names, times }) {
  const x0 = ox + g.x;
  const y0 = oy + g.y;
  const plotW = g.cols * g.cellW;
  const plotH = g.rows * g.cellH;
  const [xNames, yNames] = transpose ? [names ?? null, times || null] : [times || null, names ?? null];
  const label = (/** @type {string[]|null} */ given, /** @type {number} */ i) =>
    given ? given[i] : String(i);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  // Names (gates) fit closer ticks than numbers (indices, captured indices).
  const named = (/** @type {string[]|null} */ given) =>
    given !== null && !given.every((n) => /^\d+$/.test(n));
  for (const i of indexTicks(g.cols, g.cellW, named(xNames) ? 12 : 32)) {
    ctx.fillText(label(xNames, i), x0 + (i + 0.5) * g.cellW, y0 + plotH + 3);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const j of indexTicks(g.rows, g.cellH, named(yNames) ? 11 : 14)) {
    ctx.fillText(label(yNames, j), x0 - 4, y0 + (j + 0.5) * g.cellH);
  }
  ctx.strokeStyle = colors().frame;
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 - 0.5, y0 - 0.5, plotW + 1, plotH + 1);
  if (splitAt !== undefined && splitAt > 0 && splitAt < (transpose ? g.cols : g.rows)) {
    ctx.strokeStyle = colors().split;
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
 * Outlines one timestep of a tile in the marker colour.
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {import("../layout.js").CellGeometry} g One tile's geometry.
 * @param {number} ox Tile origin x, CSS px.
 * @param {number} oy Tile origin y, CSS px.
 * @param {number} t Timestep.
 * @param {boolean} transpose Timesteps along y.
 */
function markTimestep(ctx, g, ox, oy, t, transpose) {
  const x0 = ox + g.x;
  const y0 = oy + g.y;
  ctx.strokeStyle = colors().marker;
  ctx.lineWidth = 2;
  if (transpose) ctx.strokeRect(x0 - 1, y0 + t * g.cellH - 1, g.cols * g.cellW + 2, g.cellH + 2);
  else ctx.strokeRect(x0 + t * g.cellW - 1, y0 - 1, g.cellW + 2, g.rows * g.cellH + 2);
  ctx.lineWidth = 1;
}

/**
 * The cell under a point.
 * @param {HeatmapGeometry} geom From drawHeatmap.
 * @param {number} px x in canvas CSS px.
 * @param {number} py y in canvas CSS px.
 * @returns {{local: number, sample: number|string, channel: number, timestep: number}|null}
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
