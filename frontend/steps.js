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
  return Math.max(0, steps.indexOf(s));
}
