// Tests of the Weights view's pure modules: frontend/gates.js, histogram_stack.js,
// weight_model.js (with the real loader over a fake API) and the read-outs.
import assert from "node:assert/strict";
import test from "node:test";

import { ApiError, createApi } from "../../frontend/api.js";
import { divergingLut, PACKED } from "../../frontend/colormap.js";
import {
  blockStats,
  directionOf,
  fillGateBlock,
  gateCellAt,
  gateGeometry,
  gateScales,
  gateSpans,
  isMatrix,
  rowMeaning,
  siblingTag,
} from "../../frontend/gates.js";
import {
  BINS,
  curvePoints,
  parseHistograms,
  rebinStack,
  stackAt,
  stackGeometry,
} from "../../frontend/histogram_stack.js";
import { createLoader } from "../../frontend/loader.js";
import { gateReadout, histogramReadout } from "../../frontend/readout.js";
import { createWeightModels } from "../../frontend/weight_model.js";

const LUT = divergingLut();
const LSTM_KERNEL = {
  kind: "weights",
  shape: [2, 8],
  weights: ["kernel"],
  gates: ["i", "f", "c", "o"],
  direction: "",
};

/** (2, 8) kernel: row r, column c holds 10 * r + c; (1, 5) is NaN, (0, 7) is +Inf. */
function kernel() {
  const a = new Float32Array(16).map((_, i) => 10 * Math.floor(i / 8) + (i % 8));
  a[8 + 5] = NaN;
  a[7] = Infinity;
  return a;
}

test("matrix kinds are weights and weight gradients only", () => {
  assert.ok(isMatrix("weights") && isMatrix("weight_gradients"));
  assert.ok(!isMatrix("weight_contributions") && !isMatrix("gradients"));
});

test("gate spans are equal column blocks in the metadata's order", () => {
  assert.deepEqual(gateSpans(LSTM_KERNEL, 8), [
    { name: "i", start: 0, stop: 2 },
    { name: "f", start: 2, stop: 4 },
    { name: "c", start: 4, stop: 6 },
    { name: "o", start: 6, stop: 8 },
  ]);
  assert.deepEqual(gateSpans({ gates: [] }, 3), [{ name: "all", start: 0, stop: 3 }]);
  assert.throws(() => gateSpans(LSTM_KERNEL, 6), /6 columns.*4 equal gate blocks i, f, c, o/);
});

test("direction and row meaning come from the metadata", () => {
  assert.equal(directionOf({ direction: "backward" }), "backward");
  assert.equal(directionOf({ direction: "" }), "");
  assert.deepEqual(rowMeaning(LSTM_KERNEL), { weight: "kernel", row: "input feature" });
  assert.equal(rowMeaning({ weights: ["recurrent_kernel"] }).row, "unit");
  assert.equal(rowMeaning({ weights: ["recurrent_bias"] }).row, "recurrent bias");
  assert.equal(rowMeaning({ weights: ["bias"] }).row, "input bias");
});

test("the sibling tag is the other kind of the same weight, same layout", () => {
  const grad = { ...LSTM_KERNEL, kind: "weight_gradients" };
  const tags = { "weights/lstm/kernel": LSTM_KERNEL, "weight_gradients/lstm/kernel": grad };
  assert.equal(siblingTag(tags, "weights/lstm/kernel", LSTM_KERNEL), "weight_gradients/lstm/kernel");
  assert.equal(siblingTag(tags, "weight_gradients/lstm/kernel", grad), "weights/lstm/kernel");
  const other = { ...tags, "weight_gradients/lstm/kernel": { ...grad, shape: [3, 8] } };
  assert.equal(siblingTag(other, "weights/lstm/kernel", LSTM_KERNEL), null);
  assert.equal(siblingTag({ "weights/x": LSTM_KERNEL }, "weights/x", LSTM_KERNEL), null);
  assert.equal(siblingTag(tags, "mine/kernel", LSTM_KERNEL), null);
});

test("block stats: finite max and NaN/Inf counts per gate", () => {
  const a = kernel();
  const spans = gateSpans(LSTM_KERNEL, 8);
  const stats = spans.map((s) => blockStats(a, 2, 8, s));
  assert.deepEqual(stats[0], { maxAbs: 11, nan: 0, posInf: 0, negInf: 0 });
  assert.deepEqual(stats[2], { maxAbs: 14, nan: 1, posInf: 0, negInf: 0 });
  assert.deepEqual(stats[3], { maxAbs: 17, nan: 0, posInf: 1, negInf: 0 });
});

test("scales: one shared by the gates, or each gate's own", () => {
  const stats = [{ maxAbs: 1 }, { maxAbs: 4 }, { maxAbs: 0 }];
  assert.deepEqual(
    gateScales(stats, "shared").map((s) => s.hi),
    [4, 4, 4],
  );
  assert.deepEqual(
    gateScales(stats, "gate").map((s) => [s.lo, s.hi]),
    [[-1, 1], [-4, 4], [-1, 1]],
  );
});

