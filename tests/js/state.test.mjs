// Tests of frontend/state.js (URL-hash state).
import assert from "node:assert/strict";
import test from "node:test";

import { decodeState, defaultState, encodeState } from "../../frontend/state.js";

test("default state encodes to an empty hash and back", () => {
  assert.equal(encodeState(defaultState()), "");
  assert.deepEqual(decodeState(""), defaultState());
  assert.deepEqual(decodeState("#"), defaultState());
});

test("full state round trip, including awkward run and tag names", () => {
  const s = {
    runs: ["lstm/run 1", "gru&co=#1", "<img src=x onerror=alert(1)>"],
    noRun: false,
    tag: "rnn_grads/lstm_1+bi?x",
    step: 1200,
    mark: 17,
    sampleMode: "one",
    sample: 3,
    scale: "manual",
    min: -0.5,
    max: 2e-3,
    reflect: true,
    transpose: true,
    yaxis: "free",
    views: ["heatmap", "flow"],
    runFilter: "lstm|gru.*u32",
    compare: true,
    sort: "run",
    order: "desc",
  };
  const h = encodeState(s);
  assert.ok(!h.includes("#") && !h.includes("<"), "escaped");
  assert.deepEqual(decodeState(`#${h}`), s);
});

test("a negative or non-integer mark is no mark", () => {
  assert.equal(decodeState("#mark=-3").mark, null);
  assert.equal(decodeState("#mark=2.5").mark, null);
  assert.equal(decodeState("#mark=4").mark, 4);
});

test("each sample mode and scale mode survives", () => {
  for (const sampleMode of ["one", "all", "mean"]) {
    for (const scale of ["auto", "fixed", "manual", "log"]) {
      const s = { ...defaultState(), runs: ["a"], tag: "t", step: 0, sampleMode, scale };
      assert.deepEqual(decodeState(encodeState(s)), s);
    }
  }
});

test("invalid values fall back to defaults", () => {
  const s = decodeState(
    "#run=&run=a&step=abc&samples=some&sample=-4&scale=rainbow&min=x&max=&yaxis=up&views=heatmap,bogus",
  );
  assert.deepEqual(s.runs, ["a"]);
  assert.equal(s.step, null);
  assert.equal(s.sampleMode, "one");
  assert.equal(s.sample, 0);
  assert.equal(s.scale, "auto");
  assert.equal(s.min, -1);
  assert.equal(s.max, 1);
  assert.equal(s.yaxis, "shared");
  assert.deepEqual(s.views, ["heatmap"]);
});

test("manual range is only written in manual mode; step 0 is kept", () => {
  const s = { ...defaultState(), step: 0, min: -3, max: 3 };
  const h = encodeState(s);
  assert.equal(h, "step=0");
  assert.equal(decodeState(h).step, 0);
});

test("no run selected survives the hash; a list of runs wins over it", () => {
  const none = { ...defaultState(), noRun: true, tag: "t" };
  assert.equal(encodeState(none), "norun=1&tag=t");
  assert.deepEqual(decodeState(encodeState(none)), none);
  assert.equal(decodeState("#norun=1&run=a").noRun, false);
});
