/**
 * Keeps the page in step with a training run that is still logging: reloads the
 * listings (runs, tags, steps) every REFRESH_MS and on each reload of TensorBoard's
 * page (its reload button and auto-reload), but only while the plugin is displayed;
 * a reload missed meanwhile happens once it is displayed again.
 * @module live
 */
import { listenToHost } from "./tb_host.js";

/** Period of the listing reload, ms (TensorBoard's own auto-reload period). */
export const REFRESH_MS = 30000;

/**
 * Prompts this close together cause one reload, ms: TensorBoard's page sends
 * RunsChanged and DataReloaded for one reload, and DataReloaded just after showing
 * the plugin's dashboard again.
 */
export const COALESCE_MS = 250;

/**
 * Whether the plugin can be seen: its tab is visible and TensorBoard shows its
 * dashboard (on another dashboard the plugin's frame stays alive, 0 px high).
 * @param {Window} win This frame's window.
 * @returns {boolean}
 */
export function isDisplayed(win = globalThis.window) {
  return !win.document.hidden && win.innerWidth > 0 && win.innerHeight > 0;
}

/**
 * @param {() => Promise<void>} sync Reloads the listings and redraws if they changed.
 *   Runs COALESCE_MS after a prompt; never twice at once (a prompt meanwhile runs it
 *   once more afterwards), nor while the plugin is not displayed.
 * @param {object} [o]
 * @param {number} [o.ms] Period, ms.
 * @param {Window} [o.win] Window whose timers, events, document and parent are used.
 * @returns {() => void} Stops the timer, the listeners and the channel to
 *   TensorBoard's page.
 */
export function keepFresh(sync, { ms = REFRESH_MS, win = globalThis.window } = {}) {
  const doc = win.document;
  let busy = false;
  let again = false;
  let missed = false;
  /** @type {number|null} */
  let queued = null;
  function tick() {
    if (queued === null) queued = win.setTimeout(run, COALESCE_MS);
  }
  function run() {
    queued = null;
    if (!isDisplayed(win)) {
      missed = true; // reload once displayed again
      return;
    }
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
  const onShown = () => {
    if (!missed || !isDisplayed(win)) return;
    missed = false;
    tick();
  };
  const timer = win.setInterval(tick, ms);
  doc.addEventListener("visibilitychange", onShown);
  win.addEventListener("resize", onShown); // TensorBoard shows the dashboard again
  const closeHost = listenToHost(tick, win);
  return () => {
    win.clearInterval(timer);
    if (queued !== null) win.clearTimeout(queued);
    doc.removeEventListener("visibilitychange", onShown);
    win.removeEventListener("resize", onShown);
    closeHost();
  };
}
