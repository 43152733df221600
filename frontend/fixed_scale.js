/**
 * The "fixed" colour scale: max|g| over every retained step of a series. Steps the
 * server no longer keeps (evicted since the step list was loaded) are skipped, so
 * the scale covers the steps still available. Pure: no DOM.
 * @module fixed_scale
 */

/**
 * @typedef {object} FixedRange
 * @property {number} maxAbs Largest max|g| over the steps covered (0 when none).
 * @property {number} covered Steps that could be read.
 * @property {number[]} missing Steps the server answered 404 for.
 */

/**
 * Loads the steps one after another (each may be a large tensor) and takes the max.
 * @param {number[]} steps Steps listed for the series.
 * @param {(step: number) => Promise<number>} maxAbsAt max|g| of what is drawn at a
 *   step; rejects with an error whose `status` is 404 when the step is gone.
 * @returns {Promise<FixedRange>}
 * @throws {Error} Any failure other than a 404.
 */
export async function maxAbsOverSteps(steps, maxAbsAt) {
  let maxAbs = 0;
  let covered = 0;
  const missing = [];
  for (const s of steps) {
    let m;
    try {
      m = await maxAbsAt(s);
    } catch (e) {
      if (!e || e.status !== 404) throw e;
      missing.push(s);
      continue;
    }
    maxAbs = Math.max(maxAbs, m);
    covered++;
  }
  return { maxAbs, covered, missing };
}

/**
 * @param {FixedRange} r Result of maxAbsOverSteps.
 * @param {number} listed Steps listed.
 * @returns {string} The step line's note, e.g. "colour scale fixed over 3 steps".
 */
export function fixedScaleNote(r, listed) {
  if (r.covered === listed) return `colour scale fixed over ${listed} steps`;
  return `colour scale fixed over the ${r.covered} of ${listed} steps still available`;
}
