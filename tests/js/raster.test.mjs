// Tests of frontend/raster.js (pixels written for the heatmap, flow and lines).
import assert from "node:assert/strict";
import test from "node:test";

import { PACKED, divergingLut, pack, sequentialLut, unpack } from "../../frontend/colormap.js";
import { logScale, positiveLogRange, symmetricScale } from "../../frontend/normalize.js";
import {
  fillFlow,
  fillHeatmap,
  fillRect,
  markNonFinite,
  strokeSeries,
} from "../../frontend/raster.js";

const lut = divergingLut();
const rgb = (p) => unpack(p).slice(0, 3);

// (B=1, T=3, C=2): t0 = [2, -2], t1 = [NaN, Inf], t2 = [-Inf, 0]
const A = new Float32Array([2, -2, NaN, Infinity, -Infinity, 0]);
const D = { batch: 1, time: 3, channels: 2 };

test("fillHeatmap: channels as rows, timesteps as columns", () => {
  const px = new Uint32Array(6);
  fillHeatmap(px, A, D, { scale: symmetricScale(2), lut });
  // row c=0: t0..t2 ; row c=1: t0..t2
  assert.deepEqual(rgb(px[0]), [103, 0, 31], "c0 t0 = +max is dark red");
  assert.equal(px[1], PACKED.nan, "c0 t1 NaN");
  assert.equal(px[2], PACKED.negInf, "c0 t2 -Inf");
  assert.deepEqual(rgb(px[3]), [5, 48, 97], "c1 t0 = -max is dark blue");
  assert.equal(px[4], PACKED.posInf, "c1 t1 +Inf");
  assert.deepEqual(rgb(px[5]), [255, 255, 255], "c1 t2 = 0 is white");
});

test("fillHeatmap: transposed puts timesteps on rows", () => {
  const px = new Uint32Array(6);
  fillHeatmap(px, A, D, { scale: symmetricScale(2), lut, transpose: true });
  assert.equal(px[2], PACKED.nan); // t1 c0
  assert.equal(px[3], PACKED.posInf); // t1 c1
  assert.deepEqual(rgb(px[5]), [255, 255, 255]); // t2 c1
});

test("fillHeatmap: masked timesteps are grey, reversed for reflected channels", () => {
  const px = new Uint32Array(6);
  const mask = new Uint8Array([1, 1, 0]);
  fillHeatmap(px, A, D, { scale: symmetricScale(2), lut, mask });
  assert.equal(px[2], PACKED.masked, "c0 t2");
  assert.equal(px[5], PACKED.masked, "c1 t2");
  assert.notEqual(px[0], PACKED.masked);
  fillHeatmap(px, A, D, { scale: symmetricScale(2), lut, mask, maskFlipFrom: 1 });
  assert.equal(px[2], PACKED.masked, "forward channel: t2 masked");
  assert.equal(px[3], PACKED.masked, "reflected channel: t0 reads mask[2]");
  assert.deepEqual(rgb(px[5]), [255, 255, 255], "reflected channel: t2 reads mask[0]");
});

test("fillHeatmap: sample offset, symmetric rounding and the log scale", () => {
  const a = new Float32Array([0, 0, 1, -1]); // B=2, T=1, C=2
  const px = new Uint32Array(2);
  fillHeatmap(px, a, { batch: 2, time: 1, channels: 2 }, { sample: 1, scale: symmetricScale(2), lut });
  assert.equal(px[0], lut[128 + 64], "+0.5 -> 192");
  assert.equal(px[1], lut[128 - 64], "-0.5 -> 64 (mirror)");
  fillHeatmap(px, new Float32Array([1e-1, -1e-7]), { batch: 1, time: 1, channels: 2 }, { scale: logScale(1, 4), lut });
  assert.equal(px[0], lut[128 + 95], "0.1 is 3 of 4 decades: 0.75");
  assert.equal(px[1], lut[128], "below 4 decades is white");
});

test("fillFlow: sequential log colours; NaN/Inf counts win", () => {
  const seq = sequentialLut();
  const values = [
    [1, 0.01],
    [NaN, 1e-9],
  ];
  const nan = [
    [0, 0],
    [0, 0],
  ];
  const inf = [
    [0, 3],
    [0, 0],
  ];
  const px = new Uint32Array(4);
  fillFlow(px, values, nan, inf, 2, positiveLogRange([1, 0.01, 1e-9], { min: 1, max: 4 }), seq);
  assert.equal(px[0], seq[255], "the max is the top of the map");
  assert.equal(px[1], PACKED.posInf, "Inf count > 0");
  assert.equal(px[2], PACKED.nan, "null/NaN norm");
  assert.equal(px[3], seq[0], "below the range");
});

