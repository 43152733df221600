// Tests of frontend/cache.js and frontend/loader.js.
import assert from "node:assert/strict";
import test from "node:test";

import { LruCache } from "../../frontend/cache.js";
import { createLoader } from "../../frontend/loader.js";

test("LruCache evicts the least recently used over budget", () => {
  const c = new LruCache(10);
  c.set("a", 1, 4);
  c.set("b", 2, 4);
  assert.equal(c.get("a"), 1); // a is now most recent
  c.set("c", 3, 4); // 12 > 10: evict b
  assert.equal(c.has("b"), false);
  assert.equal(c.get("a"), 1);
  assert.equal(c.get("c"), 3);
  assert.equal(c.bytes, 8);
  c.set("big", 4, 100); // keeps at least the newest entry
  assert.equal(c.get("big"), 4);
  assert.equal(c.map.size, 1);
});

function fakeApi() {
  const calls = [];
  let fail = true;
  return {
    calls,
    tags: async () => ({ r: {} }),
    steps: async (run, tag) => {
      calls.push(["steps", run, tag]);
      return [{ step: 20 }, { step: 10 }];
    },
    profile: async () => ({ values: [] }),
    tensor: async (run, tag, step, sample) => {
      calls.push(["tensor", run, tag, step, sample]);
      if (step === 99 && fail) {
        fail = false;
        throw new Error("flaky");
      }
      return { data: new Float32Array(2 * 3 * 4), shape: [2, 3, 4], dtype: "<f4" };
    },
    mask: async (run, tag, step) => {
      if (step === 1) {
        const e = new Error("no mask");
        e.status = 404;
        throw e;
      }
      return { data: new Uint8Array([1, 0]), shape: [1, 2] };
    },
  };
}

test("loader shares requests, caches results and sorts steps", async () => {
  const api = fakeApi();
  const l = createLoader(api);
  const [a, b] = await Promise.all([l.tensor("r", "t", 5), l.tensor("r", "t", 5)]);
  assert.equal(a, b);
  assert.equal(api.calls.filter((c) => c[0] === "tensor").length, 1);
  assert.ok(l.hasTensor("r", "t", 5));
  assert.deepEqual(a.dims, { batch: 2, time: 3, channels: 4, rank: 3 });
  assert.equal(a.sampleBase, null);
  const one = await l.tensor("r", "t", 5, 1);
  assert.equal(one.sampleBase, 1);
  assert.deepEqual(api.calls.at(-1), ["tensor", "r", "t", 5, 1]);
  assert.deepEqual(await l.steps("r", "t"), [10, 20]);
  await l.steps("r", "t");
  assert.equal(api.calls.filter((c) => c[0] === "steps").length, 1);
});

test("loader does not cache failures; a missing mask is null", async () => {
  const api = fakeApi();
  const l = createLoader(api);
  await assert.rejects(l.tensor("r", "t", 99), /flaky/);
  const e = await l.tensor("r", "t", 99);
  assert.equal(e.shape.length, 3);
  assert.equal(await l.mask("r", "t", 1), null);
  assert.deepEqual([...(await l.mask("r", "t", 2))], [1, 0]);
});

test("LruCache.deleteIf drops matching entries and their bytes", () => {
  const c = new LruCache(100);
  c.set("a1", 1, 4);
  c.set("a2", 2, 4);
  c.set("b1", 3, 4);
  c.deleteIf((k) => k.startsWith("a"));
  assert.deepEqual([...c.map.keys()], ["b1"]);
  assert.equal(c.bytes, 4);
});

/** A server whose listings the test changes; counts requests per route. */
function liveApi() {
  const server = {
    tags: { r: { t: { max_step: 20 } }, q: { t: { max_step: 5 } } },
    steps: [
      { step: 10, wall_time: 1 },
      { step: 20, wall_time: 2 },
    ],
  };
  const count = {};
  const hit = (name) => {
    count[name] = (count[name] || 0) + 1;
  };
  const api = {
    tags: async () => {
      hit("tags");
      return structuredClone(server.tags);
    },
    steps: async (run) => {
      hit(`steps:${run}`);
      return structuredClone(server.steps);
    },
    profile: async (run) => {
      hit(`profile:${run}`);
      return { values: [] };
    },
    tensor: async (run, tag, step) => {
      hit(`tensor:${run}:${step}`);
      return { data: new Float32Array(2), shape: [1, 2], dtype: "<f4" };
    },
    mask: async () => ({ data: new Uint8Array(1), shape: [1, 1] }),
  };
  return { api, server, count };
}

test("reloadSteps: an unchanged listing forgets nothing", async () => {
  const { api, count } = liveApi();
  const l = createLoader(api);
  await l.steps("r", "t");
  await l.profile("r", "t");
  await l.tensor("r", "t", 10);
  assert.equal(await l.reloadSteps("r", "t"), false);
  await l.profile("r", "t");
  await l.tensor("r", "t", 10);
  assert.equal(count["steps:r"], 2);
  assert.equal(count["profile:r"], 1, "profile still cached");
  assert.equal(count["tensor:r:10"], 1, "tensor still cached");
});

