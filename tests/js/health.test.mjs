// Tests of frontend/health_model.js: the health report as the tab shows it.
import assert from "node:assert/strict";
import test from "node:test";

import {
  findingCodes,
  findingPatch,
  findingText,
  healthSummary,
  normalizeHealth,
  worst,
} from "../../frontend/health_model.js";
import { defaultState } from "../../frontend/state.js";

const vanishing = {
  code: "vanishing",
  severity: "problem",
  tag: "state_gradients/rnn",
  layer: "rnn",
  step: 2000,
  message: "Gradient horizon 8 of 99 timesteps.",
  hint: "Use a gated cell.",
  timestep: 91,
  evidence: { view: "flow", horizon: 8 },
};
const dead = {
  code: "dead_units",
  severity: "warning",
  tag: "gradients/rnn",
  layer: "rnn",
  step: 24,
  message: "8 of 16 channels.",
  hint: "Lower the learning rate.",
  evidence: { view: "grid" },
};

test("normalizeHealth drops malformed findings and derives each status", () => {
  const h = normalizeHealth({
    runs: { a: [vanishing, dead], b: [dead, { code: 3 }], c: [], d: "junk" },
  });
  assert.deepEqual(h.runs.b, [dead]);
  assert.deepEqual(h.runs.d, []);
  assert.deepEqual(h.status, { a: "problem", b: "warning", c: "healthy", d: "healthy" });
  assert.deepEqual(normalizeHealth(null), { runs: {}, status: {} });
});

test("worst severity and the summary line", () => {
  assert.equal(worst([dead, vanishing]), "problem");
  assert.equal(healthSummary([dead, vanishing, dead]), "Health: problem (dead_units, vanishing)");
  assert.equal(healthSummary([]), "Health: healthy");
  assert.equal(healthSummary(undefined), "");
  assert.equal(findingCodes([]), "–");
});

test("a finding's text says where", () => {
  assert.equal(
    findingText(vanishing),
    "vanishing in rnn, step 2000, timestep 91: Gradient horizon 8 of 99 timesteps.",
  );
  assert.equal(findingText({ ...dead, sample: 3, gate: "f" }), "dead_units in rnn, step 24, sample 3, gate f: 8 of 16 channels.");
});

test("a finding's link opens its run, tag, step, view, timestep and sample", () => {
  const state = { ...defaultState(), views: ["heatmap"] };
  assert.deepEqual(findingPatch("r", vanishing, state), {
    runs: ["r"],
    tag: "state_gradients/rnn",
    step: 2000,
    mark: 91,
    compare: false,
    views: ["heatmap", "flow"],
  });
  const patch = findingPatch("r", { ...dead, sample: 2, evidence: { view: "<img>" } }, defaultState());
  assert.equal(patch.views, undefined);
  assert.equal(patch.sampleMode, "one");
  assert.equal(patch.sample, 2);
  assert.equal(patch.mark, null, "no timestep: nothing marked");
});

test("the latest-loss cell prefers the validation loss and says where", async () => {
  const { lossCell } = await import("../../frontend/loss_model.js");
  const train = { run: "a/train", tag: "epoch_loss", step: 7, value: 0.168 };
  const validation = { run: "a/validation", tag: "epoch_loss", step: 7, value: 0.1808 };
  assert.deepEqual(lossCell({ train, validation }), {
    text: "0.181 (val)",
    title: "epoch_loss of run a/validation at step 7",
    value: 0.1808,
  });
  assert.equal(lossCell({ train }).text, "0.168 (train)");
  assert.equal(lossCell({ named: { ...train, value: 2e-5 } }).text, "2.00e-5");
  assert.equal(lossCell({}).text, "–");
  assert.equal(lossCell(null).text, "–");
  assert.equal(lossCell(undefined).text, "");
});
