/**
 * Rows of the flow-over-training view when there are more logged steps than pixel
 * rows: consecutive steps are merged into one row, so drawing costs what the
 * canvas can show, not what the run logged (10,000 steps draw as 300 rows).
 *
 * A merged row shows, at each timestep, the maximum norm over its steps (a spike
 * or an explosion in any of them stays visible), the sum of their NaN and Inf
 * counts, and the largest reach. The chosen step always keeps a row of its own,
 * with its exact values.
 * @module flow_rows
 */

/** Height of the flow plot, CSS px: at most this many rows are drawn. */
export const FLOW_PLOT_HEIGHT = 300;

/**
 * @typedef {object} FlowRows
 * @property {number[]} steps First step of each row.
 * @property {number[]} lastSteps Last step of each row (= steps[r] for one step).
 * @property {number[]} sizes Logged steps merged into each row.
 * @property {Array<Array<number|null>>} values Max norm per timestep.
 * @property {number[][]|null} nan_counts Summed NaN counts (null: not sent).
 * @property {number[][]|null} inf_counts Summed Inf counts (null: not sent).
 * @property {number[]|null} reach Largest reach (null: not sent).
 */

/**
 * The rows to draw for `profile`, at most `maxRows` of them.
 * @param {{steps: number[], values: Array<Array<number|null>>,
 *   nan_counts: number[][]|null, inf_counts: number[][]|null,
 *   reach: number[]|null}} profile From api.profile, steps increasing.
 * @param {number} maxRows Row budget (>= 3).
 * @param {number|null} [currentStep] Step that keeps a row of its own.
 * @returns {FlowRows} One row per step when they fit.
 */
export function flowRows(profile, maxRows, currentStep = null) {
  const n = profile.steps.length;
  if (n <= maxRows) return bucketRows(profile, ranges(0, n, n));
  const c = currentStep === null ? -1 : profile.steps.indexOf(currentStep);
  if (c < 0) return bucketRows(profile, ranges(0, n, maxRows));
  const before = c;
  const after = n - 1 - c;
  const budget = maxRows - 1;
  let forBefore = Math.round((budget * before) / (before + after));
  forBefore = Math.min(before, budget - (after > 0 ? 1 : 0), Math.max(before > 0 ? 1 : 0, forBefore));
  const forAfter = Math.min(after, budget - forBefore);
  return bucketRows(profile, [
    ...ranges(0, before, forBefore),
    [c, c + 1],
    ...ranges(c + 1, n, forAfter),
  ]);
}

/**
 * `k` contiguous [start, end) ranges of near-equal size covering [lo, hi).
 * @param {number} lo Start.
 * @param {number} hi End.
 * @param {number} k Number of ranges.
 * @returns {number[][]}
 */
function ranges(lo, hi, k) {
  /** @type {number[][]} */
  const out = [];
  const len = hi - lo;
  for (let i = 0; i < k; i++) {
    out.push([lo + Math.floor((i * len) / k), lo + Math.floor(((i + 1) * len) / k)]);
  }
  return out;
}

/**
 * @param {Parameters<typeof flowRows>[0]} profile As flowRows takes it.
 * @param {number[][]} buckets [start, end) index ranges, one per row.
 * @returns {FlowRows}
 */
function bucketRows(profile, buckets) {
  const { steps, values, nan_counts: nans, inf_counts: infs, reach } = profile;
  /** @type {FlowRows} */
  const out = {
    steps: [],
    lastSteps: [],
    sizes: [],
    values: [],
    nan_counts: nans ? [] : null,
    inf_counts: infs ? [] : null,
    reach: reach ? [] : null,
  };
  for (const [a, b] of buckets) {
    out.steps.push(steps[a]);
    out.lastSteps.push(steps[b - 1]);
    out.sizes.push(b - a);
    if (b - a === 1) {
      out.values.push(values[a]);
      if (nans && out.nan_counts) out.nan_counts.push(nans[a]);
      if (infs && out.inf_counts) out.inf_counts.push(infs[a]);
      if (reach && out.reach) out.reach.push(reach[a]);
      continue;
    }
    out.values.push(maxRow(values, a, b));
    if (nans && out.nan_counts) out.nan_counts.push(sumRow(nans, a, b));
    if (infs && out.inf_counts) out.inf_counts.push(sumRow(infs, a, b));
    if (reach && out.reach) out.reach.push(Math.max(...reach.slice(a, b)));
  }
  return out;
}

/**
 * Per timestep, the largest non-null value of rows [a, b) (null if none).
 * @param {Array<Array<number|null>>} rows Rows.
 * @param {number} a First row.
 * @param {number} b Past the last row.
 * @returns {Array<number|null>}
 */
function maxRow(rows, a, b) {
  /** @type {Array<number|null>} */
  const out = new Array(widest(rows, a, b)).fill(null);
  for (let r = a; r < b; r++) {
    const row = rows[r];
    for (let t = 0; t < row.length; t++) {
      const v = row[t];
      const o = out[t];
      if (v !== null && (o === null || v > o)) out[t] = v;
    }
  }
  return out;
}

/**
 * Per timestep, the sum of rows [a, b) (missing entries count 0).
 * @param {number[][]} rows Rows.
 * @param {number} a First row.
 * @param {number} b Past the last row.
 * @returns {number[]}
 */
function sumRow(rows, a, b) {
  const out = new Array(widest(rows, a, b)).fill(0);
  for (let r = a; r < b; r++) {
    const row = rows[r] || [];
    for (let t = 0; t < row.length; t++) out[t] += row[t];
  }
  return out;
}

/**
 * @param {Array<Array<unknown>|undefined>} rows Rows (missing ones count 0).
 * @param {number} a First row.
 * @param {number} b Past the last row.
 * @returns {number} The length of the longest of rows [a, b).
 */
function widest(rows, a, b) {
  let w = 0;
  for (let r = a; r < b; r++) w = Math.max(w, rows[r]?.length ?? 0);
  return w;
}
