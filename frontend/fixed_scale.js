/**
 * The "fixed" colour scale: max|g| over every retained step of a series. Steps the
 * server no longer keeps (evicted since the step list was loaded) are skipped, so
 * the scale covers the steps still available. max|g| is remembered per step, so a
 * new step costs one fetch. Pure: no DOM.
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
 * Remembers max|g| per step under a key naming all it depends on (run, tag, step,
 * wall time, what is drawn), so a new step costs one fetch and a step logged again
 * (another wall time) is read again. A 404 is remembered too.
 * @param {(run: string, tag: string, step: number) => number|undefined} wallTime
 *   Wall time of a step in its series' current listing.
 * @param {number} [limit] Entries kept; beyond it all are forgotten.
 * @returns {(run: string, tag: string, steps: number[], view: Array<string|number>,
 *   maxAbsAt: (step: number) => Promise<number>) => Promise<FixedRange & {gone:
 *   number[]}>} The range over `steps` of what `view` (sample mode, sample) draws;
 *   `gone` lists the steps first found missing by this call.
 */
export function createFixedRanges(wallTime, limit = 10000) {
  const known = new Map(); // key -> max|g|, or the 404 error
  return async (run, tag, steps, view, maxAbsAt) => {
    /** @type {number[]} */
    const gone = [];
    const range = await maxAbsOverSteps(steps, async (step) => {
      const key = JSON.stringify([run, tag, step, wallTime(run, tag, step), view]);
      if (!known.has(key)) {
        if (known.size >= limit) known.clear();
        try {
          known.set(key, await maxAbsAt(step));
        } catch (e) {
          if (!e || e.status !== 404) throw e;
          known.set(key, e);
          gone.push(step);
        }
      }
      const m = known.get(key);
      if (m instanceof Error) throw m;
      return m;
    });
    return { ...range, gone };
  };
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
