// Tests of frontend/live.js and frontend/tb_host.js with a fake window.
import assert from "node:assert/strict";
import test from "node:test";
import { setImmediate as settle } from "node:timers/promises";

import { keepFresh, REFRESH_MS } from "../../frontend/live.js";
import { listenToHost } from "../../frontend/tb_host.js";

/** A window with manual timers, a document that can hide, and TensorBoard as parent. */
function fakeWindow() {
  const intervals = new Map();
  const listeners = new Map();
  const win = {
    document: {
      hidden: false,
      addEventListener: (type, fn) => listeners.set(type, fn),
      removeEventListener: (type) => listeners.delete(type),
    },
    setInterval: (fn, ms) => {
      intervals.set(intervals.size + 1, { fn, ms });
      return intervals.size;
    },
    clearInterval: (id) => intervals.delete(id),
    parent: {
      posted: [],
      postMessage(data, origin, ports) {
        this.posted.push({ data, origin, ports });
      },
    },
  };
  win.fire = () => [...intervals.values()].forEach((i) => i.fn());
  win.intervals = intervals;
  win.listeners = listeners;
  return win;
}

/** What TensorBoard's page sends over a plugin's port, as its IPC class does. */
const hostMessage = (type, id, payload) =>
  JSON.stringify({ type, id, payload, error: null, isReply: false });

test("keepFresh syncs every REFRESH_MS, one sync at a time, not while hidden", async () => {
  const win = fakeWindow();
  let calls = 0;
  let finish;
  const sync = () => {
    calls++;
    return new Promise((r) => {
      finish = r;
    });
  };
  const stop = keepFresh(sync, { win });
  assert.equal(REFRESH_MS, 30000);
  assert.equal([...win.intervals.values()][0].ms, 30000);
  win.fire();
  await settle();
  assert.equal(calls, 1);
  win.fire(); // during the sync: runs once more afterwards, not at the same time
  win.fire();
  await settle();
  assert.equal(calls, 1);
  finish();
  await settle();
  await settle();
  assert.equal(calls, 2);
  finish();
  await settle();
  win.document.hidden = true;
  win.fire();
  await settle();
  assert.equal(calls, 2, "hidden: no requests");
  win.document.hidden = false;
  win.listeners.get("visibilitychange")();
  await settle();
  assert.equal(calls, 3, "visible again: syncs at once");
  finish();
  stop();
  assert.equal(win.intervals.size, 0);
  assert.equal(win.listeners.size, 0);
  win.parent.posted[0].ports[0].close();
});

test("a failing sync is logged and the next tick tries again", async (t) => {
  const win = fakeWindow();
  const warn = t.mock.method(console, "warn", () => {});
  let calls = 0;
  const stop = keepFresh(
    async () => {
      calls++;
      throw new Error("offline");
    },
    { win },
  );
  win.fire();
  await settle();
  await settle();
  win.fire();
  await settle();
  await settle();
  assert.equal(calls, 2);
  assert.equal(warn.mock.callCount(), 2);
  stop();
  win.parent.posted[0].ports[0].close();
});

test("listenToHost registers like TensorBoard's plugin library and hears RunsChanged", async () => {
  const win = fakeWindow();
  let heard = 0;
  const close = listenToHost(() => heard++, win);
  const [{ data, origin, ports }] = win.parent.posted;
  assert.equal(data, "experimental.bootstrap");
  assert.equal(origin, "*");
  const host = ports[0]; // TensorBoard's end of the channel
  const replies = [];
  host.onmessage = (ev) => replies.push(JSON.parse(ev.data));
  host.postMessage(hostMessage("experimental.RunsChanged", 7, ["a", "b"]));
  host.postMessage(hostMessage("experimental.Other", 8, null));
  host.postMessage("not json");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(heard, 1);
  assert.deepEqual(replies, [
    { type: "experimental.RunsChanged", id: 7, payload: null, error: null, isReply: true },
    { type: "experimental.Other", id: 8, payload: null, error: null, isReply: true },
  ]);
  close();
  host.close();
});

test("listenToHost does nothing outside an iframe", () => {
  const win = fakeWindow();
  win.parent = win;
  const close = listenToHost(() => {}, win);
  close();
});
