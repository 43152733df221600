/**
 * Hears TensorBoard's page (this iframe's parent) the way TensorBoard's own plugin
 * library does: on every reload (its reload button or auto-reload) the page
 * broadcasts "experimental.DataReloaded", and "experimental.RunsChanged" when the
 * list of runs changed.
 * @module tb_host
 */

/** Broadcasts that mean the data may have changed. */
const RELOADS = new Set(["experimental.DataReloaded", "experimental.RunsChanged"]);

/**
 * Registers with the host page over a MessageChannel and answers its broadcasts.
 * @param {() => void} onReload Called on each "data reloaded" or "runs changed"
 *   broadcast (their payloads are not used).
 * @param {Window} [win] This frame's window.
 * @returns {() => void} Closes the channel.
 */
export function listenToHost(onReload, win = globalThis.window) {
  if (!win || !win.parent || win.parent === win) return () => {};
  const channel = new MessageChannel();
  const port = channel.port1;
  port.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object" || msg.isReply) return;
    if (RELOADS.has(msg.type)) onReload();
    // Every message gets a reply, or the host keeps waiting for it.
    const reply = { type: msg.type, id: msg.id, payload: null, error: null, isReply: true };
    port.postMessage(JSON.stringify(reply));
  };
  win.parent.postMessage("experimental.bootstrap", "*", [channel.port2]);
  return () => port.close();
}