test("fillFlow pads rows of steps that logged fewer timesteps", () => {
  const seq = sequentialLut();
  const px = new Uint32Array(6);
  fillFlow(px, [[1, 1, 1], [1]], null, null, 3, positiveLogRange([1]), seq);
  assert.deepEqual([...px], [seq[255], seq[255], seq[255], seq[255], PACKED.background, PACKED.background]);
});

test("fillFlow pads with the colour given (the dark theme's background)", () => {
  const seq = sequentialLut();
  const dark = pack([48, 48, 48]);
  const rows = new Uint32Array(4);
  fillFlow(rows, [[1, 1], [1]], null, null, 2, positiveLogRange([1]), seq, dark);
  assert.deepEqual([...rows], [seq[255], seq[255], seq[255], dark]);
});

test("strokeSeries draws a connected 1-pixel line and breaks at NaN", () => {
  const W = 5;
  const px = new Uint32Array(W * 5);
  const red = pack([255, 0, 0]);
  const box = { x: 0, y: 0, w: 5, h: 5 };
  strokeSeries(px, W, [0, 1, 2, 3, 4], 0, 1, 5, box, 0, 4, red);
  for (let i = 0; i < 5; i++) assert.equal(px[(4 - i) * W + i], red, `diagonal pixel ${i}`);
  assert.equal(px.filter((p) => p === red).length, 5);
  px.fill(0);
  strokeSeries(px, W, [2, 2, NaN, 2, 2], 0, 1, 5, box, 0, 4, red);
  const row = [...px.subarray(2 * W, 3 * W)].map((p) => (p === red ? 1 : 0));
  assert.deepEqual(row, [1, 1, 0, 1, 1]);
  px.fill(0);
  strokeSeries(px, W, [0, 4], 0, 1, 2, box, 0, 4, red); // steep: every row touched
  for (let r = 0; r < 5; r++) assert.ok(px.subarray(r * W, (r + 1) * W).includes(red), `row ${r}`);
  px.fill(0);
  strokeSeries(px, W, [0, 0, 99, 0, 0, 0], 1, 2, 3, box, -1, 1, red); // stride + offset
  assert.deepEqual([...px.subarray(2 * W, 3 * W)].map((p) => (p === red ? 1 : 0)), [1, 1, 1, 1, 1]);
});

test("markNonFinite marks NaN mid-height, +Inf at the top, -Inf at the bottom", () => {
  const W = 9;
  const H = 9;
  const px = new Uint32Array(W * H);
  const box = { x: 0, y: 0, w: 9, h: 9 };
  // Points at x = 0, 2, 4, 6, 8 (stride 2 from offset 1 skips the other channel).
  const values = [0, 1, 0, NaN, 0, Infinity, 0, -Infinity, 0, 2];
  markNonFinite(px, W, values, 1, 2, 5, box, 3);
  const at = (x, y) => px[y * W + x];
  assert.equal(at(2, 4), PACKED.nan, "NaN at t1: centre of the box");
  assert.equal(at(4, 0), PACKED.posInf, "+Inf at t2: top edge");
  assert.equal(at(6, 8), PACKED.negInf, "-Inf at t3: bottom edge");
  assert.equal(px.filter((p) => p === PACKED.nan).length, 9, "a 3 x 3 square");
  for (const x of [0, 8]) {
    for (let y = 0; y < H; y++) assert.equal(at(x, y), 0, `finite point at x=${x} is not marked`);
  }
  px.fill(0);
  markNonFinite(px, W, [NaN, 1, 1, Infinity], 0, 1, 4, box, 3);
  assert.equal(at(0, 4), PACKED.nan, "a marker at the left edge stays inside the box");
  assert.equal(at(8, 0), PACKED.posInf, "and at the right edge");
});

test("fillRect clips to the image", () => {
  const px = new Uint32Array(4 * 3);
  fillRect(px, 4, 2, 1, 10, 10, 7);
  assert.deepEqual([...px], [0, 0, 0, 0, 0, 0, 7, 7, 0, 0, 7, 7]);
});
