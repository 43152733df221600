/**
 * Training-step bookkeeping across several runs. Pure: no DOM.
 * @module steps
 */

/**
 * @param {number[][]} lists Step lists, one per run.
 * @returns {number[]} Sorted union without duplicates.
 */
export function unionSteps(lists) {
  const set = new Set();
  for (const l of lists) for (const s of l) set.add(s);
  return [...set].sort((a, b) => a - b);
}

/**
 * The step a run shows when the slider is at `step`: its latest step <= `step`,
 * else its first step.
 * @param {number[]} steps Sorted steps of one run.
 * @param {number} step Selected step.
 * @returns {number|null} null when the run has no steps.
 */
export function stepAtOrBefore(steps, step) {
  if (steps.length === 0) return null;
  let lo = 0;
  let hi = steps.length - 1;
  if (step < steps[0]) return steps[0];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return steps[lo];
}

/**
 * @param {number[]} steps Sorted steps.
 * @param {number|null} step Wanted step (null = latest).
 * @returns {number} Index of the nearest step at or before it (0 when none).
 */
export function indexOfStep(steps, step) {
  if (steps.length === 0) return 0;
  if (step === null || step === undefined) return steps.length - 1;
  const s = stepAtOrBefore(steps, step);
  return Math.max(0, s === null ? -1 : steps.indexOf(s));
}

/**
 * The kept step a move with ◀ / ▶ (or the slider) lands on when the step it went to
 * turned out to be no longer kept: the next kept one in the move's direction.
 * @param {number[]} steps Sorted kept steps.
 * @param {number} step Step moved to.
 * @param {number} dir Direction: > 0 forward, else backward.
 * @returns {number|null} `step` when kept; null when no step is kept.
 */
export function stepToward(steps, step, dir) {
  const after = dir > 0 ? steps.find((s) => s >= step) : undefined;
  return after === undefined ? stepAtOrBefore(steps, step) : after;
}

/**
 * A run's step line: the step it shows and, when that is not the step chosen, why.
 * @param {number} shown Step the run shows.
 * @param {number|null} chosen Step chosen (null = the latest).
 * @param {number[]} kept Sorted union of the steps kept for the runs shown.
 * @returns {string} E.g. "step 75", "step 10 (latest logged at or before 20)" or
 *   "step 5 is no longer kept by TensorBoard; showing step 75, the oldest kept".
 */
export function shownStepText(shown, chosen, kept) {
  const latest = kept.length ? kept[kept.length - 1] : null;
  if (chosen !== null && latest !== null && !kept.includes(chosen)) {
    const gone = chosen < latest ? "is no longer kept" : "is not kept";
    const which = shown > chosen ? "the oldest kept" : "the latest kept before it";
    return `step ${chosen} ${gone} by TensorBoard; showing step ${shown}, ${which}`;
  }
  const wanted = chosen ?? latest;
  if (wanted === null || wanted === shown) return `step ${shown}`;
  return `step ${shown} (latest logged at or before ${wanted})`;
}
