/**
 * Rasterisation of values into packed pixels (one pixel per cell), allocation-free.
 * Pure: no DOM; the views blit the result.
 * @module raster
 */
import { CENTER, PACKED } from "./colormap.js";
import { positiveLogUnit, toUnit } from "./normalize.js";

/**
 * Fills one sample of a (B, T, C) tensor into `pixels`.
 * Not transposed: T columns x C rows (pixel c * T + t); transposed: C columns x T
 * rows (pixel t * C + c).
 * @param {Uint32Array} pixels Output, at least T * C long.
 * @param {ArrayLike<number>} array Values, C order.
 * @param {{time: number, channels: number}} dims Dimensions.
 * @param {object} o
 * @param {number} [o.sample] Sample index into the array's batch axis.
 * @param {import("./normalize.js").Scale} o.scale Colour scale.
 * @param {Uint32Array} o.lut Diverging LUT (colormap.divergingLut()).
 * @param {Uint8Array|null} [o.mask] (T,) 1 = valid timestep; invalid cells are grey.
 * @param {number} [o.maskFlipFrom] Channels from here read the mask time-reversed
 *   (the reflected backward half of a bidirectional layer).
 * @param {boolean} [o.transpose] Timesteps along y.
 */
export function fillHeatmap(pixels, array, dims, o) {
  const T = dims.time;
  const C = dims.channels;
  const base = (o.sample || 0) * T * C;
  const { lut, scale, mask } = o;
  const flipFrom = o.maskFlipFrom ?? C;
  const straddle = scale.kind === "linear" && scale.lo < 0 && scale.hi > 0;
  const invHi = straddle ? 1 / scale.hi : 0;
  const invLo = straddle ? -1 / scale.lo : 0;
  const { nan, posInf, negInf, masked } = PACKED;
  for (let t = 0; t < T; t++) {
    const valid = mask ? mask[t] : 1;
    const validFlip = mask ? mask[T - 1 - t] : 1;
    const row = base + t * C;
    for (let c = 0; c < C; c++) {
      const v = array[row + c];
      let p;
      if (!(c < flipFrom ? valid : validFlip)) p = masked;
      else if (v !== v) p = nan;
      else if (v === Infinity) p = posInf;
      else if (v === -Infinity) p = negInf;
      else {
        let u = straddle ? (v >= 0 ? v * invHi : v * invLo) : toUnit(v, scale);
        u = u > 1 ? 1 : u < -1 ? -1 : u;
        p = lut[u < 0 ? CENTER - ((-u * 127 + 0.5) | 0) : CENTER + ((u * 127 + 0.5) | 0)];
      }
      pixels[o.transpose ? t * C + c : c * T + t] = p;
    }
  }
}

/**
 * Fills the gradient-flow image: one row per logged step, one column per timestep,
 * sequential log colours; NaN / Inf counts win over the value. Rows shorter than
 * `cols` (fewer timesteps logged at that step) are padded with `pad`.
 * @param {Uint32Array} pixels Output, rows x cols.
 * @param {Array<Array<number|null>>} values Per-step rows of per-timestep norms
 *   (null, the JSON form of NaN or Inf: coloured by the counts, else as 0).
 * @param {number[][]|null} nanCounts Same shape, NaN counts.
 * @param {number[][]|null} infCounts Same shape, Inf counts.
 * @param {number} cols Timesteps.
 * @param {{loLog: number, hiLog: number}} range From normalize.positiveLogRange.
 * @param {Uint32Array} lut Sequential LUT.
 * @param {number} [pad] Packed colour of the padding (default: the palette's
 *   background; the dark theme passes its own).
 */
export function fillFlow(pixels, values, nanCounts, infCounts, cols, range, lut, pad = PACKED.background) {
  for (let r = 0; r < values.length; r++) {
    const row = values[r];
    for (let t = 0; t < cols; t++) {
      if (t >= row.length) {
        pixels[r * cols + t] = pad; // this step logged fewer timesteps
        continue;
      }
      const v = row[t];
      let p;
      if (nanCounts && nanCounts[r] && nanCounts[r][t] > 0) p = PACKED.nan;
      else if (infCounts && infCounts[r] && infCounts[r][t] > 0) p = PACKED.posInf;
      else {
        const u = positiveLogUnit(v, range);
        if (u !== u) p = PACKED.nan;
        else if (u === Infinity) p = PACKED.posInf;
        else p = lut[Math.round(u * 255)];
      }
      pixels[r * cols + t] = p;
    }
  }
}

