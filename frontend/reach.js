/**
 * Gradient reach: how far back in time the gradient still arrives. Pure: no DOM.
 * @module reach
 */

/**
 * The largest lag k (timesteps counted back from the last one) whose profile value
 * is at least `threshold` times the profile's maximum.
 * @param {ArrayLike<number>} row Per-timestep gradient norm (NaN ignored).
 * @param {number} [threshold] Fraction of the maximum, e.g. 0.01.
 * @returns {number} Lag in timesteps; 0 when the row has no positive finite value.
 */
export function reachOf(row, threshold = 0.01) {
  let max = 0;
  for (let t = 0; t < row.length; t++) {
    const v = row[t];
    if (v > max && v !== Infinity) max = v;
  }
  if (!(max > 0)) return 0;
  const limit = threshold * max;
  for (let t = 0; t < row.length; t++) {
    if (row[t] >= limit && row[t] !== Infinity) return row.length - 1 - t;
  }
  return 0;
}

/**
 * Reach per logged step: the server's figures when given, else computed.
 * @param {{values: number[][], reach: number[]|null, reach_threshold: number}} profile
 * @returns {number[]}
 */
export function reachPerStep(profile) {
  if (Array.isArray(profile.reach) && profile.reach.length === profile.values.length) {
    return profile.reach.slice();
  }
  return profile.values.map((row) => reachOf(row, profile.reach_threshold));
}