test("reloadSteps: evicted and new steps show; the profile and stale tensors go", async () => {
  const { api, server, count } = liveApi();
  const l = createLoader(api);
  assert.deepEqual(await l.steps("r", "t"), [10, 20]);
  await Promise.all([l.profile("r", "t"), l.tensor("r", "t", 10), l.tensor("r", "t", 20, 1)]);
  await l.tensor("r", "t", 20);
  // Step 10 was evicted, step 20 logged again (a restarted run), step 30 is new.
  server.steps = [
    { step: 20, wall_time: 7 },
    { step: 30, wall_time: 8 },
  ];
  assert.equal(await l.reloadSteps("r", "t"), true);
  assert.deepEqual(await l.steps("r", "t"), [20, 30]);
  assert.equal(l.hasTensor("r", "t", 10), false);
  assert.equal(l.hasTensor("r", "t", 20), false, "rewritten step: fetched again");
  assert.equal(l.hasTensor("r", "t", 20, 1), false, "also its single samples");
  await l.profile("r", "t");
  assert.equal(count["profile:r"], 2, "profile fetched again");
  assert.equal(await l.reloadSteps("r", "t"), false, "the next reload sees no change");
});

test("reloadTags: only series whose entry changed lose their steps and profile", async () => {
  const { api, server, count } = liveApi();
  const l = createLoader(api);
  await l.tags();
  for (const run of ["r", "q"]) {
    await l.steps(run, "t");
    await l.profile(run, "t");
  }
  assert.equal(await l.reloadTags(), false);
  server.tags.r.t.max_step = 30;
  assert.equal(await l.reloadTags(), true);
  assert.equal((await l.tags()).r.t.max_step, 30);
  for (const run of ["r", "q"]) {
    await l.steps(run, "t");
    await l.profile(run, "t");
  }
  assert.deepEqual(
    [count["steps:r"], count["profile:r"], count["steps:q"], count["profile:q"]],
    [2, 2, 1, 1],
  );
  server.tags.new = { t: {} };
  assert.equal(await l.reloadTags(), true, "a new run");
  assert.equal(count.tags, 4);
});

test("a request started before a reload cannot overwrite the reloaded listing", async () => {
  const { api, server } = liveApi();
  let release;
  const slow = new Promise((r) => {
    release = r;
  });
  const steps = api.steps;
  api.steps = async (run, tag) => {
    const old = await steps(run, tag);
    await slow;
    return old;
  };
  const l = createLoader(api);
  const first = l.steps("r", "t"); // answers the old listing, late
  api.steps = steps;
  server.steps = [{ step: 30, wall_time: 3 }];
  await l.reloadSteps("r", "t");
  release();
  assert.deepEqual(await first, [10, 20], "its caller still gets its answer");
  assert.deepEqual(await l.steps("r", "t"), [30]);
  assert.equal(await l.reloadSteps("r", "t"), false, "the late answer was not noted");
});

/** An api whose steps requests the test answers, in any order, by request number. */
function controlledSteps() {
  const asked = [];
  const { api } = liveApi();
  api.steps = () =>
    new Promise((resolve) => {
      asked.push((steps) => resolve(steps.map((step) => ({ step, wall_time: step }))));
    });
  return { api, answer: (i, steps) => asked[i](steps), asked };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

test("steps race: a newer steps() answered first is not overwritten by an older reload", async () => {
  const { api, answer } = controlledSteps();
  const l = createLoader(api);
  const reload = l.reloadSteps("r", "t"); // request 0: the older listing
  const newer = l.steps("r", "t"); // request 1: the newer listing
  answer(1, [10, 20, 30]);
  assert.deepEqual(await newer, [10, 20, 30]);
  answer(0, [10, 20]);
  assert.equal(await reload, true, "the listing changed since the reload began");
  assert.deepEqual(await l.steps("r", "t"), [10, 20, 30], "the newest answer is cached");
  assert.equal(l.wallTime("r", "t", 30), 30);
});

test("steps race: a reload answered first does not drop a newer steps() request", async () => {
  const { api, answer, asked } = controlledSteps();
  const l = createLoader(api);
  const reload = l.reloadSteps("r", "t"); // request 0
  const newer = l.steps("r", "t"); // request 1
  answer(0, [10, 20]);
  assert.equal(await reload, true);
  answer(1, [10, 20, 30]);
  assert.deepEqual(await newer, [10, 20, 30]);
  assert.deepEqual(await l.steps("r", "t"), [10, 20, 30], "the newest answer is cached");
  assert.equal(asked.length, 2, "from the cache");
  const again = l.reloadSteps("r", "t"); // request 2: the server lists the same
  await flush();
  answer(2, [10, 20, 30]);
  assert.equal(await again, false, "noted and cached agree: no change");
});

test("steps race: answers to requests older than a tags reload are not kept", async () => {
  const { api, answer, asked } = controlledSteps();
  const l = createLoader(api);
  await l.tags();
  const old = l.steps("r", "t"); // request 0, sent before the series changed
  api.tags = async () => ({ r: { t: { max_step: 30 } }, q: { t: { max_step: 5 } } });
  assert.equal(await l.reloadTags(), true);
  const fresh = l.steps("r", "t"); // request 1: not shared with the stale one
  assert.equal(asked.length, 2);
  answer(1, [10, 20, 30]);
  answer(0, [10, 20]);
  assert.deepEqual(await old, [10, 20], "its caller still gets its answer");
  assert.deepEqual(await fresh, [10, 20, 30]);
  assert.deepEqual(await l.steps("r", "t"), [10, 20, 30]);
});