/**
 * Draws a series as a 1-pixel polyline into packed pixels, Bresenham style: each new
 * pixel column gets the vertical run from the previous column's row to its own, so
 * the line is connected and one pixel thick. Non-finite values break the line.
 * Far cheaper than canvas stroking for thousands of short series.
 * @param {Uint32Array} pixels Target, `stride` pixels per row.
 * @param {number} stride Row length in pixels.
 * @param {ArrayLike<number>} values Source array.
 * @param {number} offset Index of the first point in `values`.
 * @param {number} step Index distance between points.
 * @param {number} count Number of points.
 * @param {{x: number, y: number, w: number, h: number}} box Plot box, device px.
 * @param {number} lo Value at the box bottom.
 * @param {number} hi Value at the box top.
 * @param {number} color Packed colour.
 */
export function strokeSeries(pixels, stride, values, offset, step, count, box, lo, hi, color) {
  const sx = count > 1 ? (box.w - 1) / (count - 1) : 0;
  const sy = (box.h - 1) / (hi - lo || 1);
  const yMax = box.y + box.h - 1;
  let px = 0;
  let py = 0;
  let lastCol = 0;
  let lastRow = 0;
  let pen = false;
  for (let t = 0; t < count; t++) {
    const v = values[offset + t * step];
    if (v !== v || v === Infinity || v === -Infinity) {
      pen = false;
      continue;
    }
    const x = box.x + t * sx;
    let y = yMax - (v - lo) * sy;
    y = y < box.y ? box.y : y > yMax ? yMax : y;
    const col = Math.round(x);
    const row = Math.round(y);
    if (!pen) {
      pixels[row * stride + col] = color;
      lastRow = row;
    } else if (col === lastCol) {
      run(pixels, stride, col, lastRow, row, color);
      lastRow = row;
    } else {
      const slope = (y - py) / (x - px);
      for (let c = lastCol + 1; c <= col; c++) {
        const r = c >= col ? row : Math.round(py + (c - px) * slope);
        const from = r > lastRow ? lastRow + 1 : r < lastRow ? lastRow - 1 : r;
        run(pixels, stride, c, from, r, color);
        lastRow = r;
      }
    }
    lastCol = col;
    px = x;
    py = y;
    pen = true;
  }
}

/**
 * Marks the non-finite points of a series the way the 0D view does: a square of
 * `size` px at the point's x, NaN in the middle of the box, +Inf at its top and -Inf
 * at its bottom, in the colours of colormap.PACKED.
 * @param {Uint32Array} pixels Target, `stride` pixels per row.
 * @param {number} stride Row length in pixels.
 * @param {ArrayLike<number>} values Source array.
 * @param {number} offset Index of the first point in `values`.
 * @param {number} step Index distance between points.
 * @param {number} count Number of points.
 * @param {{x: number, y: number, w: number, h: number}} box Plot box, device px.
 * @param {number} size Marker side, device px.
 */
export function markNonFinite(pixels, stride, values, offset, step, count, box, size) {
  const sx = count > 1 ? (box.w - 1) / (count - 1) : 0;
  const s = Math.min(size, box.w, box.h);
  const half = Math.floor(s / 2);
  for (let t = 0; t < count; t++) {
    const v = values[offset + t * step];
    let color;
    let y;
    if (v !== v) [color, y] = [PACKED.nan, Math.round(box.y + (box.h - s) / 2)];
    else if (v === Infinity) [color, y] = [PACKED.posInf, box.y];
    else if (v === -Infinity) [color, y] = [PACKED.negInf, box.y + box.h - s];
    else continue;
    const x = Math.min(box.x + box.w - s, Math.max(box.x, Math.round(box.x + t * sx) - half));
    fillRect(pixels, stride, x, y, s, s, color);
  }
}

/**
 * Fills column `col` from row `a` to row `b` (both included, either order).
 * @param {Uint32Array} pixels Target.
 * @param {number} stride Row length in pixels.
 * @param {number} col Column.
 * @param {number} a One end row.
 * @param {number} b The other end row.
 * @param {number} color Packed colour.
 */
function run(pixels, stride, col, a, b, color) {
  const r1 = a < b ? b : a;
  for (let r = a < b ? a : b; r <= r1; r++) pixels[r * stride + col] = color;
}

/**
 * Fills a rectangle of packed pixels (clipped to the image).
 * @param {Uint32Array} pixels Target.
 * @param {number} stride Row length.
 * @param {number} x Left, device px (rounded).
 * @param {number} y Top.
 * @param {number} w Width.
 * @param {number} h Height.
 * @param {number} color Packed colour.
 */
export function fillRect(pixels, stride, x, y, w, h, color) {
  const rows = pixels.length / stride;
  const x0 = Math.max(0, Math.round(x));
  const x1 = Math.min(stride, Math.round(x + w));
  const y0 = Math.max(0, Math.round(y));
  const y1 = Math.min(rows, Math.round(y + h));
  for (let r = y0; r < y1; r++) pixels.fill(color, r * stride + x0, r * stride + x1);
}
