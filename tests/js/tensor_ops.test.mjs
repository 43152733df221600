// Tests of frontend/tensor_ops.js and frontend/prepare.js.
import assert from "node:assert/strict";
import test from "node:test";

import { missingSample, prepare } from "../../frontend/prepare.js";
import {
  canReflect,
  countNonFinite,
  dimsOf,
  maskRow,
  meanAbsOverBatch,
  reflectFrom,
  reflectTime,
} from "../../frontend/tensor_ops.js";

/** (B, T, C) tensor with value b*100 + t*10 + c. */
function ramp(B, T, C) {
  const a = new Float32Array(B * T * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) a[(b * T + t) * C + c] = b * 100 + t * 10 + c;
  }
  return a;
}

test("dimsOf for rank 3 and rank 2; other ranks are errors", () => {
  assert.deepEqual(dimsOf([2, 5, 3]), { batch: 2, time: 5, channels: 3, rank: 3 });
  assert.deepEqual(dimsOf([2, 3]), { batch: 2, time: 1, channels: 3, rank: 2 });
  assert.throws(() => dimsOf([2]), /shape \(2\)/);
});

test("dimsOf rejects a dimension of size 0 (nothing to draw, no 0-pixel image)", () => {
  assert.throws(() => dimsOf([2, 0, 3]), /empty dimension \(2, 0, 3\)/);
  assert.throws(() => dimsOf([0, 4]), /empty dimension \(0, 4\)/);
  assert.throws(() => dimsOf([1, 5, 0]), /empty dimension \(1, 5, 0\)/);
});

test("reflectTime flips only the backward channels", () => {
  const d = dimsOf([1, 3, 4]);
  const out = reflectTime(ramp(1, 3, 4), d, 2);
  // channels 0,1 unchanged; channels 2,3 read time T-1-t
  assert.deepEqual([...out.subarray(0, 4)], [0, 1, 22, 23]);
  assert.deepEqual([...out.subarray(4, 8)], [10, 11, 12, 13]);
  assert.deepEqual([...out.subarray(8, 12)], [20, 21, 2, 3]);
  const whole = reflectTime(ramp(2, 3, 1), dimsOf([2, 3, 1]), 0);
  assert.deepEqual([...whole], [20, 10, 0, 120, 110, 100]);
});

test("meanAbsOverBatch and countNonFinite", () => {
  const a = new Float32Array([1, -2, 3, -4, NaN, Infinity]);
  const m = meanAbsOverBatch(new Float32Array([1, -2, -3, 4]), dimsOf([2, 1, 2]));
  assert.deepEqual([...m], [2, 3]);
  assert.deepEqual(countNonFinite(a), { nan: 1, posInf: 1, negInf: 0 });
  assert.deepEqual(countNonFinite([-Infinity, -Infinity]), { nan: 0, posInf: 0, negInf: 2 });
});

test("meanAbsOverBatch sums in float64: large finite values do not overflow", () => {
  const big = new Float32Array([3e38, -3e38, 3e38, 3e38]); // (B=2, T=1, C=2)
  const m = meanAbsOverBatch(big, dimsOf([2, 1, 2]));
  assert.ok(m instanceof Float32Array, "float32 in, float32 out");
  assert.deepEqual([...m], [Math.fround(3e38), Math.fround(3e38)]);
  const wide = meanAbsOverBatch(new Float64Array([1e300, 1e300]), dimsOf([2, 1, 1]));
  assert.ok(wide instanceof Float64Array, "float64 data keeps its range");
  assert.deepEqual([...wide], [1e300]);
  const special = meanAbsOverBatch(new Float32Array([NaN, Infinity, 1, 1]), dimsOf([2, 1, 2]));
  assert.ok(Number.isNaN(special[0]));
  assert.equal(special[1], Infinity, "a real Inf still propagates");
});

test("maskRow: one sample, or valid in any sample", () => {
  const mask = new Uint8Array([1, 1, 0, 0, 1, 0]); // B=2, T=3
  assert.deepEqual([...maskRow(mask, 2, 3, 1)], [0, 1, 0]);
  assert.deepEqual([...maskRow(mask, 2, 3, "all")], [1, 1, 0]);
  assert.equal(maskRow(null, 2, 3, 0), null);
});

test("reflect applies to concat bidirectional layers and backward halves", () => {
  const bi = { bidirectional: true, merge_mode: "concat", units: 3, shape: [2, 5, 6] };
  assert.equal(reflectFrom(bi, 6), 3);
  assert.equal(reflectFrom({ direction: "backward", shape: [2, 5, 3] }, 3), 0);
  assert.equal(reflectFrom({ direction: "forward", shape: [2, 5, 3] }, 3), 3);
  assert.equal(reflectFrom({ bidirectional: true, merge_mode: "sum", units: 3 }, 3), 3);
  assert.ok(canReflect(bi));
  assert.ok(canReflect({ direction: "backward", shape: [1, 2, 3] }));
  assert.ok(!canReflect({ direction: "backward", shape: [1, 3] }), "no time axis");
  assert.ok(!canReflect({ bidirectional: false, shape: [1, 2, 3] }));
  assert.ok(!canReflect(null));
});

