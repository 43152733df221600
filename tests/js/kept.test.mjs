import assert from "node:assert/strict";
import test from "node:test";

import {
  channelAxis,
  originalChannel,
  originalTimesteps,
  timeAxis,
  timestepText,
} from "../../frontend/kept.js";
import { storedLine } from "../../frontend/labels.js";
import { valueReadout } from "../../frontend/readout.js";

const KEPT = { channels: [3, 17, 900], timestep_pool: 4, timesteps: 10 };

test("a stored channel reads as its original index", () => {
  assert.equal(originalChannel(1, KEPT), 17);
  assert.equal(originalChannel(2, KEPT), 900);
  assert.equal(originalChannel(2, null), 2);
  assert.equal(originalChannel(2, { channels: null, timestep_pool: 1 }), 2);
});

test("a pooled timestep reads as the captured timesteps of its group", () => {
  assert.deepEqual(originalTimesteps(0, KEPT), { first: 0, last: 3 });
  assert.deepEqual(originalTimesteps(2, KEPT), { first: 8, last: 9 }); // last group short
  assert.deepEqual(originalTimesteps(5, null), { first: 5, last: 5 });
  assert.equal(timestepText(1, KEPT), "timesteps 4–7 (pooled 4:1, largest |g|)");
  assert.equal(timestepText(7, null), "timestep 7");
});

test("the hover read-out of a reduced series gives original indices", () => {
  const hit = { sample: 2, channel: 1, timestep: 1, value: -0.5 };
  assert.deepEqual(valueReadout(hit, {}, KEPT), [
    "sample 2",
    "ch 17",
    "timesteps 4–7 (pooled 4:1, largest |g|)",
    "value -0.5",
  ]);
  assert.deepEqual(valueReadout(hit, {}), ["sample 2", "ch 1", "timestep 1", "value -0.5"]);
});

test("the panel's stored line is the server's note, or nothing", () => {
  const note = "4 of 16 samples, timesteps pooled 4:1 by largest |g|, float16";
  assert.equal(storedLine({ reduction: { note } }), `Stored: ${note}`);
  assert.equal(storedLine({ reduction: null }), "");
  assert.equal(storedLine({}), "");
  assert.equal(storedLine({ reduction: { note: 5 } }), "");
});

test("the heatmap's axes are labelled in captured indices", () => {
  assert.deepEqual(channelAxis(3, KEPT), ["3", "17", "900"]);
  assert.deepEqual(timeAxis(3, KEPT), ["0", "4", "8"]);
  assert.equal(channelAxis(3, { channels: null, timestep_pool: 1 }), undefined);
  assert.equal(timeAxis(3, { channels: null, timestep_pool: 1 }), undefined);
  assert.equal(timeAxis(3, null), undefined);
});

test("storedTimestep is originalTimesteps' inverse", async () => {
  const { originalTimesteps, storedTimestep } = await import("../../frontend/kept.js");
  const kept = { channels: null, timestep_pool: 4, timesteps: 10 };
  for (let t = 0; t < 10; t++) {
    const { first, last } = originalTimesteps(storedTimestep(t, kept), kept);
    assert.ok(first <= t && t <= last, `captured ${t}`);
  }
  assert.equal(storedTimestep(7, null), 7, "nothing pooled");
});
