// Tests of frontend/readout.js.
import assert from "node:assert/strict";
import test from "node:test";

import { flowCaption, flowReadout, valueReadout } from "../../frontend/readout.js";

const BI = { bidirectional: true, merge_mode: "concat", units: 2 };

test("a value's read-out: sample, channel, timestep, value", () => {
  assert.deepEqual(valueReadout({ sample: 0, channel: 1, timestep: 5, value: -1 }, {}), [
    "sample 0",
    "ch 1",
    "timestep 5",
    "value -1",
  ]);
  const hit = { sample: "mean", channel: 3, timestep: 4, inputTime: 1, value: 0.25, masked: true };
  assert.deepEqual(valueReadout(hit, BI), [
    "batch mean of |g|",
    "ch 3 (bwd 1)",
    "timestep 4 (input time 1)",
    "value 0.25 (masked timestep)",
  ]);
  assert.equal(valueReadout({ sample: 2, channel: 0, timestep: null, value: NaN }, {})[2], "timestep — (no time axis)");
});

test("the flow view's read-out and caption; a missing reach is unknown", () => {
  const over = { step: 20, timestep: 3, value: 2.5, nan: 1, inf: 0, reach: 4 };
  assert.deepEqual(flowReadout(over), ["step 20", "timestep 3", "norm 2.5", "NaN: 1", "reach 4 timesteps back"]);
  const beside = { step: 20, timestep: null, value: null, nan: null, inf: null, reach: null };
  assert.deepEqual(flowReadout(beside), ["step 20", "reach unknown"]);
  // A null norm (the profile's JSON form of NaN or Inf) is not read out as "norm 0".
  const nonFinite = { ...over, value: null, nan: 2 };
  assert.deepEqual(flowReadout(nonFinite).slice(1, 4), ["timestep 3", "norm not finite", "NaN: 2"]);
  const merged = { ...over, lastStep: 50 };
  assert.deepEqual(flowReadout(merged).slice(0, 2), ["steps 20–50 (max over them)", "timestep 3"]);
  assert.equal(flowReadout({ ...over, lastStep: 20 })[0], "step 20");
  assert.match(flowCaption({ reach: [1], reach_threshold: 0.01 }), /reach \(timesteps back with ≥ 1% of the max\)/);
  assert.match(flowCaption({ reach: [1], reach_threshold: null }), /≥ a share of the max/);
  assert.match(flowCaption({ reach: null, reach_threshold: 0.01 }), /reach unknown \(the server sent none\)/);
  assert.match(
    flowCaption({ reach: [1], reach_threshold: 0.01 }, "reach", true),
    /reach \(timesteps back from each sample's last valid timestep with ≥ 1% of the max\)/,
  );
  assert.match(flowCaption({ reach: [1], reach_threshold: 0.01 }), /x: timestep, y: logged step \(the first on top\)/);
});
