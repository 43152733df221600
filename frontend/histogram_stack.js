/**
 * Per-gate distributions over training, in the manner of TensorBoard's histogram
 * dashboard ("offset" mode): each logged step's histogram as a curve, rebinned onto
 * bins shared by all steps, stacked with the oldest step at the back (top) and the
 * newest in front (bottom). The histograms are the ones the logger writes per gate
 * (tag `<tag>/<gate>`, TensorBoard's own histogram summary of the block's finite
 * values), as TensorBoard's histograms route serves them. Pure: no DOM.
 * @module histogram_stack
 */

/** Bins shared by every step of a stack. */
export const BINS = 40;
/** Height of one curve's peak as a share of the plot (the rest is the offsets). */
const PEAK_SHARE = 0.45;

/**
 * @typedef {object} StepHistogram
 * @property {number} step Step.
 * @property {number} wallTime Wall time, s.
 * @property {Array<[number, number, number]>} buckets [left, right, count].
 */

/**
 * Reads the answer of TensorBoard's `/data/plugin/histograms/histograms` route.
 * @param {unknown} answer `[[wall_time, step, [[left, right, count], ...]], ...]`.
 * @returns {StepHistogram[]} Sorted by step.
 * @throws {Error} When the answer is not in that form.
 */
export function parseHistograms(answer) {
  if (!Array.isArray(answer)) throw new Error("the histograms answer is not a list");
  const out = answer.map((e) => {
    const ok = Array.isArray(e) && e.length === 3 && Array.isArray(e[2]);
    if (!ok || typeof e[1] !== "number") {
      throw new Error("a histogram is not [wall_time, step, [[left, right, count], ...]]");
    }
    const buckets = e[2].map((/** @type {unknown[]} */ b) => [Number(b[0]), Number(b[1]), Number(b[2])]);
    return { step: e[1], wallTime: Number(e[0]), buckets };
  });
  return out.sort((a, b) => a.step - b.step);
}

/**
 * @typedef {object} Stack
 * @property {number[]} steps Steps, oldest first.
 * @property {number} lo Left edge of the first bin.
 * @property {number} hi Right edge of the last bin.
 * @property {Float64Array[]} counts Per step, the count in each of the BINS bins.
 * @property {number} maxCount Largest count of any bin of any step (0: none).
 */

/**
 * Rebins every step's buckets onto BINS equal bins spanning all steps' buckets; a
 * bucket's count is spread over the bins it overlaps in proportion to the overlap
 * (a bucket of zero width goes to the bin holding it), so each step's total count is
 * kept.
 * @param {StepHistogram[]} series From parseHistograms.
 * @param {number} [bins] Bins.
 * @returns {Stack}
 */
export function rebinStack(series, bins = BINS) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const [l, r] of s.buckets) {
      if (Number.isFinite(l) && l < lo) lo = l;
      if (Number.isFinite(r) && r > hi) hi = r;
    }
  }
  if (!(lo < hi)) [lo, hi] = lo === hi ? [lo - 0.5, hi + 0.5] : [-1, 1];
  const width = (hi - lo) / bins;
  const binOf = (/** @type {number} */ x) => Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / width)));
  let maxCount = 0;
  const counts = series.map((s) => {
    const row = new Float64Array(bins);
    for (const [l, r, c] of s.buckets) {
      if (!(c > 0) || !Number.isFinite(l) || !Number.isFinite(r)) continue;
      if (r <= l) {
        row[binOf(l)] += c;
        continue;
      }
      for (let j = binOf(l); j <= binOf(r) && j < bins; j++) {
        const a = Math.max(l, lo + j * width);
        const b = Math.min(r, lo + (j + 1) * width);
        if (b > a) row[j] += (c * (b - a)) / (r - l);
      }
    }
    for (const v of row) if (v > maxCount) maxCount = v;
    return row;
  });
  return { steps: series.map((s) => s.step), lo, hi, counts, maxCount };
}

/**
 * @typedef {object} StackGeometry
 * @property {{x: number, y: number, w: number, h: number}} box Plot box, CSS px.
 * @property {number} peak Height of the largest count, px.
 * @property {number[]} baselines Each step's baseline y, oldest (top) first.
 */

/**
 * Where each step's curve sits: baselines evenly spaced from the top (oldest) to
 * the bottom of the box (newest), curves up to `peak` px tall.
 * @param {number} n Steps.
 * @param {{x: number, y: number, w: number, h: number}} box Plot box, CSS px.
 * @returns {StackGeometry}
 */
export function stackGeometry(n, box) {
  const peak = n > 1 ? box.h * PEAK_SHARE : box.h;
  const spacing = n > 1 ? (box.h - peak) / (n - 1) : 0;
  const baselines = Array.from({ length: n }, (_, i) => box.y + peak + i * spacing);
  return { box, peak, baselines };
}

/**
 * The points of one step's curve: the top of each bin, at the bin's centre.
 * @param {Stack} stack Stack.
 * @param {StackGeometry} geom Geometry.
 * @param {number} i Step index.
 * @returns {Array<[number, number]>} [x, y] per bin, CSS px.
 */
export function curvePoints(stack, geom, i) {
  const { box, peak, baselines } = geom;
  const row = stack.counts[i];
  const scale = stack.maxCount > 0 ? peak / stack.maxCount : 0;
  return Array.from(row, (c, j) => [
    box.x + ((j + 0.5) / row.length) * box.w,
    baselines[i] - c * scale,
  ]);
}

/**
 * What lies under a point: the front-most step whose filled curve covers it, else
 * the step whose baseline is next below it.
 * @param {Stack} stack Stack.
 * @param {StackGeometry} geom Geometry.
 * @param {number} px x, CSS px.
 * @param {number} py y.
 * @returns {{index: number, step: number, lo: number, hi: number, count: number}|null}
 *   The step, its bin's value range and count; null outside the box or without steps.
 */
export function stackAt(stack, geom, px, py) {
  const { box, peak, baselines } = geom;
  const n = stack.steps.length;
  const inside = px >= box.x && px < box.x + box.w && py >= box.y && py <= box.y + box.h;
  if (!inside || n === 0) return null;
  const bins = stack.counts[0].length;
  const j = Math.min(bins - 1, Math.floor(((px - box.x) / box.w) * bins));
  const scale = stack.maxCount > 0 ? peak / stack.maxCount : 0;
  let index = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (baselines[i] >= py && baselines[i] - stack.counts[i][j] * scale <= py) {
      index = i;
      break;
    }
  }
  if (index < 0) index = baselines.findIndex((b) => b >= py);
  if (index < 0) index = n - 1;
  const width = (stack.hi - stack.lo) / bins;
  return {
    index,
    step: stack.steps[index],
    lo: stack.lo + j * width,
    hi: stack.lo + (j + 1) * width,
    count: stack.counts[index][j],
  };
}