test("a gate block's pixels: its columns, the palette, NaN and Inf in their colours", () => {
  const a = kernel();
  const [, , c, o] = gateSpans(LSTM_KERNEL, 8);
  const scale = gateScales([{ maxAbs: 17 }], "shared")[0];
  const px = new Uint32Array(4);
  fillGateBlock(px, a, 2, 8, c, scale, LUT);
  assert.equal(px[3], PACKED.nan); // row 1, column 5 = unit 1 of gate c
  assert.equal(px[0], LUT[128 + Math.round((4 / 17) * 127)]);
  fillGateBlock(px, a, 2, 8, o, scale, LUT);
  assert.equal(px[1], PACKED.posInf);
  assert.equal(px[2], LUT[128 + Math.round((16 / 17) * 127)]); // row 1, column 6
});

test("geometry: side by side when they fit, one row of gates per matrix else", () => {
  const wide = gateGeometry(2, 4, 2, 2, 2000);
  assert.equal(new Set(wide.origins.map(([, y]) => y)).size, 1);
  assert.deepEqual(wide.tiles[4], { matrix: 1, gate: 0 });
  const narrow = gateGeometry(2, 4, 256, 256, 1200);
  const ys = narrow.origins.map(([, y]) => y);
  assert.deepEqual(ys.slice(0, 4), [0, 0, 0, 0]);
  assert.ok(ys[4] > 0 && ys.slice(4).every((y) => y === ys[4]));
  assert.equal(narrow.g.cellW, 1);
  assert.equal(narrow.g.cols * narrow.g.cellW, 256, "no cell dropped");
  const mid = gateGeometry(2, 4, 64, 64, 1200);
  assert.equal(mid.origins[4][1] > 0, true, "1 px side by side: a row of gates each, at 3 px");
  assert.deepEqual([mid.g.cellW, mid.g.cellH], [3, 3], "square cells");
  const bias = gateGeometry(1, 3, 1, 4, 800);
  assert.ok(bias.g.cellH >= 12, "a bias row is drawn tall enough to see");
});

test("hit testing finds matrix, gate, row and unit", () => {
  const geom = gateGeometry(2, 4, 2, 2, 2000);
  const { g, origins } = geom;
  const [ox, oy] = origins[6];
  const hit = gateCellAt(geom, ox + g.x + 1.5 * g.cellW, oy + g.y + 0.5 * g.cellH);
  assert.deepEqual(hit, { matrix: 1, gate: 2, row: 0, col: 1 });
  assert.equal(gateCellAt(geom, origins[0][0] + 1, origins[0][1] + 1), null);
});

test("read-outs name gate, direction, row, column and value", () => {
  const lines = gateReadout({
    matrix: "weights",
    weight: "kernel",
    gate: "f",
    direction: "backward",
    rowName: "input feature",
    row: 3,
    col: 1,
    column: 9,
    value: 0.25,
  });
  assert.deepEqual(lines, [
    "weights · kernel",
    "gate f · backward direction",
    "row 3 (input feature 3)",
    "column 1 of gate f (matrix column 9)",
    "value 0.25",
  ]);
  const h = histogramReadout({ step: 20, lo: 0.1, hi: 0.15, count: 3 }, "f");
  assert.deepEqual(h, ["gate f", "step 20", "values 0.1 to 0.15", "count 3"]);
});

const ANSWER = [
  [2.0, 10, [[0, 1, 4], [1, 2, 0]]],
  [1.0, 0, [[-1, 1, 2]]],
];

test("histograms: parsed from TensorBoard's route, sorted by step", () => {
  const s = parseHistograms(ANSWER);
  assert.deepEqual(
    s.map((x) => x.step),
    [0, 10],
  );
  assert.deepEqual(s[0].buckets, [[-1, 1, 2]]);
  assert.throws(() => parseHistograms({}), /not a list/);
  assert.throws(() => parseHistograms([[1, 2]]), /wall_time, step/);
});

test("rebinning keeps each step's total and spreads counts by overlap", () => {
  const stack = rebinStack(parseHistograms(ANSWER), 4);
  assert.equal(stack.lo, -1);
  assert.equal(stack.hi, 2);
  assert.deepEqual(stack.steps, [0, 10]);
  const sum = (r) => r.reduce((a, b) => a + b, 0);
  assert.equal(sum(stack.counts[0]), 2);
  assert.equal(sum(stack.counts[1]), 4);
  // bins of 0.75: [-1, -0.25) [-0.25, 0.5) [0.5, 1.25) [1.25, 2)
  assert.deepEqual([...stack.counts[0]].map((v) => Math.round(v * 1000) / 1000), [0.75, 0.75, 0.5, 0]);
  assert.deepEqual([...stack.counts[1]].map((v) => Math.round(v * 1000) / 1000), [0, 2, 2, 0]);
  assert.equal(stack.maxCount, 2);
  const point = rebinStack([{ step: 0, buckets: [[3, 3, 5]] }]);
  assert.equal(point.counts[0].length, BINS);
  assert.equal(point.counts[0].reduce((a, b) => a + b, 0), 5);
});

