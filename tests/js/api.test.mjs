// Tests of frontend/api.js with a fake fetch.
import assert from "node:assert/strict";
import test from "node:test";

import { ApiError, createApi, normalizeProfile, routeUrl } from "../../frontend/api.js";
import { f4_v1 } from "./npy_fixtures.mjs";

function fakeFetch(routes) {
  const calls = [];
  const fetch = async (url) => {
    calls.push(url);
    const [path] = url.split("?");
    const r = routes[path];
    if (!r) return new Response(JSON.stringify({ error: `no route ${path}` }), { status: 404 });
    return typeof r === "function" ? r(url) : r.clone();
  };
  return { fetch, calls };
}

test("routeUrl builds relative, escaped URLs", () => {
  assert.equal(routeUrl("tags"), "./tags");
  assert.equal(
    routeUrl("tensor", { run: "a b/c", tag: "x&y", step: 3, sample: undefined }),
    "./tensor?run=a+b%2Fc&tag=x%26y&step=3",
  );
  assert.equal(routeUrl("tensor", { run: "r", tag: "t", step: 0, sample: 0 }), "./tensor?run=r&tag=t&step=0&sample=0");
});

test("JSON routes and .npy tensors", async () => {
  const npy = Buffer.from(f4_v1, "base64");
  const { fetch, calls } = fakeFetch({
    "./tags": new Response(JSON.stringify({ run1: { t: { kind: "gradients" } } })),
    "./steps": new Response(JSON.stringify([{ step: 5, wall_time: 1.5 }])),
    "./tensor": () => new Response(npy, { headers: { "content-type": "application/octet-stream" } }),
  });
  const api = createApi(fetch);
  assert.deepEqual(await api.tags(), { run1: { t: { kind: "gradients" } } });
  assert.deepEqual(await api.steps("run1", "t"), [{ step: 5, wall_time: 1.5 }]);
  const a = await api.tensor("run1", "t", 5, 2);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.data[0], 1.5);
  assert.equal(calls.at(-1), "./tensor?run=run1&tag=t&step=5&sample=2");
});

test("a JSON error body becomes a readable message with the status", async () => {
  const { fetch } = fakeFetch({
    "./tensor": new Response(JSON.stringify({ error: "No step 7 for run 'a', tag 't'." }), {
      status: 404,
      statusText: "NOT FOUND",
    }),
  });
  const api = createApi(fetch);
  await assert.rejects(api.tensor("a", "t", 7), (e) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 404);
    assert.equal(
      e.message,
      `Could not load the tensor of run "a", tag "t", step 7: No step 7 for run 'a', tag 't'. (HTTP 404 NOT FOUND).`,
    );
    return true;
  });
});

test("plain-text and empty error bodies, network errors, non-npy bodies", async () => {
  const api1 = createApi(fakeFetch({ "./tags": new Response("boom", { status: 500 }) }).fetch);
  await assert.rejects(api1.tags(), /list of runs and tags: boom \(HTTP 500\)/);
  const api2 = createApi(fakeFetch({ "./tags": new Response("", { status: 400 }) }).fetch);
  await assert.rejects(api2.tags(), /the server gave no reason \(HTTP 400\)/);
  const api3 = createApi(async () => {
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(api3.tags(), (e) => e.status === 0 && /Failed to fetch \(network error\)/.test(e.message));
  const api4 = createApi(fakeFetch({ "./tensor": new Response("<html>") }).fetch);
  await assert.rejects(api4.tensor("r", "t", 1), /Could not read the tensor.*Not a \.npy file/);
  const api5 = createApi(fakeFetch({ "./tags": new Response("{not json") }).fetch);
  await assert.rejects(api5.tags(), /not JSON/);
});

test("profile: nulls become NaN; the server's figures are kept, never made up", async () => {
  const body = {
    steps: [0, 10],
    wall_times: [1, 2],
    values: [[1, null], [null, 2]],
    nan_counts: [[0, 1], [1, 0]],
    inf_counts: [[0, 0], [0, 0]],
    reach: [1, 0],
    reach_threshold: 0.05,
  };
  const api = createApi(fakeFetch({ "./profile": new Response(JSON.stringify(body)) }).fetch);
  const p = await api.profile("r", "t");
  assert.deepEqual(p.steps, [0, 10]);
  assert.equal(p.values[0][0], 1);
  assert.ok(Number.isNaN(p.values[0][1]));
  assert.ok(Number.isNaN(p.values[1][0]));
  assert.deepEqual(p.nan_counts, [[0, 1], [1, 0]]);
  assert.deepEqual(p.reach, [1, 0]);
  assert.equal(p.reach_threshold, 0.05);
  const bare = normalizeProfile({ steps: [0], values: [[1, 2]], reach: [1, 2] });
  assert.deepEqual(
    [bare.nan_counts, bare.inf_counts, bare.reach, bare.reach_threshold],
    [null, null, null, null],
    "missing, or not one per step: unknown",
  );
});
