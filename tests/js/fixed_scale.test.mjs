// Tests of frontend/fixed_scale.js (the "fixed" colour scale over steps).
import assert from "node:assert/strict";
import test from "node:test";

import { fixedScaleNote, maxAbsOverSteps } from "../../frontend/fixed_scale.js";

const gone = (step) => Object.assign(new Error(`no retained full tensor at step ${step}`), { status: 404 });

test("maxAbsOverSteps skips evicted steps and covers the rest", async () => {
  const max = { 0: 2, 10: 1, 20: 0.5 };
  const asked = [];
  const r = await maxAbsOverSteps([0, 5, 10, 20], async (s) => {
    asked.push(s);
    if (!(s in max)) throw gone(s);
    return max[s];
  });
  assert.deepEqual(r, { maxAbs: 2, covered: 3, missing: [5] });
  assert.deepEqual(asked, [0, 5, 10, 20], "one step after another");
  assert.equal(fixedScaleNote(r, 4), "colour scale fixed over the 3 of 4 steps still available");
  assert.equal(fixedScaleNote({ ...r, covered: 4 }, 4), "colour scale fixed over 4 steps");
});

test("maxAbsOverSteps: all steps gone gives nothing covered; other errors propagate", async () => {
  const none = await maxAbsOverSteps([1, 2], async (s) => {
    throw gone(s);
  });
  assert.deepEqual(none, { maxAbs: 0, covered: 0, missing: [1, 2] });
  await assert.rejects(
    maxAbsOverSteps([1], async () => {
      throw Object.assign(new Error("bad step"), { status: 400 });
    }),
    /bad step/,
  );
});
