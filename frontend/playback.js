/**
 * Playback through the training steps: one step on every PLAY_INTERVAL_MS, waiting
 * while a draw runs, stopping at the last step. Pure: no DOM; timers injectable.
 * @module playback
 */

/** Time between two steps of playback, ms. */
export const PLAY_INTERVAL_MS = 400;

/**
 * @param {object} player
 * @param {() => {index: number, count: number}} player.position Slider position.
 * @param {() => boolean} player.busy Whether a draw runs (the tick waits for it).
 * @param {(patch: object) => void} player.go Applies {stepIndex}, {stepBy} or
 *   {play: false} (at the end) the way the controls do.
 * @param {object} [o]
 * @param {number} [o.ms] Interval, ms.
 * @param {{setInterval: Function, clearInterval: Function}} [o.timers] Timers.
 * @returns {{play: (on: boolean) => void, playing: () => boolean}}
 */
export function createPlayback(player, { ms = PLAY_INTERVAL_MS, timers = globalThis } = {}) {
  /** @type {ReturnType<typeof setInterval>|null} */
  let timer = null;

  /**
   * Starts (from the first step when at the last) or stops playback.
   * @param {boolean} on Whether to play.
   */
  function play(on) {
    timers.clearInterval(timer);
    timer = null;
    const { index, count } = player.position();
    if (!on || count <= 1) return;
    timer = timers.setInterval(tick, ms);
    if (index >= count - 1) player.go({ stepIndex: 0 });
  }

  function tick() {
    if (player.busy()) return;
    const { index, count } = player.position();
    player.go(index >= count - 1 ? { play: false } : { stepBy: 1 });
  }

  return { play, playing: () => timer !== null };
}
