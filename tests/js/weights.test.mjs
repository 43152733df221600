// Tests of frontend/weights.js and of how "weight update by timestep" series are
// prepared and read out (prepare.js, readout.js).
import assert from "node:assert/strict";
import test from "node:test";

import { prepare } from "../../frontend/prepare.js";
import { gateFractionReadout, weightReadout } from "../../frontend/readout.js";
import { dimsOf } from "../../frontend/tensor_ops.js";
import { axisNames, bandTitle, isGateActivations, isWeights, weightFrame } from "../../frontend/weights.js";

const LSTM = {
  kind: "weight_contributions",
  shape: [3, 4, 4],
  weights: ["kernel", "recurrent_kernel", "bias"],
  gates: ["i", "f", "c", "o"],
  bidirectional: false,
  merge_mode: "",
  direction: "",
};
const DIMS = dimsOf([3, 4, 4]);

test("weights are told apart by their kind", () => {
  assert.ok(isWeights(LSTM));
  assert.ok(!isWeights({ kind: "state_gradients" }));
  assert.ok(!isWeights(null));
});

test("axis names come from the metadata, else are numbered", () => {
  assert.deepEqual(axisNames(LSTM, DIMS), {
    weights: ["kernel", "recurrent_kernel", "bias"],
    gates: ["i", "f", "c", "o"],
  });
  const gru = dimsOf([4, 5, 3]);
  const named = { weights: ["kernel", "recurrent_kernel", "bias", "recurrent_bias"], gates: ["z", "r", "h"] };
  assert.deepEqual(axisNames(named, gru).gates, ["z", "r", "h"]);
  // A tensor whose axes differ from what the metadata names (or no names at all).
  assert.deepEqual(axisNames({ ...LSTM, gates: ["h"] }, DIMS).gates, ["gate 0", "gate 1", "gate 2", "gate 3"]);
  assert.deepEqual(axisNames({}, dimsOf([2, 4, 1])), { weights: ["weight 0", "weight 1"], gates: ["gate 0"] });
});

test("layout: one heatmap per weight, gate rows of up to 14 px, room for gate names", () => {
  const f = weightFrame(["i", "f", "c", "o"], DIMS, 800, false);
  assert.deepEqual(f, {
    margin: { left: 40, top: 14, right: 4, bottom: 16 },
    tileWidth: 800,
    maxPlotHeight: 56,
    maxCell: 14,
  });
  const long = weightFrame(["input_gate", "h"], dimsOf([3, 4, 2]), 800, false);
  assert.equal(long.margin.left, 70, "10 characters of about 6 px, plus the tick gap");
  assert.equal(weightFrame(["x".repeat(100)], dimsOf([1, 4, 1]), 800, false).margin.left, 160);
  const t = weightFrame(["input_gate"], dimsOf([3, 100, 1]), 800, true);
  assert.equal(t.margin.left, 40, "transposed: timesteps on the y axis");
  assert.equal(t.maxPlotHeight, 240, "100 timesteps: capped");
});

const entry = (data, shape) => ({ data, shape, dims: dimsOf(shape), dtype: "<f4", sampleBase: null, derived: new Map() });

test("prepare draws every weight whatever the sample mode", () => {
  const data = new Float32Array(3 * 4 * 4);
  data[(1 * 4 + 3) * 4 + 1] = 2; // recurrent_kernel, t3, gate f
  data[(2 * 4 + 0) * 4 + 3] = Infinity; // bias, t0, gate o
  for (const sampleMode of ["one", "all", "mean"]) {
    const p = prepare(entry(data, [3, 4, 4]), null, LSTM, { sampleMode, sample: 5, reflect: false });
    assert.deepEqual(p.samples, [0, 1, 2], sampleMode);
    assert.equal(p.weights, true);
    assert.equal(p.mean, false);
    assert.equal(p.maxAbs, 2);
    assert.deepEqual(p.counts, { nan: 0, posInf: 1, negInf: 0 });
    assert.equal(p.array[(1 * 4 + 3) * 4 + 1], 2);
  }
});

test("prepare reflects the backward direction's weights into processing order", () => {
  const data = new Float32Array(1 * 3 * 1);
  data[0] = 1; // input time 0
  const backward = { ...LSTM, weights: ["kernel"], gates: ["h"], direction: "backward", shape: [1, 3, 1] };
  const p = prepare(entry(data, [1, 3, 1]), null, backward, { sampleMode: "one", sample: 0, reflect: true });
  assert.deepEqual([...p.array], [0, 0, 1]);
  assert.equal(p.maskFlipFrom, 0);
});

test("a weight cell's read-out names weight, gate, timestep and value", () => {
  assert.deepEqual(weightReadout({ weight: "recurrent_kernel", gate: "f", timestep: 3, value: 2 }), [
    "weight recurrent_kernel",
    "gate f",
    "timestep 3",
    "value 2",
  ]);
  const reflected = { weight: "kernel", gate: "h", timestep: 2, inputTime: 0, value: 1.5e-7 };
  assert.deepEqual(weightReadout(reflected).slice(2), ["timestep 2 (input time 0)", "value 1.5e-7"]);
});

test("gate saturation is drawn like the weight update: one heatmap per band", () => {
  const meta = { kind: "gate_activations", weights: ["near_0", "near_1"], gates: ["i", "f", "o"] };
  assert.ok(isWeights(meta) && isGateActivations(meta));
  assert.ok(!isGateActivations({ kind: "weight_contributions" }));
  assert.deepEqual(axisNames(meta, { batch: 2, channels: 3 }).weights.map(bandTitle), [
    "units near 0 (gate closed)",
    "units near 1 (gate open)",
  ]);
  assert.equal(bandTitle("newer"), "newer");
  assert.deepEqual(gateFractionReadout({ band: "units near 0 (gate closed)", gate: "f", timestep: 5, value: 0.8234 }), [
    "units near 0 (gate closed)",
    "gate f",
    "timestep 5",
    "82.3% of units",
  ]);
});
