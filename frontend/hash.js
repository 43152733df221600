/**
 * Reads and writes the UI state in this document's URL hash.
 * @module hash
 */
import { decodeState, encodeState } from "./state.js";

/** @returns {import("./state.js").State} State from location.hash. */
export function readHash() {
  return decodeState(window.location.hash);
}

/**
 * Replaces the hash without adding a history entry. Uses an absolute path: the
 * plugin page has a <base href>, against which a bare "#..." would resolve.
 * @param {import("./state.js").State} state State.
 */
export function writeHash(state) {
  const h = encodeState(state);
  const { pathname, search } = window.location;
  if (window.location.hash.replace(/^#/, "") !== h) {
    window.history.replaceState(null, "", `${pathname}${search}${h ? `#${h}` : ""}`);
  }
}