test("stack geometry: oldest at the top, hit finds the step in front", () => {
  const stack = rebinStack(parseHistograms(ANSWER), 4);
  const box = { x: 0, y: 0, w: 40, h: 100 };
  const geom = stackGeometry(2, box);
  assert.equal(geom.baselines[0], 45);
  assert.equal(geom.baselines[1], 100);
  const pts = curvePoints(stack, geom, 1);
  assert.deepEqual(pts[1], [15, 100 - 45]);
  // inside the newest step's curve at bin 1 (count 2: up to y 55)
  assert.deepEqual(stackAt(stack, geom, 15, 80), { index: 1, step: 10, lo: -0.25, hi: 0.5, count: 2 });
  // above the newest curve: the oldest step, whose baseline is below the point
  assert.equal(stackAt(stack, geom, 15, 30).step, 0);
  assert.equal(stackAt(stack, geom, 50, 30), null);
});

/** A fake API of one run logging an LSTM kernel and its gradient at steps 0 and 10. */
function fakeApi({ histError = null } = {}) {
  const grad = { ...LSTM_KERNEL, kind: "weight_gradients" };
  const api = {
    calls: [],
    tags: async () => ({
      run: { "weights/lstm/kernel": LSTM_KERNEL, "weight_gradients/lstm/kernel": grad },
    }),
    steps: async (run, tag) =>
      (tag.startsWith("weights/") ? [0, 10] : [10]).map((step) => ({ step, wall_time: step })),
    tensor: async (run, tag, step) => {
      api.calls.push(["tensor", tag, step]);
      const data = kernel().map((v) => (tag.startsWith("weights/") ? v + step : -v));
      return { data, shape: [2, 8], dtype: "<f4" };
    },
    histograms: async (run, tag) => {
      api.calls.push(["histograms", tag]);
      if (histError) throw histError;
      return ANSWER;
    },
  };
  return api;
}

test("the model loads the matrix, its gradient at that step, and each gate's stack", async () => {
  const api = fakeApi();
  const models = createWeightModels(createLoader(api));
  const v = await models.view("run", "weights/lstm/kernel", LSTM_KERNEL, [0, 10], 10);
  assert.deepEqual(
    v.matrices.map((m) => [m.kind, m.tag, m.rows, m.cols]),
    [
      ["weights", "weights/lstm/kernel", 2, 8],
      ["weight_gradients", "weight_gradients/lstm/kernel", 2, 8],
    ],
  );
  assert.equal(v.matrices[0].array[1], 11);
  assert.equal(v.matrices[1].array[1], -1);
  assert.equal(v.matrices[0].stats[2].nan, 1);
  assert.deepEqual(
    v.histograms.map((h) => [h.gate, h.stack.steps]),
    ["i", "f", "c", "o"].map((g) => [g, [0, 10]]),
  );
  assert.equal(v.weight, "kernel");
  assert.equal(v.rowName, "input feature");
  assert.deepEqual(v.notes, []);
  await models.view("run", "weights/lstm/kernel", LSTM_KERNEL, [0, 10], 10);
  assert.equal(api.calls.filter(([what]) => what === "histograms").length, 4, "cached");
  const early = await models.view("run", "weights/lstm/kernel", LSTM_KERNEL, [0, 10], 0);
  assert.equal(early.matrices.length, 1);
  assert.match(early.notes[0], /"weight_gradients\/lstm\/kernel" has no logged step 0/);
});

test("histograms that fail to load are reported per gate, the heatmaps stay", async () => {
  const api = fakeApi({ histError: new ApiError("HTTP 404", 404) });
  const models = createWeightModels(createLoader(api));
  const v = await models.view("run", "weights/lstm/kernel", LSTM_KERNEL, [0, 10], 10);
  assert.equal(v.matrices.length, 2);
  assert.ok(v.histograms.every((h) => h.stack === null && h.error === "HTTP 404"));
});

test("the API asks TensorBoard's histograms route beside the plugin's", async () => {
  const asked = [];
  const api = createApi(async (url) => {
    asked.push(url);
    return new Response(JSON.stringify(ANSWER), { status: 200 });
  });
  assert.deepEqual(await api.histograms("r <1>", "weights/lstm/kernel/f"), ANSWER);
  const url = new URL(asked[0], "http://tb/data/plugin/rnngrad/");
  assert.equal(url.pathname, "/data/plugin/histograms/histograms");
  assert.equal(url.searchParams.get("run"), "r <1>");
  assert.equal(url.searchParams.get("tag"), "weights/lstm/kernel/f");
});
