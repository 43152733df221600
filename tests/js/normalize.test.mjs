// Tests of frontend/normalize.js.
import assert from "node:assert/strict";
import test from "node:test";

import {
  DEFAULT_DECADES,
  fromUnit,
  logScale,
  makeScale,
  manualScale,
  maxAbsFinite,
  positiveLogRange,
  positiveLogUnit,
  symmetricScale,
  toUnit,
} from "../../frontend/normalize.js";
import PALETTE_FILE from "../../frontend/palette.json" with { type: "json" };

const close = (a, b, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("maxAbsFinite skips NaN and Inf", () => {
  assert.equal(maxAbsFinite(new Float32Array([1, -3, NaN, Infinity, -Infinity, 2])), 3);
  assert.equal(maxAbsFinite([NaN, Infinity]), 0);
  assert.equal(maxAbsFinite([]), 0);
});

test("auto: symmetric around 0 from this step's max|g|", () => {
  const s = makeScale("auto", { stepMaxAbs: 4, allStepsMaxAbs: 100 });
  assert.deepEqual([s.lo, s.hi], [-4, 4]);
  assert.equal(toUnit(4, s), 1);
  assert.equal(toUnit(-2, s), -0.5);
  assert.equal(toUnit(0, s), 0);
  assert.equal(toUnit(8, s), 1, "clamped");
});

test("fixed: symmetric from the max over all steps", () => {
  const s = makeScale("fixed", { stepMaxAbs: 4, allStepsMaxAbs: 10 });
  assert.deepEqual([s.lo, s.hi], [-10, 10]);
  assert.equal(toUnit(5, s), 0.5);
  const fallback = makeScale("fixed", { stepMaxAbs: 4 });
  assert.deepEqual([fallback.lo, fallback.hi], [-4, 4]);
});

test("all-zero or non-finite data gets a usable range", () => {
  assert.deepEqual([symmetricScale(0).lo, symmetricScale(0).hi], [-1, 1]);
  assert.deepEqual([symmetricScale(NaN).lo, symmetricScale(NaN).hi], [-1, 1]);
});

test("manual: two slopes keep 0 white; one-sided ranges are linear", () => {
  const s = makeScale("manual", { stepMaxAbs: 99, min: -1, max: 4 });
  assert.equal(toUnit(-1, s), -1);
  assert.equal(toUnit(-0.5, s), -0.5);
  assert.equal(toUnit(0, s), 0);
  assert.equal(toUnit(2, s), 0.5);
  assert.equal(toUnit(4, s), 1);
  assert.equal(fromUnit(-0.5, s), -0.5);
  assert.equal(fromUnit(0.5, s), 2);
  const pos = manualScale(2, 6);
  assert.equal(toUnit(2, pos), -1);
  assert.equal(toUnit(4, pos), 0);
  assert.equal(toUnit(6, pos), 1);
  assert.equal(fromUnit(0, pos), 4);
  const swapped = manualScale(3, -3);
  assert.deepEqual([swapped.lo, swapped.hi], [-3, 3]);
  assert.deepEqual([manualScale(1, 1).lo, manualScale(1, 1).hi], [-1, 1], "empty range");
  assert.deepEqual([manualScale("x", 1).lo, manualScale("x", 1).hi], [-1, 1], "not a number");
});

test("log magnitude: signed, decades below the max", () => {
  const s = makeScale("log", { stepMaxAbs: 100, decades: 4 });
  assert.equal(s.kind, "log");
  assert.equal(s.hiLog, 2);
  assert.equal(s.loLog, -2);
  assert.equal(toUnit(100, s), 1);
  assert.equal(toUnit(-100, s), -1);
  close(toUnit(1, s), 0.5);
  close(toUnit(-1, s), -0.5);
  assert.equal(toUnit(0.001, s), 0, "below the range is white");
  assert.equal(toUnit(0, s), 0);
  close(fromUnit(0.5, s), 1);
  close(fromUnit(-1, s), -100);
  assert.equal(logScale(0).hiLog, 0);
});

test("NaN and +-Inf pass through toUnit unchanged", () => {
  for (const s of [symmetricScale(2), logScale(2), manualScale(-1, 3)]) {
    assert.ok(Number.isNaN(toUnit(NaN, s)));
    assert.equal(toUnit(Infinity, s), Infinity);
    assert.equal(toUnit(-Infinity, s), -Infinity);
  }
});

test("positive log range for the flow view: smallest positive to largest, bounded", () => {
  const d = { min: 1, max: 3 };
  const r = positiveLogRange([1e-3, 10, NaN, 0, Infinity], { min: 1, max: 12 });
  assert.equal(r.hiLog, 1);
  close(r.loLog, -3, 1e-12);
  const capped = positiveLogRange([1e-3, 10, NaN, 0], d);
  assert.deepEqual([capped.loLog, capped.hiLog], [-2, 1], "at most 3 decades");
  assert.deepEqual(positiveLogRange([5, 5], d).loLog, Math.log10(5) - 1, "at least 1");
  assert.deepEqual(positiveLogRange([0, NaN], d), { loLog: -3, hiLog: 0 }, "none positive");
  assert.equal(positiveLogUnit(10, capped), 1);
  close(positiveLogUnit(0.1, capped), 1 / 3);
  assert.equal(positiveLogUnit(1e-5, capped), 0);
  assert.equal(positiveLogUnit(0, capped), 0);
  assert.ok(Number.isNaN(positiveLogUnit(NaN, capped)));
  assert.equal(positiveLogUnit(Infinity, capped), Infinity);
});

test("the log scales' decades come from palette.json", () => {
  assert.equal(DEFAULT_DECADES, PALETTE_FILE.log_decades.signed);
  assert.equal(logScale(1).loLog, -PALETTE_FILE.log_decades.signed);
  const flow = positiveLogRange([1e-30, 1]);
  assert.equal(flow.loLog, -PALETTE_FILE.log_decades.flow_max);
});
