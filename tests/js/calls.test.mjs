import assert from "node:assert/strict";
import { test } from "node:test";

import { callsSummary, timeAxisName, timeLabel } from "../../frontend/calls.js";
import { layerSummary } from "../../frontend/labels.js";
import { valueReadout, weightReadout } from "../../frontend/readout.js";

const DECODER = { layer_name: "decoder.gru", layer_class: "GRU", call_timesteps: [1, 1, 1] };
const MIXED = { call_timesteps: [6, 1, 1, 1, 1] };
const WHOLE = { call_timesteps: [] };

test("a loop of single steps: the time axis is the steps of the loop", () => {
  assert.equal(timeAxisName(DECODER), "loop step");
  assert.equal(timeLabel(2, DECODER), "loop step 2");
  assert.equal(callsSummary(DECODER), "unrolled by hand: 3 calls of 1 timestep, stacked along time");
  assert.equal(
    layerSummary(DECODER),
    "decoder.gru · GRU · unrolled by hand: 3 calls of 1 timestep, stacked along time",
  );
  assert.deepEqual(valueReadout({ sample: 0, channel: 1, timestep: 2, value: 1 }, DECODER)[2], "loop step 2");
  assert.equal(weightReadout({ weight: "w", gate: "r", timestep: 1, value: 1 }, DECODER)[2], "loop step 1");
});

test("a sequence then single steps: each column names its call", () => {
  assert.equal(timeAxisName(MIXED), "timestep");
  assert.equal(callsSummary(MIXED), "unrolled by hand: a call of 6 timesteps, then 4 calls of 1 timestep, stacked along time");
  assert.equal(timeLabel(4, MIXED), "timestep 4 (call 0, its step 4 of 6)");
  assert.equal(timeLabel(7, MIXED), "timestep 7 (call 2, its step 0 of 1)");
});

test("one call over the sequence reads as before", () => {
  for (const meta of [WHOLE, {}, undefined]) {
    assert.equal(timeAxisName(meta), "timestep");
    assert.equal(timeLabel(5, meta), "timestep 5");
    assert.equal(callsSummary(meta), "");
  }
  assert.equal(weightReadout({ weight: "w", gate: "f", timestep: 3, value: 2 })[2], "timestep 3");
});
