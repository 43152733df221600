/**
 * Colour maps of the palette (palette.js): LUTs of the diverging map (signed values)
 * and the sequential map (magnitudes), the colours of NaN / +Inf / -Inf / masked
 * cells, and per-sample line colours. Pure: no DOM. LUTs are packed for writing into
 * an ImageData's Uint32Array view.
 * @module colormap
 */
import { hexToRgb, PALETTE } from "./palette.js";

/** Entries per LUT. Diverging: index 128 is exactly the middle stop (value 0). */
export const LUT_SIZE = 256;
export const CENTER = 128;
const HALF = 127;

/** Colours of values that have no place on the scale, as rgb. */
export const SPECIAL = PALETTE.special;

/**
 * @param {number} i Sample index.
 * @returns {string} CSS colour, the same for a sample in every chart.
 */
export function sampleColor(i) {
  const n = PALETTE.samples.length;
  return PALETTE.samples[((i % n) + n) % n];
}

/**
 * Linear interpolation between anchors.
 * @param {Array<[number, number[]]>} anchors Sorted [position, [r, g, b]].
 * @param {number} x Position.
 * @returns {number[]} [r, g, b], rounded.
 */
export function interpolate(anchors, x) {
  if (x <= anchors[0][0]) return anchors[0][1].slice();
  for (let i = 1; i < anchors.length; i++) {
    const [x1, c1] = anchors[i];
    if (x <= x1) {
      const [x0, c0] = anchors[i - 1];
      const t = (x - x0) / (x1 - x0);
      return c0.map((c, k) => Math.round(c + t * (c1[k] - c)));
    }
  }
  return anchors[anchors.length - 1][1].slice();
}

/** True when the platform stores Uint32 little-endian (ImageData is RGBA bytes). */
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Packs an opaque colour for a Uint32Array view of ImageData.data.
 * @param {number[]} rgb [r, g, b].
 * @param {number} [a] Alpha.
 * @returns {number} Packed pixel.
 */
export function pack(rgb, a = 255) {
  const [r, g, b] = rgb;
  return LITTLE
    ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/**
 * @param {number} p Packed pixel.
 * @returns {number[]} [r, g, b, a].
 */
export function unpack(p) {
  return LITTLE
    ? [p & 255, (p >>> 8) & 255, (p >>> 16) & 255, p >>> 24]
    : [p >>> 24, (p >>> 16) & 255, (p >>> 8) & 255, p & 255];
}

/**
 * @param {Array<[number, number[]]>} [stops] Diverging stops, positions -1..1.
 * @returns {Uint32Array} Diverging LUT; entry CENTER + round(u * 127) for u in [-1, 1].
 */
export function divergingLut(stops = PALETTE.diverging) {
  const lut = new Uint32Array(LUT_SIZE);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = Math.max(-1, (i - CENTER) / HALF);
    lut[i] = pack(interpolate(stops, x));
  }
  return lut;
}

/**
 * @param {Array<[number, number[]]>} [stops] Sequential stops, positions 0..1.
 * @returns {Uint32Array} Sequential LUT; entry round(t * 255) for t in [0, 1].
 */
export function sequentialLut(stops = PALETTE.sequential) {
  const lut = new Uint32Array(LUT_SIZE);
  for (let i = 0; i < LUT_SIZE; i++) {
    lut[i] = pack(interpolate(stops, i / (LUT_SIZE - 1)));
  }
  return lut;
}

/** Packed special colours. */
export const PACKED = {
  nan: pack(SPECIAL.nan),
  posInf: pack(SPECIAL.posInf),
  negInf: pack(SPECIAL.negInf),
  masked: pack(SPECIAL.masked),
  background: pack(SPECIAL.background),
};

/**
 * LUT index for a signed unit from normalize.toUnit.
 * @param {number} u Unit in [-1, 1].
 * @returns {number} Index in [1, 255]; CENTER for 0; symmetric (u and -u mirror).
 */
export function divergingIndex(u) {
  const c = u < -1 ? -1 : u > 1 ? 1 : u;
  return c < 0 ? CENTER - Math.round(-c * HALF) : CENTER + Math.round(c * HALF);
}

/**
 * Packed colour of a signed unit, special values included.
 * @param {number} u Output of normalize.toUnit.
 * @param {Uint32Array} lut From divergingLut().
 * @returns {number} Packed pixel.
 */
export function divergingColor(u, lut) {
  if (u !== u) return PACKED.nan;
  if (u === Infinity) return PACKED.posInf;
  if (u === -Infinity) return PACKED.negInf;
  return lut[divergingIndex(u)];
}

/**
 * @param {number[]} rgb [r, g, b].
 * @returns {string} CSS rgb() string.
 */
export function css(rgb) {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

/**
 * @param {number} i Sample index.
 * @returns {number} Packed colour of sampleColor(i).
 */
export function samplePacked(i) {
  return pack(hexToRgb(sampleColor(i)));
}
