/**
 * Tick values and labels of axes and colour bars. Pure: no DOM.
 * @module ticks
 */

/** Below this or at and above SCI_HIGH (absolute values), labels use exponents. */
const SCI_LOW = 1e-3;
const SCI_HIGH = 1e4;
/** Significant digits of the smallest tick's label. */
const DIGITS = 3;

/**
 * Labels for the ticks of one axis or colour bar, all in one notation: plain
 * decimals when every non-zero value is within [1e-3, 1e4), else exponent form
 * for every non-zero value (so "7.94e-4" never stands beside "0.00159").
 * @param {number[]} values Tick values.
 * @returns {string[]} One label per value; "0" for zero, "NaN", "+Inf", "-Inf".
 */
export function formatTicks(values) {
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
  const sci = finite.some((a) => a < SCI_LOW || a >= SCI_HIGH);
  const smallest = finite.length ? Math.min(...finite) : 1;
  const decimals = Math.max(0, DIGITS - 1 - Math.floor(Math.log10(smallest)));
  return values.map((v) => {
    if (v !== v) return "NaN";
    if (v === Infinity) return "+Inf";
    if (v === -Infinity) return "-Inf";
    if (v === 0) return "0";
    if (sci) return v.toExponential(DIGITS - 1).replace("e+", "e");
    return trimZeros(v.toFixed(decimals));
  });
}

/**
 * Which notation `formatTicks` chose for a label.
 * @param {string} label A label of formatTicks.
 * @returns {"exponent"|"decimal"|"special"} "special" for 0, NaN and ±Inf.
 */
export function notation(label) {
  if (/^(0|NaN|[+-]Inf)$/.test(label)) return "special";
  return /e/.test(label) ? "exponent" : "decimal";
}

/** @param {string} text A decimal. @returns {string} Without trailing zeros or ".". */
function trimZeros(text) {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/**
 * Integer ticks from 0 to `max` for a count axis (e.g. timesteps back): multiples
 * of the largest step of 1, 2, 5, 10, 20, ... that still gives at least `minCount`
 * ticks (all integers when `max` < minCount); `max` itself is a tick when it is
 * more than half a step past the last multiple.
 * @param {number} max Largest value, an integer >= 0.
 * @param {number} [minCount] Ticks wanted at least.
 * @returns {number[]} Increasing integers starting at 0.
 */
export function integerTicks(max, minCount = 5) {
  const top = Math.max(0, Math.floor(max));
  let ticks = ticksOf(top, 1);
  for (let k = 1; ; k++) {
    const next = ticksOf(top, [1, 2, 5][k % 3] * 10 ** Math.floor(k / 3));
    if (next.length < minCount) return ticks;
    ticks = next;
  }
}

/**
 * Multiples of `step` up to `top`, and `top` when more than half a step past.
 * @param {number} top Largest value.
 * @param {number} step Spacing.
 * @returns {number[]}
 */
function ticksOf(top, step) {
  /** @type {number[]} */
  const ticks = [];
  for (let v = 0; v <= top; v += step) ticks.push(v);
  if (top - ticks[ticks.length - 1] > step / 2) ticks.push(top);
  return ticks;
}
