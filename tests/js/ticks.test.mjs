// Tests of frontend/ticks.js.
import assert from "node:assert/strict";
import test from "node:test";

import { formatTicks, integerTicks, notation } from "../../frontend/ticks.js";

const notations = (labels) => new Set(labels.map(notation).filter((n) => n !== "special"));

test("formatTicks keeps one notation per bar: exponents when any value needs one", () => {
  const labels = formatTicks([-0.00159, -0.000794, 0, 0.000794, 0.00159]);
  assert.deepEqual(labels, ["-1.59e-3", "-7.94e-4", "0", "7.94e-4", "1.59e-3"]);
  assert.deepEqual(notations(labels), new Set(["exponent"]));
  assert.deepEqual(formatTicks([1e-6, 1e-3, 1, 1000, 1e6]), [
    "1.00e-6",
    "1.00e-3",
    "1.00e0",
    "1.00e3",
    "1.00e6",
  ]);
  assert.deepEqual(formatTicks([20000, 10000]), ["2.00e4", "1.00e4"]);
});

test("formatTicks writes decimals with the digits the smallest tick needs", () => {
  assert.deepEqual(formatTicks([-0.004, -0.002, 0, 0.002, 0.004]), [
    "-0.004",
    "-0.002",
    "0",
    "0.002",
    "0.004",
  ]);
  assert.deepEqual(formatTicks([0.00208, 0.5, 1]), ["0.00208", "0.5", "1"]);
  assert.deepEqual(formatTicks([0, 2.5, 5, 7.5, 10]), ["0", "2.5", "5", "7.5", "10"]);
  assert.deepEqual(formatTicks([0, 1250, 2500]), ["0", "1250", "2500"]);
  for (const values of [
    [0.001, 0.01, 0.1],
    [-9999, 0, 9999],
    [1e-3, 5e-3, 9.99e-3],
  ]) {
    assert.deepEqual(notations(formatTicks(values)), new Set(["decimal"]), String(values));
  }
});

test("formatTicks names the special values", () => {
  assert.deepEqual(formatTicks([NaN, Infinity, -Infinity, 0]), ["NaN", "+Inf", "-Inf", "0"]);
  assert.deepEqual(formatTicks([]), []);
});

test("a log colour bar's ticks are in one notation across decades", () => {
  for (const [lo, hi] of [
    [-5, 0],
    [-3.1, -2.2],
    [-1, 3],
    [2, 6],
  ]) {
    const values = [0, 1, 2, 3, 4].map((k) => 10 ** (lo + (k * (hi - lo)) / 4));
    assert.equal(notations(formatTicks(values)).size, 1, `${lo}..${hi}`);
  }
});

test("integerTicks gives at least five integer ticks and ends near the maximum", () => {
  assert.deepEqual(integerTicks(19), [0, 5, 10, 15, 19]);
  assert.deepEqual(integerTicks(99), [0, 20, 40, 60, 80, 99]);
  assert.deepEqual(integerTicks(9), [0, 2, 4, 6, 8]);
  assert.deepEqual(integerTicks(4), [0, 1, 2, 3, 4]);
  assert.deepEqual(integerTicks(2), [0, 1, 2]);
  assert.deepEqual(integerTicks(0), [0]);
  for (let max = 4; max < 2000; max += 7) {
    const ticks = integerTicks(max);
    assert.ok(ticks.length >= 5 && ticks.length <= 11, `${max}: ${ticks}`);
    assert.ok(ticks.every(Number.isInteger) && ticks.at(-1) <= max);
    assert.ok(max - ticks.at(-1) <= (ticks[1] - ticks[0]) / 2, `${max}: ${ticks}`);
  }
});
