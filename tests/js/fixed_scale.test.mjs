// Tests of frontend/fixed_scale.js (the "fixed" colour scale over steps).
import assert from "node:assert/strict";
import test from "node:test";

import {
  createFixedRanges,
  fixedScaleNote,
  maxAbsOverSteps,
} from "../../frontend/fixed_scale.js";
import { createLoader } from "../../frontend/loader.js";

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

/** A server of one series whose steps hold the value step + 1 (re-logged: + 100). */
function server() {
  const listing = new Map([
    [0, 1],
    [10, 2],
  ]);
  const fetched = [];
  const api = {
    steps: async () => [...listing].map(([step, wall_time]) => ({ step, wall_time })),
    tensor: async (run, tag, step, sample) => {
      fetched.push(sample === undefined ? step : `${step}/${sample}`);
      if (!listing.has(step)) throw Object.assign(new Error("gone"), { status: 404 });
      const v = step + 1 + (listing.get(step) > 10 ? 100 : 0);
      return { data: new Float32Array([v, -v / 2]), shape: [1, 2], dtype: "<f4" };
    },
  };
  return { api, listing, fetched };
}

test("fixed range: a new step costs one fetch, even when no tensor stays cached", async () => {
  const { api, listing, fetched } = server();
  const loader = createLoader(api, 1); // too small a budget to keep any tensor
  const range = createFixedRanges(loader.wallTime);
  const maxAbsAt = async (s) => Math.max(...(await loader.tensor("r", "t", s)).data.map(Math.abs));
  const over = async (view = ["one", 0]) =>
    range("r", "t", await loader.steps("r", "t"), view, maxAbsAt);
  assert.deepEqual(await over(), { maxAbs: 11, covered: 2, missing: [], gone: [] });
  assert.deepEqual(fetched, [0, 10]);
  listing.set(20, 3);
  await loader.reloadSteps("r", "t");
  assert.equal((await over()).maxAbs, 21);
  assert.deepEqual(fetched, [0, 10, 20], "only the new step");
  listing.set(10, 50); // logged again (a restarted run): another wall time
  await loader.reloadSteps("r", "t");
  assert.equal((await over()).maxAbs, 111);
  assert.deepEqual(fetched, [0, 10, 20, 10], "only the re-logged step");
  await over(["all", 0]);
  assert.equal(fetched.length, 7, "another view is computed again");
});

test("fixed range: a 404 is remembered; gone lists only the steps first found missing", async () => {
  const { api, fetched } = server();
  const loader = createLoader(api);
  const range = createFixedRanges(loader.wallTime);
  const maxAbsAt = async (s) => (await loader.tensor("r", "t", s)).data[0];
  await loader.steps("r", "t");
  const first = await range("r", "t", [0, 5, 10], ["one", 0], maxAbsAt);
  assert.deepEqual(first, { maxAbs: 11, covered: 2, missing: [5], gone: [5] });
  const again = await range("r", "t", [0, 5, 10], ["one", 0], maxAbsAt);
  assert.deepEqual(again, { maxAbs: 11, covered: 2, missing: [5], gone: [] });
  assert.deepEqual(fetched, [0, 5, 10]);
});
