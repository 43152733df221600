/**
 * Runs draw passes one at a time. A request while a pass runs marks that pass stale
 * and queues one more pass, however many requests come meanwhile; a pass that throws
 * is reported and later requests still run. Pure: no DOM.
 * @module redraw
 */

/**
 * @param {() => Promise<void>} pass Draws the current state; checks stale() after
 *   each wait and stops drawing when it is true.
 * @param {object} [hooks]
 * @param {() => void} [hooks.onStart] Called before each pass.
 * @param {(e: *) => void} [hooks.onError] Called with what a pass threw.
 * @returns {{request: () => Promise<void>, stale: () => boolean, busy: () => boolean}}
 *   request() resolves once a pass that started after it has finished.
 */
export function createRedraw(pass, { onStart = () => {}, onError = () => {} } = {}) {
  /** @type {Promise<void>|null} */
  let running = null;
  let again = false;

  function request() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          onStart();
          try {
            await pass();
          } catch (e) {
            onError(e);
          }
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  return {
    request,
    /** @returns {boolean} Whether a newer request waits for the pass running. */
    stale: () => again,
    /** @returns {boolean} Whether a pass runs. */
    busy: () => running !== null,
  };
}
