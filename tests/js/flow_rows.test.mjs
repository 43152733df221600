// Tests of frontend/flow_rows.js: merged rows are maxima (norms, reach) and sums
// (NaN/Inf counts) of the steps they cover; the chosen step keeps its exact row.
import assert from "node:assert/strict";
import test from "node:test";

import { FLOW_PLOT_HEIGHT, flowRows } from "../../frontend/flow_rows.js";

/** A profile of `n` steps (0, 10, 20, ...) and `t` timesteps, pseudo-random. */
function profile(n, t) {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const steps = Array.from({ length: n }, (_, i) => i * 10);
  const values = steps.map(() => Array.from({ length: t }, () => (rand() < 0.01 ? null : rand())));
  const counts = () => steps.map(() => Array.from({ length: t }, () => (rand() < 0.02 ? 1 : 0)));
  const reach = steps.map(() => Math.floor(rand() * t));
  return { steps, values, nan_counts: counts(), inf_counts: counts(), reach };
}

/** Checks every row of `rows` against the steps of `p` it covers. */
function assertRowsMerge(p, rows) {
  let i = 0;
  rows.steps.forEach((first, r) => {
    assert.equal(first, p.steps[i]);
    const end = i + rows.sizes[r];
    assert.equal(rows.lastSteps[r], p.steps[end - 1]);
    for (let t = 0; t < p.values[i].length; t++) {
      const finite = p.values.slice(i, end).map((v) => v[t]).filter((v) => v !== null);
      assert.equal(rows.values[r][t], finite.length ? Math.max(...finite) : null);
      const sum = (c) => c.slice(i, end).reduce((s, v) => s + v[t], 0);
      assert.equal(rows.nan_counts[r][t], sum(p.nan_counts));
      assert.equal(rows.inf_counts[r][t], sum(p.inf_counts));
    }
    assert.equal(rows.reach[r], Math.max(...p.reach.slice(i, end)));
    i = end;
  });
  assert.equal(i, p.steps.length); // every step is in exactly one row, in order
}

test("up to the row budget every step is a row of its own, unchanged", () => {
  const p = profile(FLOW_PLOT_HEIGHT, 5);
  const rows = flowRows(p, FLOW_PLOT_HEIGHT, 30);
  assert.deepEqual(rows.steps, p.steps);
  assert.deepEqual(rows.lastSteps, p.steps);
  assert.ok(rows.sizes.every((s) => s === 1));
  assert.equal(rows.values[3], p.values[3]);
  assert.deepEqual(rows.reach, p.reach);
});

test("10,000 steps: at most the budget's rows, maxima and sums, the chosen step exact", () => {
  const p = profile(10_000, 40);
  for (const chosen of [0, 10, 41_230, 99_980, 99_990, null, 5]) {
    const rows = flowRows(p, FLOW_PLOT_HEIGHT, chosen);
    assert.ok(rows.steps.length <= FLOW_PLOT_HEIGHT && rows.steps.length >= FLOW_PLOT_HEIGHT - 1);
    assertRowsMerge(p, rows);
    const at = p.steps.indexOf(chosen);
    if (at < 0) continue; // 5 is not a logged step: plain bins
    const r = rows.steps.indexOf(chosen);
    assert.equal(rows.sizes[r], 1);
    assert.equal(rows.values[r], p.values[at]);
    assert.equal(rows.nan_counts[r], p.nan_counts[at]);
    assert.equal(rows.reach[r], p.reach[at]);
  }
});

test("rows of different lengths and a profile without counts or reach", () => {
  const p = {
    steps: [0, 1, 2, 3, 4, 5],
    values: [[1, 2], [3], [null, 9], [4, 4, 4], [0, 0], [1, 1]],
    nan_counts: null,
    inf_counts: null,
    reach: null,
  };
  const rows = flowRows(p, 3, 3);
  assert.deepEqual(rows.steps, [0, 3, 4]);
  assert.deepEqual(rows.sizes, [3, 1, 2]);
  assert.deepEqual(rows.values, [[3, 9], [4, 4, 4], [1, 1]]);
  assert.equal(rows.nan_counts, null);
  assert.equal(rows.reach, null);
});
