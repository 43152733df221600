/**
 * Reads and writes the UI state in the address: this frame's hash, and TensorBoard's
 * own address (`p.rnngrad.<key>` entries, tb_host.js), so that the address bar
 * carries the state and a shared link opens the same picture.
 * @module hash
 */
import { decodeState, encodeState, stateFromUrlData, stateToUrlData } from "./state.js";
import { getUrlData, setUrlData } from "./tb_host.js";

/** @returns {import("./state.js").State} State from location.hash. */
export function readHash() {
  return decodeState(window.location.hash);
}

/**
 * The state to open with: this frame's hash when it has one (the frame was
 * reloaded: it is the newest), else TensorBoard's address's, else null.
 * @returns {Promise<import("./state.js").State|null>}
 */
export async function readAddress() {
  if (window.location.hash.replace(/^#/, "") !== "") return readHash();
  const data = await getUrlData();
  return Object.keys(data).length > 0 ? stateFromUrlData(data) : null;
}

/**
 * Replaces the hash without adding a history entry, here and in TensorBoard's
 * address. Uses an absolute path: the plugin page has a <base href>, against which
 * a bare "#..." would resolve.
 * @param {import("./state.js").State} state State.
 */
export function writeHash(state) {
  const h = encodeState(state);
  const { pathname, search } = window.location;
  if (window.location.hash.replace(/^#/, "") !== h) {
    window.history.replaceState(null, "", `${pathname}${search}${h ? `#${h}` : ""}`);
  }
  setUrlData(stateToUrlData(state));
}
