/**
 * Talks to TensorBoard's page (this iframe's parent) the way TensorBoard's own plugin
 * library does: one MessageChannel, opened by posting "experimental.bootstrap".
 * The page broadcasts "experimental.DataReloaded" on every reload (its reload button
 * or auto-reload) and "experimental.RunsChanged" when the list of runs changed; it
 * answers "experimental.GetURLPluginData" with this plugin's `p.rnngrad.<key>`
 * entries of its address (used when the page's address cannot be read). Writing those entries has no message: TensorBoard's
 * plugin library offers none, so setUrlData() uses the page's own URL storage
 * (`tensorboard.tf_storage`, the store GetURLPluginData reads), reachable because
 * TensorBoard serves the plugin's frame from its own origin.
 * @module tb_host
 */

/** Broadcasts that mean the data may have changed. */
const RELOADS = new Set(["experimental.DataReloaded", "experimental.RunsChanged"]);

/** The plugin's name in TensorBoard's address (`p.<name>.<key>`). */
export const PLUGIN_NAME = "rnngrad";

/** How long a request waits for the page's answer, ms. */
const REQUEST_MS = 3000;

/**
 * A window's channel to TensorBoard's page: the port, the reload listeners, the
 * requests waiting for an answer (by id), the next request id.
 * @typedef {{port: MessagePort, reloads: Set<() => void>,
 *   waits: Map<number, (payload: any) => void>, nextId: number}} Channel
 */

/** One channel per window. @type {WeakMap<Window, Channel>} */
const channels = new WeakMap();

/**
 * @param {Window|undefined} win A window.
 * @returns {boolean} Whether it is a frame of another window.
 */
function isFramed(win) {
  return Boolean(win && win.parent && win.parent !== win);
}

/**
 * The window's channel to the page, opened on first use.
 * @param {Window} win This frame's window.
 * @returns {Channel}
 */
function channelOf(win) {
  const open = channels.get(win);
  if (open) return open;
  const { port1: port, port2 } = new MessageChannel();
  /** @type {Channel} */
  const ch = { port, reloads: new Set(), waits: new Map(), nextId: 1 };
  port.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.isReply) {
      const wait = ch.waits.get(msg.id);
      if (wait) wait(msg.error ? null : msg.payload);
      return;
    }
    if (RELOADS.has(msg.type)) for (const f of ch.reloads) f();
    // Every message gets a reply, or the host keeps waiting for it.
    const reply = { type: msg.type, id: msg.id, payload: null, error: null, isReply: true };
    port.postMessage(JSON.stringify(reply));
  };
  win.parent.postMessage("experimental.bootstrap", "*", [port2]);
  channels.set(win, ch);
  return ch;
}

/**
 * Closes the channel once nothing listens or waits on it.
 * @param {Window} win This frame's window.
 * @param {Channel} ch Its channel.
 */
function release(win, ch) {
  if (ch.reloads.size > 0 || ch.waits.size > 0) return;
  ch.port.close();
  channels.delete(win);
}

/**
 * Calls `onReload` on each "data reloaded" or "runs changed" broadcast.
 * @param {() => void} onReload Called per broadcast (their payloads are not used).
 * @param {Window} [win] This frame's window.
 * @returns {() => void} Stops listening (and closes the channel if unused).
 */
export function listenToHost(onReload, win = globalThis.window) {
  if (!isFramed(win)) return () => {};
  const ch = channelOf(win);
  const f = () => onReload();
  ch.reloads.add(f);
  return () => {
    ch.reloads.delete(f);
    release(win, ch);
  };
}

/**
 * Sends a request to TensorBoard's page.
 * @param {string} type Message type, e.g. "experimental.GetURLPluginData".
 * @param {*} [payload] Its payload.
 * @param {{win?: Window, ms?: number}} [options] This frame's window; how long to
 *   wait.
 * @returns {Promise<*>} The answer's payload; null outside an iframe, on an error
 *   or when no answer came in time.
 */