const entry = (data, shape, sampleBase = null) => ({
  data,
  shape,
  dims: dimsOf(shape),
  dtype: "<f4",
  sampleBase,
  derived: new Map(),
});
const META = { kind: "gradients", shape: [2, 3, 2], bidirectional: false, merge_mode: "", direction: "" };

test("prepare: one sample", () => {
  const data = ramp(2, 3, 2);
  data[6 + 1] = NaN; // sample 1, t 0, c 1
  const mask = new Uint8Array([1, 1, 1, 1, 1, 0]);
  const p = prepare(entry(data, [2, 3, 2]), mask, META, { sampleMode: "one", sample: 1, reflect: false });
  assert.deepEqual(p.samples, [1]);
  assert.deepEqual(p.sampleIds, [1]);
  assert.deepEqual([...p.masks[0]], [1, 1, 0]);
  assert.deepEqual(p.counts, { nan: 1, posInf: 0, negInf: 0 });
  assert.equal(p.maxAbs, 121);
  assert.equal(p.mean, false);
});

test("prepare never shows another sample than the one asked for", () => {
  const e = entry(ramp(2, 3, 2), [2, 3, 2]);
  const st = { sampleMode: "one", sample: 2, reflect: false };
  assert.throws(() => prepare(e, null, META, st), /has 2 samples \(0 to 1\), so there is no sample 2/);
  const all = prepare(e, null, META, { ...st, sampleMode: "all" });
  assert.deepEqual(all.samples, [0, 1], "all samples ignores the sample number");
});

test("missingSample: a run with a smaller batch names itself and its size", () => {
  const one = (sample) => ({ sampleMode: "one", sample });
  assert.equal(
    missingSample("small", 1, one(1)),
    'Run "small" has 1 sample (0 to 0), so there is no sample 1; pick a smaller sample ' +
      "or show all samples.",
  );
  assert.match(missingSample("r", 3, one(7)), /^Run "r" has 3 samples \(0 to 2\)/);
  assert.equal(missingSample("r", 3, one(2)), null);
  assert.equal(missingSample("r", null, one(9)), null, "batch unknown: the tensor decides");
  assert.equal(missingSample("r", 1, { sampleMode: "all", sample: 5 }), null);
  assert.equal(missingSample("r", 1, { sampleMode: "mean", sample: 5 }), null);
});

test("prepare: all samples and batch mean of |g|", () => {
  const data = new Float32Array([1, -2, 3, -4, -5, 6, 7, 8]); // (2, 2, 2)
  const meta = { ...META, shape: [2, 2, 2] };
  const mask = new Uint8Array([1, 0, 0, 0]);
  const all = prepare(entry(data, [2, 2, 2]), mask, meta, { sampleMode: "all", sample: 0, reflect: false });
  assert.deepEqual(all.samples, [0, 1]);
  assert.deepEqual(all.masks.map((m) => [...m]), [[1, 0], [0, 0]]);
  assert.deepEqual([...all.gridMask], [1, 0]);
  assert.equal(all.maxAbs, 8);
  const mean = prepare(entry(data, [2, 2, 2]), mask, meta, { sampleMode: "mean", sample: 0, reflect: false });
  assert.deepEqual([...mean.array], [3, 4, 5, 6]);
  assert.equal(mean.dims.batch, 1);
  assert.deepEqual(mean.sampleIds, ["mean"]);
  assert.equal(mean.maxAbs, 6);
  assert.equal(mean.mean, true);
});

test("prepare: reflect flips the backward half and its mask lookup", () => {
  const meta = { ...META, bidirectional: true, merge_mode: "concat", units: 1, shape: [1, 3, 2] };
  const data = ramp(1, 3, 2);
  const off = prepare(entry(data, [1, 3, 2]), null, meta, { sampleMode: "one", sample: 0, reflect: false });
  assert.equal(off.maskFlipFrom, 2);
  assert.equal(off.splitAt, 1);
  assert.deepEqual([...off.array], [0, 1, 10, 11, 20, 21]);
  const on = prepare(entry(data, [1, 3, 2]), null, meta, { sampleMode: "one", sample: 0, reflect: true });
  assert.equal(on.maskFlipFrom, 1);
  assert.deepEqual([...on.array], [0, 21, 10, 11, 20, 1]);
});

test("prepare: a tensor fetched with sample=i keeps the sample's number", () => {
  const data = ramp(1, 3, 2);
  const mask = new Uint8Array([1, 1, 1, 1, 0, 0]); // B=2, T=3
  const p = prepare(entry(data, [1, 3, 2], 1), mask, META, { sampleMode: "one", sample: 1, reflect: false });
  assert.deepEqual(p.samples, [0]);
  assert.deepEqual(p.sampleIds, [1]);
  assert.deepEqual([...p.masks[0]], [1, 0, 0]);
});
