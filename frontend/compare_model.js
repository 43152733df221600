/**
 * The compare view's data: one row per selected run from the `compare` route's
 * answer, sorted as the table's headers ask (the order of `tb-rnngrad summary
 * --sort`: missing values last, ties by run name). Pure: no DOM.
 * @module compare_model
 */

/**
 * Sort keys and their own direction ("desc": largest first).
 * @type {Record<string, "asc"|"desc">}
 */
export const SORT_KEYS = {
  run: "asc",
  reach: "desc",
  max_abs: "desc",
  nonfinite: "desc",
  last_step: "desc",
};
export const DEFAULT_SORT = "reach";

/**
 * @typedef {object} CompareRow
 * @property {string} run Run name.
 * @property {string} kind Kind of the series ("" if unreadable).
 * @property {number[]} steps Steps with a profile.
 * @property {number[]} reach Reach (horizon) at each of `steps` ([] without a time axis).
 * @property {number|null} reach_latest Reach at the last of `steps`.
 * @property {number|null} max_abs Largest finite |g| of the latest logged tensor.
 * @property {number|null} max_abs_step Its step.
 * @property {number|null} nonfinite NaN and Inf values over every logged step.
 * @property {number|null} last_step Largest step logged.
 * @property {string} error Why the run's series cannot be read ("" if it can).
 * @property {import("./health_model.js").Finding[]} [findings] The run's health
 *   findings (set by app.js; undefined: the report is not known).
 * @property {Record<string, {run: string, tag: string, step: number, value: number}>|null}
 *   [loss] The run's latest losses by split (set by app.js; null: none logged,
 *   undefined: not known).
 */

/**
 * One run's entry in the compare route's answer (docs/http_api.md): the figures, or
 * `error` alone.
 * @typedef {object} CompareEntry
 * @property {string} [error] Why the run's series cannot be read.
 * @property {string} kind
 * @property {number[]} steps
 * @property {number[]} reach
 * @property {number|null} latest_reach
 * @property {number|null} max_abs
 * @property {number|null} max_abs_step
 * @property {number|null} nonfinite
 * @property {number|null} last_step
 */

/**
 * The rows of the selected runs that have the tag.
 * @param {{runs: Record<string, CompareEntry>}} answer The compare route's answer.
 * @param {string[]} selected Selected runs.
 * @returns {CompareRow[]} In `selected`'s order.
 */
export function compareRows(answer, selected) {
  const byRun = (answer && answer.runs) || {};
  return selected
    .filter((r) => Object.hasOwn(byRun, r))
    .map((run) => {
      const e = byRun[run];
      if (e.error) {
        return { run, kind: "", steps: [], reach: [], reach_latest: null, max_abs: null,
          max_abs_step: null, nonfinite: null, last_step: null, error: String(e.error) };
      }
      return {
        run,
        kind: e.kind,
        steps: e.steps,
        reach: e.reach,
        reach_latest: e.latest_reach,
        max_abs: e.max_abs,
        max_abs_step: e.max_abs_step,
        nonfinite: e.nonfinite,
        last_step: e.last_step,
        error: "",
      };
    });
}

/**
 * The value a row sorts by under `key`; null sorts last.
 * @param {CompareRow} row Row.
 * @param {string} key One of SORT_KEYS.
 * @returns {string|number|null}
 */
function sortValue(row, key) {
  if (key === "run") return row.run;
  const fields = /** @type {Record<string, number|null|undefined>} */ (/** @type {unknown} */ (row));
  return fields[key === "reach" ? "reach_latest" : key] ?? null;
}

/**
 * @param {CompareRow[]} rows Rows.
 * @param {string} key One of SORT_KEYS.
 * @param {"asc"|"desc"} [order] Default: the key's own direction.
 * @returns {CompareRow[]} A sorted copy: by `key`, missing values last, ties by run.
 */
export function sortRows(rows, key, order = SORT_KEYS[key]) {
  const sign = order === "desc" ? -1 : 1;
  const byRun = (/** @type {CompareRow} */ a, /** @type {CompareRow} */ b) => (a.run < b.run ? -1 : a.run > b.run ? 1 : 0);
  return rows.slice().sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === null || vb === null) return va === vb ? byRun(a, b) : va === null ? 1 : -1;
    if (va !== vb) return (va < vb ? -1 : 1) * sign;
    return byRun(a, b);
  });
}

/**
 * The sort after a click on the header of `key`: the same key flips its order,
 * another starts in its own direction.
 * @param {{sort: string, order: string}} current Current sort.
 * @param {string} key Header clicked.
 * @returns {{sort: string, order: "asc"|"desc"}}
 */
export function nextSort(current, key) {
  if (current.sort === key) return { sort: key, order: current.order === "asc" ? "desc" : "asc" };
  return { sort: key, order: SORT_KEYS[key] };
}

/**
 * The chart's extents over the rows' reach lines.
 * @param {CompareRow[]} rows Rows.
 * @returns {{x: [number, number], y: [number, number], lines: number}} Steps and
 *   reach ranges ([0, 1] when empty), and how many rows have a line.
 */
export function chartExtent(rows) {
  let x0 = Infinity, x1 = -Infinity, y1 = 0, lines = 0;
  for (const r of rows) {
    if (r.reach.length === 0) continue;
    lines += 1;
    x0 = Math.min(x0, r.steps[0]);
    x1 = Math.max(x1, r.steps[r.steps.length - 1]);
    for (const v of r.reach) y1 = Math.max(y1, v);
  }
  if (lines === 0) return { x: [0, 1], y: [0, 1], lines };
  return { x: [x0, x1 > x0 ? x1 : x0 + 1], y: [0, Math.max(1, y1)], lines };
}

/**
 * About `count` round tick values covering [lo, hi] (1, 2 or 5 times a power of 10).
 * @param {number} lo Low end.
 * @param {number} hi High end (> lo).
 * @param {number} [count] Ticks wanted.
 * @returns {number[]} Ticks within [lo, hi], increasing.
 */
export function niceTicks(lo, hi, count = 5) {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/**
 * Pixel position of a point of the chart.
 * @param {{left: number, top: number, width: number, height: number}} box Plot box.
 * @param {{x: number[], y: number[]}} extent From chartExtent.
 * @param {number} step Training step.
 * @param {number} reach Reach.
 * @returns {[number, number]} [x, y] in CSS px.
 */
export function chartPoint(box, extent, step, reach) {
  const [x0, x1] = extent.x;
  const [y0, y1] = extent.y;
  return [
    box.left + ((step - x0) / (x1 - x0)) * box.width,
    box.top + box.height - ((reach - y0) / (y1 - y0)) * box.height,
  ];
}
