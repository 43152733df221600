/**
 * Keeps the page in step with a training run that is still logging: reloads the
 * listings (runs, tags, steps) every REFRESH_MS, when TensorBoard reports new runs
 * (its reload button and auto-reload), and when the page becomes visible again.
 * @module live
 */
import { listenToHost } from "./tb_host.js";

/** Period of the listing reload, ms (TensorBoard's own auto-reload period). */
export const REFRESH_MS = 30000;

/**
 * @param {() => Promise<void>} sync Reloads the listings and redraws if they changed.
 *   Never runs twice at once (a call meanwhile runs it once more afterwards), nor
 *   while the page is hidden.
 * @param {object} [o]
 * @param {number} [o.ms] Period, ms.
 * @param {Window} [o.win] Window whose timers, document and parent are used.
 * @returns {() => void} Stops the timer and the channel to TensorBoard's page.
 */
export function keepFresh(sync, { ms = REFRESH_MS, win = globalThis.window } = {}) {
  const doc = win.document;
  let busy = false;
  let again = false;
  function tick() {
    if (doc.hidden) return;
    if (busy) {
      again = true; // the sync in flight may have missed what prompted this one
      return;
    }
    busy = true;
    Promise.resolve()
      .then(sync)
      .catch((e) => console.warn("rnngrad: could not reload the listings:", e))
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          tick();
        }
      });
  }
  const onVisible = () => {
    if (!doc.hidden) tick();
  };
  const timer = win.setInterval(tick, ms);
  doc.addEventListener("visibilitychange", onVisible);
  const closeHost = listenToHost(tick, win);
  return () => {
    win.clearInterval(timer);
    doc.removeEventListener("visibilitychange", onVisible);
    closeHost();
  };
}
