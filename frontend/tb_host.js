/**
 * Hears TensorBoard's page (this iframe's parent) the way TensorBoard's own plugin
 * library does: the page broadcasts "experimental.RunsChanged" when a reload (its
 * reload button or auto-reload) changes the list of runs.
 * @module tb_host
 */

const RUNS_CHANGED = "experimental.RunsChanged";

/**
 * Registers with the host page over a MessageChannel and answers its broadcasts.
 * @param {() => void} onRunsChanged Called on each "runs changed" broadcast (the
 *   payload, the host's run names, is not used).
 * @param {Window} [win] This frame's window.
 * @returns {() => void} Closes the channel.
 */
export function listenToHost(onRunsChanged, win = globalThis.window) {
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
    if (msg.type === RUNS_CHANGED) onRunsChanged();
    // Every message gets a reply, or the host keeps waiting for it.
    const reply = { type: msg.type, id: msg.id, payload: null, error: null, isReply: true };
    port.postMessage(JSON.stringify(reply));
  };
  win.parent.postMessage("experimental.bootstrap", "*", [channel.port2]);
  return () => port.close();
}
