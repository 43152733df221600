// Tests of frontend/live.js and frontend/tb_host.js with a fake window.
import assert from "node:assert/strict";
import test from "node:test";
import { setImmediate as settle } from "node:timers/promises";

import { COALESCE_MS, keepFresh, REFRESH_MS } from "../../frontend/live.js";
import { listenToHost } from "../../frontend/tb_host.js";

/**
 * A window with manual timers, a document that can hide, a size (0 px high while
 * TensorBoard shows another dashboard) and TensorBoard as parent. fire() lets the
 * period pass, elapse() the timeouts.
 */
function fakeWindow() {
  const intervals = new Map();
  const timeouts = new Map();
  let ids = 0;
  const listeners = new Map();
  const win = {
    innerWidth: 1400,
    innerHeight: 900,
    addEventListener: (type, fn) => listeners.set(`window:${type}`, fn),
    removeEventListener: (type) => listeners.delete(`window:${type}`),
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
    setTimeout: (fn, ms) => {
      timeouts.set(++ids, { fn, ms });
      return ids;
    },
    clearTimeout: (id) => timeouts.delete(id),
    parent: {
      posted: [],
      postMessage(data, origin, ports) {
        this.posted.push({ data, origin, ports });
      },
    },
  };
  win.elapse = () => {
    const due = [...timeouts.values()];
    timeouts.clear();
    due.forEach((t) => t.fn());
  };
  win.fire = () => {
    [...intervals.values()].forEach((i) => i.fn());
    win.elapse();
  };
  win.closePorts = () => win.parent.posted.forEach((m) => m.ports?.forEach((p) => p.close()));
  win.intervals = intervals;
  win.timeouts = timeouts;
  win.listeners = listeners;
  return win;
}

/**
 * A fake window whose message ports are closed after the test, passed or failed (an
 * open port keeps node's test process alive).
 */
function windowFor(t) {
  const win = fakeWindow();
  t.after(() => win.closePorts());
  return win;
}

/** Waits, in real time (at most 5 s), until `cond()` holds: ports deliver later. */
async function until(cond) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

/** What TensorBoard's page sends over a plugin's port, as its IPC class does. */
const hostMessage = (type, id, payload) =>
  JSON.stringify({ type, id, payload, error: null, isReply: false });

test("keepFresh syncs every REFRESH_MS, one sync at a time, not while hidden", async (t) => {
  const win = windowFor(t);
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
  win.elapse();
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
  win.elapse();
  await settle();
  assert.equal(calls, 3, "visible again: syncs");
  finish();
  stop();
  assert.equal(win.intervals.size, 0);
  assert.equal(win.listeners.size, 0);
});

test("a failing sync is logged and the next tick tries again", async (t) => {
  const win = windowFor(t);
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
});

test("keepFresh skips reloads while another dashboard is shown, then reloads once", async (t) => {
  const win = windowFor(t);
  let calls = 0;
  const stop = keepFresh(async () => calls++, { win });
  win.innerHeight = 0; // TensorBoard shows another dashboard; the frame stays alive
  win.fire();
  win.fire();
  await settle();
  assert.equal(calls, 0, "not displayed: no requests");
  win.listeners.get("window:resize")(); // still 0 px high
  await settle();
  assert.equal(calls, 0);
  win.innerHeight = 900;
  win.listeners.get("window:resize")(); // the plugin's dashboard is back
  win.elapse();
  await settle();
  assert.equal(calls, 1, "displayed again: reloads once");
  win.listeners.get("window:resize")(); // an ordinary resize: nothing was missed
  await settle();
  assert.equal(calls, 1);
  win.fire();
  await settle();
  assert.equal(calls, 2);
  stop();
  assert.equal(win.listeners.size, 0);
});

test("keepFresh reloads on TensorBoard's reload broadcasts", async (t) => {
  const win = windowFor(t);
  let calls = 0;
  const stop = keepFresh(async () => calls++, { win });
  const host = win.parent.posted[0].ports[0];
  let replies = 0; // the plugin answers each message once it has handled it
  host.onmessage = () => replies++;
  // One reload of TensorBoard's page that changed the runs sends both.
  host.postMessage(hostMessage("experimental.RunsChanged", 1, ["a"]));
  host.postMessage(hostMessage("experimental.DataReloaded", 2, null));
  await until(() => replies === 2);
  assert.equal(calls, 0, "not before COALESCE_MS");
  assert.deepEqual([...win.timeouts.values()].map((t) => t.ms), [COALESCE_MS]);
  win.elapse();
  await settle();
  assert.equal(calls, 1, "one reload for both");
  win.innerWidth = 0;
  host.postMessage(hostMessage("experimental.DataReloaded", 3, null));
  await until(() => replies === 3);
  win.elapse();
  await settle();
  assert.equal(calls, 1, "not displayed: skipped");
  win.innerWidth = 1400;
  win.listeners.get("window:resize")(); // and TensorBoard's DataReloaded just after
  host.postMessage(hostMessage("experimental.DataReloaded", 4, null));
  await until(() => replies === 4);
  win.elapse();
  await settle();
  assert.equal(calls, 2, "then reloaded once displayed");
  stop();
});

test("listenToHost registers like TensorBoard's plugin library and hears reloads", async (t) => {
  const win = windowFor(t);
  let heard = 0;
  const close = listenToHost(() => heard++, win);
  const [{ data, origin, ports }] = win.parent.posted;
  assert.equal(data, "experimental.bootstrap");
  assert.equal(origin, "*");
  const host = ports[0]; // TensorBoard's end of the channel
  const replies = [];
  host.onmessage = (ev) => replies.push(JSON.parse(ev.data));
  host.postMessage("not json"); // ignored, unanswered; delivered before the rest
  host.postMessage(hostMessage("experimental.RunsChanged", 7, ["a", "b"]));
  host.postMessage(hostMessage("experimental.DataReloaded", 8, undefined));
  host.postMessage(hostMessage("experimental.Other", 9, null));
  await until(() => replies.length === 3);
  assert.equal(heard, 2, "RunsChanged and DataReloaded (every reload)");
  assert.deepEqual(replies, [
    { type: "experimental.RunsChanged", id: 7, payload: null, error: null, isReply: true },
    { type: "experimental.DataReloaded", id: 8, payload: null, error: null, isReply: true },
    { type: "experimental.Other", id: 9, payload: null, error: null, isReply: true },
  ]);
  close();
});

test("listenToHost does nothing outside an iframe", () => {
  const win = fakeWindow();
  win.parent = win;
  const close = listenToHost(() => {}, win);
  close();
});
