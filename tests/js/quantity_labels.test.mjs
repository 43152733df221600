// Tests of what the tab says about each quantity: the selector's names, the line on
// how to read each view, and the reach, called gradient horizon for the state
// gradients (labels.js, readout.js).
import assert from "node:assert/strict";
import test from "node:test";

import {
  QUANTITY_ORDER,
  kindLabel,
  quantityLabel,
  reachName,
  readingLine,
} from "../../frontend/labels.js";
import { flowCaption, flowReadout, reachLine } from "../../frontend/readout.js";

test("the quantity selector's names, in its order", () => {
  assert.deepEqual(
    QUANTITY_ORDER.map(quantityLabel),
    [
      "d loss / d output (later layers)",
      "d loss / d state (through time)",
      "d loss / d cell state",
      "weight update by timestep",
      "activations",
      "d loss / d model input (whole network)",
      "gate saturation (units near 0 / near 1)",
      "weights, gate by gate",
      "d loss / d weight, gate by gate",
    ],
  );
  assert.equal(quantityLabel(null), "unknown (unreadable)");
  assert.equal(quantityLabel("newer"), 'values of unknown kind "newer"');
  assert.equal(kindLabel("state_gradients"), "total d loss / d h_t (through the layer's own recurrence)");
});

test("every view says in one line what it shows and how to read it", () => {
  assert.equal(
    readingLine("state_gradients", "heatmap"),
    "Total d loss / d h_t through the layer's own recurrence: read right to left; " +
      "where it fades is the layer's gradient horizon.",
  );
  assert.equal(readingLine("state_gradients", "grid"), readingLine("state_gradients", "heatmap"));
  assert.match(readingLine("cell_state_gradients", "heatmap"), /^Total d loss \/ d c_t .*gradient horizon\.$/);
  assert.match(readingLine("weight_contributions", "heatmap"), /per gate: read right to left/);
  assert.match(readingLine("weight_contributions", "flow"), /^Each timestep's total share of the weight update/);
  assert.match(readingLine("gradients", "scatter"), /without a time axis/);
  assert.match(readingLine("newer", "flow"), /unknown kind "newer"/);
  for (const kind of [...QUANTITY_ORDER, "newer"]) {
    for (const view of ["heatmap", "grid", "scatter", "flow"]) {
      const line = readingLine(kind, view);
      assert.ok(!line.includes("\n") && line.length < 200, `${kind} ${view}: one line`);
    }
  }
});

test("the reach of the state gradients is their gradient horizon", () => {
  assert.equal(reachName("state_gradients"), "gradient horizon");
  assert.equal(reachName("cell_state_gradients"), "gradient horizon");
  assert.equal(reachName("gradients"), "reach");
  assert.equal(reachName("newer"), "reach");
  const profile = { steps: [0, 10], values: [[1, 2, 3], [0, 1, 4]], reach: [2, 1], reach_threshold: 0.01 };
  assert.equal(
    reachLine(profile, 10, "gradient horizon"),
    "gradient horizon: 1 timestep back at step 10 (the furthest with a norm ≥ 1% of the max)",
  );
  assert.match(reachLine(profile, 0), /^reach: 2 timesteps back at step 0/);
  assert.match(reachLine(profile, 0, "reach", true), /max, counted from each sample's last valid timestep\)$/);
  assert.equal(reachLine({ ...profile, reach: null }, 0, "gradient horizon"), "gradient horizon at step 0 unknown (the server sent none)");
  assert.equal(reachLine(profile, 5), "", "a step the profile does not hold");
  assert.equal(reachLine(null, 0), "", "no profile");
  assert.equal(reachLine({ ...profile, values: [[1], [2]] }, 0), "", "no time axis");
  assert.match(flowCaption(profile, "gradient horizon"), /right: gradient horizon \(timesteps back with ≥ 1% of the max\)/);
  const hit = { step: 10, timestep: null, value: null, nan: null, inf: null, reach: 1 };
  assert.deepEqual(flowReadout(hit, "gradient horizon"), ["step 10", "gradient horizon 1 timestep back"]);
});

test("weight matrices have no per-timestep profile to ask for", async () => {
  const { hasProfile } = await import("../../frontend/labels.js");
  assert.equal(hasProfile("weights"), false);
  assert.equal(hasProfile("weight_gradients"), false);
  for (const kind of ["gradients", "state_gradients", "weight_contributions", "newer"]) {
    assert.equal(hasProfile(kind), true, kind);
  }
});

test("data without a time axis points at the state gradients", async () => {
  const { noTimeLine } = await import("../../frontend/labels.js");
  const withState = noTimeLine("state_gradients/lstm");
  assert.match(withState, /^This layer's output has no time axis/);
  assert.match(withState, /See the state gradients .*tag state_gradients\/lstm\) for backpropagation through time inside the layer\.$/);
  assert.doesNotMatch(withState, /right to left/);
  assert.match(noTimeLine(null), /Log its state gradients \(kinds=\(\.\.\., "state_gradients"\)\)/);
});
