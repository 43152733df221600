// Tests of frontend/run_model.js with the real loader over a fake API.
import assert from "node:assert/strict";
import test from "node:test";
import { setImmediate as settle } from "node:timers/promises";

import { ApiError } from "../../frontend/api.js";
import { createLoader } from "../../frontend/loader.js";
import { createRunModels } from "../../frontend/run_model.js";
import { defaultState } from "../../frontend/state.js";

const META = { kind: "gradients", shape: [2, 3, 1], dtype: "float32" };
const PROFILE = {
  steps: [0, 10],
  wall_times: [1, 2],
  values: [[1, 2, 3], [1, 1, 1]],
  nan_counts: null,
  inf_counts: null,
  reach: [2, 2],
  reach_threshold: 0.01,
};

/** A fake API: step s holds the values s, -s, ... per sample; `gone` steps 404. */
function fakeApi({ steps = [0, 10], gone = [], profileError = null } = {}) {
  const api = {
    calls: [],
    listing: steps,
    steps: async () => api.listing.map((step) => ({ step, wall_time: step })),
    profile: async () => {
      if (profileError) throw profileError;
      return PROFILE;
    },
    tensor: async (run, tag, step, sample) => {
      api.calls.push(["tensor", run, step, sample]);
      if (gone.includes(step)) throw new ApiError(`no step ${step}`, 404);
      const data = new Float32Array([step, 0, 1, -step, 0, 2]);
      return { data, shape: [2, 3, 1], dtype: "<f4" };
    },
    mask: async () => {
      throw new ApiError("no mask", 404);
    },
  };
  return api;
}

const state = (patch = {}) => ({ ...defaultState(), runs: ["r"], tag: "t", ...patch });

test("messages: no tag, an unreadable series, steps that failed, no step", async () => {
  const m = createRunModels(createLoader(fakeApi()));
  assert.deepEqual(await m.model("r", null, [], null, state()), {
    meta: null,
    message: 'Run "r" has no tag "t".',
    failed: false,
    neutral: true,
  });
  const why = "SimpleRNN has no cell state: run \"r\" logs no \"d loss / d cell state\".";
  assert.equal((await m.model("r", null, [], null, state(), why)).message, why);
  const bad = { ...META, error: "version 9" };
  assert.equal(
    (await m.model("r", bad, [], null, state())).message,
    'The series "t" of run "r" could not be read: version 9',
  );
  const down = await m.model("r", META, new ApiError("Could not load the steps", 503), null, state());
  assert.deepEqual([down.message, down.failed], ["Could not load the steps", true]);
  assert.equal((await m.model("r", META, [], null, state())).message, 'Run "r" has no logged step of "t".');
});

test("the views' data: the run's latest step at or before the slider, scale, profile", async () => {
  const m = createRunModels(createLoader(fakeApi()));
  const v = await m.model("r", META, [0, 10], 7, state());
  assert.equal(v.message, null);
  assert.equal(v.step, 0);
  assert.deepEqual(v.messages, []);
  assert.equal(v.failed, false);
  assert.equal(v.profile, PROFILE);
  assert.deepEqual([...v.prep.array.subarray(0, 3)], [0, 0, 1]);
  assert.deepEqual([v.scale.lo, v.scale.hi], [-1, 1]);
  const fixed = await m.model("r", META, [0, 10], 10, state({ scale: "fixed" }));
  assert.deepEqual([fixed.scale.lo, fixed.scale.hi], [-10, 10]);
  assert.equal(fixed.note, "colour scale fixed over 2 steps");
});

test("a sample the run lacks and a failed profile are said above the views", async () => {
  const error = new ApiError("Could not load the profile (HTTP 500).", 500);
  const m = createRunModels(createLoader(fakeApi({ profileError: error })));
  const v = await m.model("r", META, [0, 10], 10, state({ sample: 5 }));
  assert.equal(v.prep, null);
  assert.equal(v.profile, null);
  assert.match(v.messages[0], /^Run "r" has 2 samples \(0 to 1\), so there is no sample 5/);
  assert.equal(v.messages[1], "Could not load the profile (HTTP 500).");
  assert.equal(v.failed, true);
});

test("an evicted step reloads the steps: null, so that a new pass draws", async () => {
  const api = fakeApi({ gone: [10] });
  const loader = createLoader(api);
  await loader.steps("r", "t");
  api.listing = [0];
  const m = createRunModels(loader);
  assert.equal(await m.model("r", META, [0, 10], 10, state()), null);
  assert.deepEqual(await loader.steps("r", "t"), [0]);
  const same = createLoader(fakeApi({ gone: [10] }));
  await same.steps("r", "t");
  const v = await createRunModels(same).model("r", META, [0, 10], 10, state());
  assert.match(v.messages[0], /no step 10/, "a 404 that changes no listing is an error");
});

test("prefetch fetches each run's next step; a 404 that changes the steps says so", async () => {
  const api = fakeApi({ steps: [0, 10, 20], gone: [20] });
  const loader = createLoader(api);
  await loader.steps("r", "t");
  api.listing = [0, 10];
  const m = createRunModels(loader);
  let changed = 0;
  const st = state({ runs: ["r", "none", "down"] });
  m.prefetch(st, [META, null, META], [[0, 10, 20], [], new Error("x")], 20, () => changed++);
  for (let i = 0; i < 5 && changed === 0; i++) await settle();
  assert.deepEqual(api.calls, [["tensor", "r", 20, undefined]]);
  assert.equal(changed, 1);
});
