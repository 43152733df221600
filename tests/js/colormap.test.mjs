// Tests of frontend/colormap.js and frontend/palette.js.
import assert from "node:assert/strict";
import test from "node:test";

import {
  CENTER,
  PACKED,
  SPECIAL,
  divergingColor,
  divergingIndex,
  divergingLut,
  interpolate,
  pack,
  sampleColor,
  sequentialLut,
  unpack,
} from "../../frontend/colormap.js";
import { hexToRgb, paletteFrom } from "../../frontend/palette.js";
import FILE from "../../frontend/palette.json" with { type: "json" };

const lut = divergingLut();
const rgb = (p) => unpack(p).slice(0, 3);

test("diverging LUT: the stops of palette.json, white at 0", () => {
  const stops = FILE.diverging.map(hexToRgb);
  assert.equal(stops.length % 2, 1, "an odd number of stops: one in the middle");
  assert.equal(lut.length, 256);
  assert.deepEqual(rgb(lut[CENTER]), [255, 255, 255]);
  assert.deepEqual(rgb(lut[CENTER]), stops[(stops.length - 1) / 2]);
  assert.deepEqual(rgb(lut[255]), stops.at(-1));
  assert.deepEqual(rgb(lut[1]), stops[0]);
  assert.deepEqual(rgb(lut[0]), stops[0]);
  for (const p of lut) assert.equal(unpack(p)[3], 255, "opaque");
});

test("paletteFrom spreads the stops evenly and reads every colour", () => {
  const p = paletteFrom(FILE);
  assert.deepEqual(p.diverging.map(([x]) => x), FILE.diverging.map((_, i, a) => -1 + (2 * i) / (a.length - 1)));
  assert.equal(p.sequential[0][0], 0);
  assert.equal(p.sequential.at(-1)[0], 1);
  assert.deepEqual(SPECIAL.nan, hexToRgb(FILE.special.nan));
  assert.deepEqual(SPECIAL.posInf, hexToRgb(FILE.special.pos_inf));
  assert.deepEqual(SPECIAL.negInf, hexToRgb(FILE.special.neg_inf));
  assert.deepEqual(SPECIAL.masked, hexToRgb(FILE.special.masked));
  assert.deepEqual(SPECIAL.background, hexToRgb(FILE.special.background));
  const dark = paletteFrom({ ...FILE, special: { ...FILE.special, background: "#000000" } });
  assert.deepEqual(dark.special.background, [0, 0, 0], "another palette, same form");
});

test("diverging LUT is blue below zero and red above", () => {
  for (let i = 1; i < CENTER; i++) {
    const [r, , b] = rgb(lut[i]);
    assert.ok(b > r, `index ${i} is bluish`);
  }
  for (let i = CENTER + 1; i < 256; i++) {
    const [r, , b] = rgb(lut[i]);
    assert.ok(r > b, `index ${i} is reddish`);
  }
});

test("divergingIndex maps [-1, 1] onto 1..255 with 0 at the centre", () => {
  assert.equal(divergingIndex(0), 128);
  assert.equal(divergingIndex(1), 255);
  assert.equal(divergingIndex(-1), 1);
  assert.equal(divergingIndex(0.5), 192);
  assert.equal(divergingIndex(-0.5), 64);
  assert.equal(divergingIndex(7), 255, "clamped");
  assert.equal(divergingIndex(-7), 1, "clamped");
});

test("NaN, +Inf and -Inf have their own colours, off the scale", () => {
  assert.equal(divergingColor(NaN, lut), PACKED.nan);
  assert.equal(divergingColor(Infinity, lut), PACKED.posInf);
  assert.equal(divergingColor(-Infinity, lut), PACKED.negInf);
  assert.deepEqual(rgb(PACKED.nan), SPECIAL.nan);
  assert.deepEqual(rgb(PACKED.posInf), SPECIAL.posInf);
  assert.deepEqual(rgb(PACKED.negInf), SPECIAL.negInf);
  const specials = [PACKED.nan, PACKED.posInf, PACKED.negInf, PACKED.masked];
  assert.equal(new Set(specials).size, 4, "all distinct");
  for (const s of specials) assert.ok(!lut.includes(s), "not a scale colour");
  assert.ok(!sequentialLut().includes(PACKED.nan));
  assert.ok(!sequentialLut().includes(PACKED.posInf));
});

test("pack / unpack round trip and ImageData byte order", () => {
  const p = pack([1, 2, 3], 4);
  assert.deepEqual(unpack(p), [1, 2, 3, 4]);
  const bytes = new Uint8Array(new Uint32Array([pack([10, 20, 30])]).buffer);
  assert.deepEqual([...bytes], [10, 20, 30, 255], "RGBA in memory");
});

test("interpolate and the sequential LUT", () => {
  const a = [
    [0, [0, 0, 0]],
    [1, [100, 200, 50]],
  ];
  assert.deepEqual(interpolate(a, 0.5), [50, 100, 25]);
  assert.deepEqual(interpolate(a, -1), [0, 0, 0]);
  assert.deepEqual(interpolate(a, 2), [100, 200, 50]);
  const s = sequentialLut();
  assert.deepEqual(rgb(s[0]), hexToRgb(FILE.sequential[0]));
  assert.deepEqual(rgb(s[255]), hexToRgb(FILE.sequential.at(-1)));
});

test("sample colours are stable and cycle", () => {
  assert.equal(sampleColor(0), FILE.samples[0]);
  assert.equal(sampleColor(3), FILE.samples[3]);
  assert.equal(sampleColor(FILE.samples.length), sampleColor(0));
  assert.notEqual(sampleColor(1), sampleColor(2));
  assert.deepEqual(hexToRgb("#1f77b4"), [31, 119, 180]);
});
