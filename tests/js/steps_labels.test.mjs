// Tests of frontend/steps.js and frontend/labels.js.
import assert from "node:assert/strict";
import test from "node:test";

import { channelLabel, kindLabel, layerSummary } from "../../frontend/labels.js";
import {
  indexOfStep,
  shownStepText,
  stepAtOrBefore,
  stepToward,
  unionSteps,
} from "../../frontend/steps.js";

test("step union and lookup across runs", () => {
  assert.deepEqual(unionSteps([[0, 10, 20], [5, 10], []]), [0, 5, 10, 20]);
  assert.equal(stepAtOrBefore([0, 10, 20], 15), 10);
  assert.equal(stepAtOrBefore([0, 10, 20], 20), 20);
  assert.equal(stepAtOrBefore([0, 10, 20], 99), 20);
  assert.equal(stepAtOrBefore([10, 20], 5), 10, "before the first: the first");
  assert.equal(stepAtOrBefore([], 5), null);
  assert.equal(indexOfStep([0, 10, 20], null), 2, "null means latest");
  assert.equal(indexOfStep([0, 10, 20], 12), 1);
  assert.equal(indexOfStep([], 12), 0);
});

test("a move onto a step no longer kept goes on in its direction", () => {
  assert.equal(stepToward([0, 10, 20], 10, 1), 10, "kept: itself");
  assert.equal(stepToward([0, 10, 20], 15, 1), 20, "▶ onto evicted 15: on to 20");
  assert.equal(stepToward([0, 10, 20], 15, -1), 10, "◀ onto evicted 15: back to 10");
  assert.equal(stepToward([0, 10, 20], 25, 1), 20, "past the last: the last");
  assert.equal(stepToward([10, 20], 5, -1), 10, "before the first: the first");
  assert.equal(stepToward([], 5, 1), null);
});

test("the step line says when the chosen step is no longer kept", () => {
  const kept = [75, 80, 110];
  assert.equal(shownStepText(80, 80, kept), "step 80");
  assert.equal(shownStepText(110, null, kept), "step 110", "null: the latest");
  assert.equal(shownStepText(75, 80, kept), "step 75 (latest logged at or before 80)");
  assert.equal(shownStepText(100, null, kept), "step 100 (latest logged at or before 110)");
  assert.equal(
    shownStepText(75, 5, kept),
    "step 5 is no longer kept by TensorBoard; showing step 75, the oldest kept",
  );
  assert.equal(
    shownStepText(80, 90, kept),
    "step 90 is no longer kept by TensorBoard; showing step 80, the latest kept before it",
  );
  assert.equal(
    shownStepText(110, 120, kept),
    "step 120 is not kept by TensorBoard; showing step 110, the latest kept before it",
  );
  assert.equal(
    shownStepText(110, 90, kept),
    "step 90 is no longer kept by TensorBoard; showing step 110, the oldest kept",
    "a run whose steps all come after it",
  );
});

test("labels name the gradient a view shows", () => {
  assert.equal(kindLabel("gradients"), "d loss / d layer output (paths through later layers only)");
  assert.equal(kindLabel("input_gradients"), "d loss / d model input (whole network)");
  assert.equal(kindLabel("activations"), "activations");
  assert.equal(kindLabel("unknown"), 'values of unknown kind "unknown"');
  const bi = { layer_name: "bi", layer_class: "LSTM", units: 4, bidirectional: true, merge_mode: "concat", shape: [2, 5, 8], dtype: "float32" };
  assert.equal(layerSummary(bi), "bi · LSTM · 4 units · bidirectional (concat) · shape (2, 5, 8) · float32");
  assert.equal(channelLabel(5, bi), "ch 5 (bwd 1)");
  assert.equal(channelLabel(1, bi), "ch 1 (fwd 1)");
  assert.equal(channelLabel(1, {}), "ch 1");
});
