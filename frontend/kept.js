/**
 * Original indices of a reduced series' stored values (the `kept` route: the
 * first `samples` samples, channels `channels[j]`, timesteps pooled
 * `timestep_pool`:1). Pure: no DOM.
 * @module kept
 */

/**
 * @typedef {object} Kept
 * @property {number[]|null} channels Original channel of each stored channel (null:
 *   all, in order).
 * @property {number} timestep_pool Timesteps pooled into one (1: none).
 * @property {number|null} timesteps Captured timesteps (null: no time axis).
 */

/**
 * @param {number} c Stored channel.
 * @param {Kept|null|undefined} kept What the step keeps (none: stored as captured).
 * @returns {number} The channel as captured.
 */
export function originalChannel(c, kept) {
  if (!kept || !Array.isArray(kept.channels)) return c;
  const original = kept.channels[c];
  return Number.isInteger(original) ? original : c;
}

/**
 * @param {Kept|null|undefined} kept What the step keeps.
 * @returns {number} Captured timesteps per stored one (1: none pooled).
 */
function timestepPool(kept) {
  return kept && kept.timestep_pool > 1 ? kept.timestep_pool : 1;
}

/**
 * @param {number} t Captured timestep.
 * @param {Kept|null|undefined} kept What the step keeps.
 * @returns {number} The stored timestep that stands for it (originalTimesteps'
 *   inverse).
 */
export function storedTimestep(t, kept) {
  return Math.floor(t / timestepPool(kept));
}

/**
 * @param {number} t Stored timestep.
 * @param {Kept|null|undefined} kept What the step keeps.
 * @returns {{first: number, last: number}} The captured timesteps it stands for.
 */
export function originalTimesteps(t, kept) {
  const pool = timestepPool(kept);
  const first = t * pool;
  let last = first + pool - 1;
  if (kept && typeof kept.timesteps === "number" && Number.isInteger(kept.timesteps)) {
    last = Math.min(last, kept.timesteps - 1);
  }
  return { first, last };
}

/**
 * @param {number} t Stored timestep.
 * @param {Kept|null|undefined} kept What the step keeps.
 * @returns {string} E.g. "timestep 5", or "timesteps 8–11 (pooled 4:1, largest |g|)".
 */
export function timestepText(t, kept) {
  const { first, last } = originalTimesteps(t, kept);
  if (first === last) return `timestep ${first}`;
  return `timesteps ${first}–${last} (pooled ${kept?.timestep_pool}:1, largest |g|)`;
}

/**
 * @param {number} count Stored channels.
 * @param {Kept} kept What the step keeps.
 * @returns {string[]|undefined} Each stored channel's captured index as a label
 *   (undefined when every channel is kept).
 */
export function channelAxis(count, kept) {
  if (!kept || !Array.isArray(kept.channels)) return undefined;
  return Array.from({ length: count }, (_, c) => String(originalChannel(c, kept)));
}

/**
 * @param {number} count Stored timesteps.
 * @param {Kept} kept What the step keeps.
 * @returns {string[]|undefined} Each stored timestep's first captured timestep as
 *   a label (undefined without pooling).
 */
export function timeAxis(count, kept) {
  if (!kept || !(kept.timestep_pool > 1)) return undefined;
  return Array.from({ length: count }, (_, t) => String(originalTimesteps(t, kept).first));
}
