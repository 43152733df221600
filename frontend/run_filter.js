/**
 * The run filter: a regular expression over run names, as in TensorBoard's own run
 * selector (case-insensitive, matched anywhere in the name), and select all / none
 * for the runs it matches. Pure: no DOM; run_filter_bar.js shows it.
 * @module run_filter
 */

/**
 * @typedef {object} RunFilter
 * @property {RegExp|null} regex The compiled filter (null: empty or invalid).
 * @property {string} error Why the text is not a regular expression ("" if it is).
 */

/**
 * @param {string} text The filter as typed.
 * @returns {RunFilter}
 */
export function compileFilter(text) {
  if (!text) return { regex: null, error: "" };
  try {
    return { regex: new RegExp(text, "i"), error: "" };
  } catch (e) {
    return { regex: null, error: `invalid regular expression: ${e.message}` };
  }
}

/**
 * The runs the filter matches: every run for an empty or invalid filter (an
 * invalid one is shown as such and hides nothing).
 * @param {string[]} runs Run names.
 * @param {string} text The filter.
 * @returns {string[]} The matching runs, in `runs`' order.
 */
export function matchingRuns(runs, text) {
  const { regex } = compileFilter(text);
  return regex ? runs.filter((r) => regex.test(r)) : runs.slice();
}

/**
 * The selection after "all" or "none": the matching runs added to, or removed
 * from, the selection; runs the filter hides keep their state.
 * @param {string[]} runs Every run, in list order.
 * @param {string[]} selected Selected runs.
 * @param {string} text The filter.
 * @param {boolean} on true: select all matching, false: none of them.
 * @returns {string[]} The new selection, in list order.
 */
export function selectMatching(runs, selected, text, on) {
  const matching = new Set(matchingRuns(runs, text));
  const chosen = new Set(selected);
  return runs.filter((r) => (matching.has(r) ? on : chosen.has(r)));
}

/**
 * The line under the filter, e.g. "12 of 200 runs match; 3 selected, 1 of them hidden".
 * @param {string[]} runs Every run.
 * @param {string[]} selected Selected runs.
 * @param {string} text The filter.
 * @returns {string}
 */
export function filterSummary(runs, selected, text) {
  const { regex, error } = compileFilter(text);
  if (error) return error;
  const matching = regex ? runs.filter((r) => regex.test(r)) : runs;
  const hidden = selected.filter((r) => !matching.includes(r)).length;
  const head = regex ? `${matching.length} of ${runs.length} runs match` : `${runs.length} runs`;
  const tail = hidden ? `, ${hidden} of them hidden by the filter` : "";
  return `${head}; ${selected.length} selected${tail}`;
}
