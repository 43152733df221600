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
