// Tests of the state's form in TensorBoard's address (frontend/state.js) and of
// frontend/tb_host.js's URL requests with a fake window.
import assert from "node:assert/strict";
import test from "node:test";

import { defaultState, stateFromUrlData, stateToUrlData } from "../../frontend/state.js";
import { getUrlData, parseHash, setUrlData, shareableUrl } from "../../frontend/tb_host.js";

test("the state round-trips through one value per key; defaults are left out", () => {
  assert.deepEqual(stateToUrlData(defaultState()), {});
  const s = {
    ...defaultState(),
    runs: ["a&b=c", 'x,"y"'],
    tag: "state_gradients/rnn",
    quantity: "state_gradients",
    step: 100,
    scale: "log",
    sampleMode: "all",
  };
  const data = stateToUrlData(s);
  assert.deepEqual(Object.keys(data).sort(), ["quantity", "runs", "samples", "scale", "step", "tag"]);
  assert.equal(data.runs, JSON.stringify(s.runs));
  assert.deepEqual(stateFromUrlData(data), s);
});

test("no run selected is an empty list of runs", () => {
  const none = { ...defaultState(), noRun: true, tag: "t" };
  assert.deepEqual(stateToUrlData(none), { runs: "[]", tag: "t" });
  assert.deepEqual(stateFromUrlData({ runs: "[]", tag: "t" }), none);
  assert.equal(stateFromUrlData({ tag: "t" }).noRun, false, "no runs key: the default");
});

test("bad entries fall back to the defaults", () => {
  const s = stateFromUrlData({ runs: "not json", scale: "wrong", step: "x", run: "r" });
  assert.deepEqual(s, defaultState());
  assert.deepEqual(stateFromUrlData({ runs: '["a", 3]' }).runs, ["a"]);
});

test("parseHash reads TensorBoard's hash as its URL storage does", () => {
  assert.deepEqual(parseHash("#rnngrad&p.rnngrad.runs=%5B%22a%22%5D&bad=%E0%A4%A"), {
    "p.rnngrad.runs": '["a"]',
  });
});

/** A frame whose parent answers GetURLPluginData and holds TensorBoard's storage. */
function framed(urlData) {
  const stored = {};
  const parent = {
    location: { hash: "#rnngrad&p.rnngrad.old=1&other=2", href: "http://tb/#rnngrad" },
    tensorboard: {
      tf_storage: {
        setString(key, value, options) {
          stored[key] = [value, options];
        },
      },
    },
    postMessage(data, origin, ports) {
      const port = ports[0];
      port.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        const payload = msg.type === "experimental.GetURLPluginData" ? urlData : null;
        port.postMessage(JSON.stringify({ ...msg, payload, isReply: true }));
        port.close();
      };
    },
  };
  return { win: { parent, location: { href: "http://tb/frame" } }, stored };
}

test("getUrlData asks TensorBoard's page; setUrlData writes and removes entries", async () => {
  const { win, stored } = framed({ runs: '["a"]' });
  assert.deepEqual(await getUrlData(win), { old: "1" }, "the page's address, read");
  const { location } = win.parent;
  Object.defineProperty(win.parent, "location", {
    get() {
      throw new Error("another origin");
    },
  });
  assert.deepEqual(await getUrlData(win), { runs: '["a"]' }, "else asked");
  Object.defineProperty(win.parent, "location", { value: location });
  assert.equal(setUrlData({ tag: "t" }, win), true);
  const replace = { defaultValue: "", useLocationReplace: true };
  assert.deepEqual(stored, { "p.rnngrad.old": ["", replace], "p.rnngrad.tag": ["t", replace] });
  assert.equal(shareableUrl(win), "http://tb/#rnngrad");
});

test("outside an iframe: no data, nothing written, the frame's own address", async () => {
  const win = { location: { href: "http://x/#a" } };
  win.parent = win;
  assert.deepEqual(await getUrlData(win), {});
  assert.equal(setUrlData({ tag: "t" }, win), false);
  assert.equal(shareableUrl(win), "http://x/#a");
});