export function askHost(type, payload = null, { win = globalThis.window, ms = REQUEST_MS } = {}) {
  if (!isFramed(win)) return Promise.resolve(null);
  const ch = channelOf(win);
  const id = ch.nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), ms);
    /** @param {any} value The answer's payload (null: none). */
    function done(value) {
      clearTimeout(timer);
      ch.waits.delete(id);
      release(win, ch);
      resolve(value === undefined ? null : value);
    }
    ch.waits.set(id, done);
    ch.port.postMessage(JSON.stringify({ type, id, payload, error: null, isReply: false }));
  });
}

/**
 * This plugin's entries in TensorBoard's address (`p.rnngrad.<key>=<value>`).
 * @param {Window} [win] This frame's window.
 * @returns {Promise<Object<string, string>>} Key (without the prefix) to value; {}
 *   outside TensorBoard.
 */
export async function getUrlData(win = globalThis.window) {
  const own = ownEntries(win);
  if (own) return own;
  const data = await askHost("experimental.GetURLPluginData", null, { win });
  return data && typeof data === "object" ? data : {};
}

/**
 * This plugin's entries read from the page's address itself, or null (not
 * readable). Read first: TensorBoard 2.x answers GetURLPluginData from a copy of
 * the address it takes on "hashchange" only, so on a page just opened from a link
 * the answer is empty.
 * @param {Window} win This frame's window.
 * @returns {Record<string, string>|null}
 */
function ownEntries(win) {
  let hash;
  try {
    if (!isFramed(win)) return null;
    hash = win.parent.location.hash;
  } catch {
    return null; // another origin
  }
  if (typeof hash !== "string") return null;
  const prefix = `p.${PLUGIN_NAME}.`;
  /** @type {Record<string, string>} */
  const out = {};
  for (const [k, v] of Object.entries(parseHash(hash))) {
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  }
  return out;
}

/**
 * TensorBoard's URL storage in the parent page, or null (not reachable).
 * @param {Window} win This frame's window.
 * @returns {{setString: Function}|null}
 */
function hostStorage(win) {
  try {
    const parent = /** @type {Window & {tensorboard?: {tf_storage?: any}}} */ (win.parent);
    const storage = parent.tensorboard?.tf_storage;
    return storage && typeof storage.setString === "function" ? storage : null;
  } catch {
    return null; // another origin
  }
}

/**
 * Replaces this plugin's entries in TensorBoard's address, without a history entry;
 * keys not in `data` are removed.
 * @param {Object<string, string>} data Key (without the prefix) to value.
 * @param {Window} [win] This frame's window.
 * @returns {boolean} Whether TensorBoard's address could be written.
 */
export function setUrlData(data, win = globalThis.window) {
  if (!isFramed(win)) return false;
  const storage = hostStorage(win);
  if (!storage) return false;
  const prefix = `p.${PLUGIN_NAME}.`;
  const options = { defaultValue: "", useLocationReplace: true };
  const current = parseHash(win.parent.location.hash);
  for (const key of Object.keys(current)) {
    if (key.startsWith(prefix) && !(key.slice(prefix.length) in data)) {
      storage.setString(key, "", options); // the default value: removed
    }
  }
  for (const [key, value] of Object.entries(data)) {
    storage.setString(prefix + key, String(value), options);
  }
  return true;
}

/**
 * Parses TensorBoard's address hash the way its URL storage does: `&`-separated
 * `key=value` pairs, URI-encoded.
 * @param {string} hash location.hash.
 * @returns {Object<string, string>}
 */
/**
 * @param {string} hash A location hash, with or without the leading "#".
 * @returns {Record<string, string>} Its `key=value` entries, decoded (malformed
 *   ones skipped).
 */
export function parseHash(hash) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const part of String(hash || "").replace(/^#/, "").split("&")) {
    const kv = part.split("=");
    if (kv.length !== 2) continue;
    try {
      out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]);
    } catch {
      // a malformed entry is not ours
    }
  }
  return out;
}

/**
 * The address to share: TensorBoard's page's (its hash carries this plugin's
 * state), or this frame's when the page cannot be read.
 * @param {Window} [win] This frame's window.
 * @returns {string}
 */
export function shareableUrl(win = globalThis.window) {
  try {
    if (isFramed(win)) return String(win.parent.location.href);
  } catch {
    // another origin
  }
  return String(win.location.href);
}
