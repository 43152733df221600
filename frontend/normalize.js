/**
 * Colour-scale normalisation: maps a gradient value to a signed unit in [-1, 1]
 * (0 = white), and a gradient norm to a unit in [0, 1] on a log scale. Pure: no DOM.
 * @module normalize
 */
import { PALETTE } from "./palette.js";

/** Decades shown below the largest magnitude in log-magnitude mode. */
export const DEFAULT_DECADES = PALETTE.signedLogDecades;

/**
 * @typedef {object} Scale
 * @property {"linear"|"log"} kind
 * @property {number} lo Linear: value drawn fully blue (<= 0). Log: unused (-hi).
 * @property {number} hi Linear: value drawn fully red (>= 0). Log: max magnitude.
 * @property {number} loLog Log only: log10 of the smallest magnitude given colour.
 * @property {number} hiLog Log only: log10 of the magnitude drawn fully saturated.
 */

/**
 * Largest finite |x| in `array` (NaN and +-Inf skipped).
 * @param {ArrayLike<number>} array Values.
 * @returns {number} The maximum, or 0 when there is no finite value.
 */
export function maxAbsFinite(array) {
  let m = 0;
  for (let i = 0; i < array.length; i++) {
    const a = Math.abs(array[i]);
    if (a > m && a !== Infinity) m = a;
  }
  return m;
}

/**
 * Builds the scale for a colour-scale mode.
 * @param {"auto"|"fixed"|"manual"|"log"} mode auto: symmetric around 0 from this
 *   step's max|g|; fixed: symmetric from the max|g| over all retained steps;
 *   manual: [min, max] as given; log: signed log10 magnitude over `decades` decades.
 * @param {object} ctx
 * @param {number} ctx.stepMaxAbs max|g| of the data being drawn.
 * @param {number} [ctx.allStepsMaxAbs] max|g| over all steps (fixed mode).
 * @param {number} [ctx.min] Manual lower bound.
 * @param {number} [ctx.max] Manual upper bound.
 * @param {number} [ctx.decades] Log mode: decades of magnitude shown.
 * @returns {Scale}
 */
export function makeScale(mode, ctx) {
  if (mode === "log") return logScale(ctx.stepMaxAbs, ctx.decades ?? DEFAULT_DECADES);
  if (mode === "manual") return manualScale(ctx.min, ctx.max);
  const m = mode === "fixed" ? (ctx.allStepsMaxAbs ?? ctx.stepMaxAbs) : ctx.stepMaxAbs;
  return symmetricScale(m);
}

/**
 * @param {number} maxAbs Largest magnitude; 0 or non-finite gives [-1, 1].
 * @returns {Scale} Symmetric linear scale [-maxAbs, maxAbs].
 */
export function symmetricScale(maxAbs) {
  const m = maxAbs > 0 && Number.isFinite(maxAbs) ? maxAbs : 1;
  return { kind: "linear", lo: -m, hi: m, loLog: 0, hiLog: 0 };
}

/**
 * Manual linear range. With lo < 0 < hi, each side has its own slope so that 0
 * stays white; otherwise lo..hi maps linearly onto the full colour range.
 * @param {number|string|undefined} lo Lower bound (not finite: the symmetric scale).
 * @param {number|string|undefined} hi Upper bound.
 * @returns {Scale}
 */
export function manualScale(lo, hi) {
  let a = Number(lo);
  let b = Number(hi);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return symmetricScale(1);
  if (a > b) [a, b] = [b, a];
  return { kind: "linear", lo: a, hi: b, loLog: 0, hiLog: 0 };
}

/**
 * @param {number} maxAbs Largest magnitude (drawn fully saturated).
 * @param {number} decades How many decades below maxAbs still get colour.
 * @returns {Scale} Signed log-magnitude scale.
 */
export function logScale(maxAbs, decades = DEFAULT_DECADES) {
  const m = maxAbs > 0 && Number.isFinite(maxAbs) ? maxAbs : 1;
  const hiLog = Math.log10(m);
  const d = decades > 0 ? decades : DEFAULT_DECADES;
  return { kind: "log", lo: -m, hi: m, loLog: hiLog - d, hiLog };
}

/**
 * Maps a value to a signed unit. NaN stays NaN and +-Infinity stays +-Infinity, so
 * callers can draw them in their own colours.
 * @param {number} v Value.
 * @param {Scale} s Scale.
 * @returns {number} In [-1, 1] for finite v.
 */
export function toUnit(v, s) {
  if (v !== v || v === Infinity || v === -Infinity) return v;
  if (s.kind === "log") {
    if (v === 0) return 0;
    const a = Math.abs(v);
    let t = (Math.log10(a) - s.loLog) / (s.hiLog - s.loLog);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return v < 0 ? -t : t;
  }
  let u;
  if (s.lo < 0 && s.hi > 0) u = v >= 0 ? v / s.hi : -v / s.lo;
  else u = (2 * (v - s.lo)) / (s.hi - s.lo) - 1;
  return u < -1 ? -1 : u > 1 ? 1 : u;
}

/**
 * Inverse of toUnit for tick labels.
 * @param {number} u Unit in [-1, 1].
 * @param {Scale} s Scale.
 * @returns {number} The value that maps to u (log mode: the smallest magnitude with
 *   that colour, signed).
 */
export function fromUnit(u, s) {
  if (s.kind === "log") {
    if (u === 0) return 0;
    const mag = 10 ** (s.loLog + Math.abs(u) * (s.hiLog - s.loLog));
    return u < 0 ? -mag : mag;
  }
  if (s.lo < 0 && s.hi > 0) return u >= 0 ? u * s.hi : -u * s.lo;
  return s.lo + ((u + 1) * (s.hi - s.lo)) / 2;
}

/**
 * Sequential log range for non-negative values (gradient-flow view): from the
 * smallest positive finite value to the largest, but spanning at least `decades.min`
 * and at most `decades.max` decades (`decades.max` when no value is positive).
 * @param {ArrayLike<number|null>} values Non-negative values (NaN, Inf and null
 *   ignored).
 * @param {{min: number, max: number}} [decades] Bounds of the span.
 * @returns {{loLog: number, hiLog: number}} log10 range.
 */
export function positiveLogRange(values, decades = PALETTE.flowLogDecades) {
  let top = 0;
  let low = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !(v > 0) || v === Infinity) continue;
    if (v > top) top = v;
    if (v < low) low = v;
  }
  const hiLog = Math.log10(top > 0 ? top : 1);
  const span = top > 0 ? hiLog - Math.log10(low) : decades.max;
  return { loLog: hiLog - Math.min(decades.max, Math.max(decades.min, span)), hiLog };
}

/**
 * @param {number|null} v Non-negative value (null, the JSON form of a NaN or
 *   infinite norm, which api.normalizeProfile already turns into NaN: 0, the
 *   bottom of the range).
 * @param {{loLog: number, hiLog: number}} r Range from positiveLogRange.
 * @returns {number} Unit in [0, 1]; NaN stays NaN, +Infinity stays +Infinity.
 */
export function positiveLogUnit(v, r) {
  if (v === null) return 0;
  if (v !== v || v === Infinity) return v;
  if (!(v > 0)) return 0;
  const t = (Math.log10(v) - r.loLog) / (r.hiLog - r.loLog);
  return t < 0 ? 0 : t > 1 ? 1 : t;
}
