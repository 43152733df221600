// Tests of frontend/npy.js and frontend/float16.js.
// The fixtures in npy_fixtures.mjs were written by numpy.lib.format.write_array;
// to regenerate, write the arrays named below with that function and base64 them.
import assert from "node:assert/strict";
import test from "node:test";

import { decodeHalves, halfToFloat } from "../../frontend/float16.js";
import { parseHeader, parseNpy } from "../../frontend/npy.js";
import * as fx from "./npy_fixtures.mjs";

const buf = (b64) => {
  const b = Buffer.from(b64, "base64");
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};

/** Builds a .npy file by hand (v1 or v2 header). */
function makeNpy(descr, shape, body, { version = 1, fortran = false } = {}) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  while ((pre + header.length + 1) % 64) header += " ";
  header += "\n";
  const out = new Uint8Array(pre + header.length + body.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(new Uint8Array(body.buffer ?? body), pre + header.length);
  return out.buffer;
}

const F4 = [1.5, -2, 0, NaN, Infinity, -Infinity];

test("<f4 v1 written by numpy: values, shape, dtype", () => {
  const a = parseNpy(buf(fx.f4_v1));
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, "<f4");
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual([...a.data], F4);
});

test("<f4 with a v2.0 header", () => {
  const a = parseNpy(buf(fx.f4_v2));
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], F4);
});

test(">f4 big-endian is byte-swapped", () => {
  const a = parseNpy(buf(fx.f4_be));
  assert.equal(a.dtype, ">f4");
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual([...a.data], F4);
});

test("<f2 decodes to Float32Array incl. NaN, +-Inf, subnormals and -0", () => {
  const a = parseNpy(buf(fx.f2_le));
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual(a.shape, [11]);
  const v = [...a.data];
  assert.equal(v[0], 1);
  assert.equal(v[1], -2.5);
  assert.ok(Object.is(v[2], 0));
  assert.ok(Object.is(v[3], -0), "-0 keeps its sign");
  assert.ok(Number.isNaN(v[4]));
  assert.equal(v[5], Infinity);
  assert.equal(v[6], -Infinity);
  assert.equal(v[7], 2 ** -24, "smallest subnormal");
  assert.equal(v[8], 2 ** -14, "smallest normal");
  assert.equal(v[9], 65504, "largest half");
  assert.equal(v[10], 1023 * 2 ** -24, "largest subnormal (6.1e-5 rounds to it)");
});

test(">f2 big-endian halves equal the little-endian ones", () => {
  const le = [...parseNpy(buf(fx.f2_le)).data];
  const be = [...parseNpy(buf(fx.f2_be)).data];
  assert.deepEqual(be, le);
});

test("halfToFloat bit patterns", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x8001), -(2 ** -24));
  assert.equal(halfToFloat(0x03ff), 1023 * 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Number.isNaN(halfToFloat(0xfc01)));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  const dv = new DataView(new Uint8Array([0x00, 0x3c, 0x00, 0xc0]).buffer);
  assert.deepEqual([...decodeHalves(dv, 0, 2, true)], [1, -2]);
});

test("<f8 keeps double precision", () => {
  const a = parseNpy(buf(fx.f8));
  assert.ok(a.data instanceof Float64Array);
  assert.deepEqual([...a.data], [1e-300, -3.25, 1e300]);
});

test("|b1 masks decode to 0/1 bytes", () => {
  const a = parseNpy(buf(fx.b1));
  assert.equal(a.dtype, "|b1");
  assert.ok(a.data instanceof Uint8Array);
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [1, 0, 1, 0, 0, 1]);
});

test("|u1, rank 3 and scalar shapes", () => {
  const u = parseNpy(makeNpy("|u1", [4], new Uint8Array([0, 1, 254, 255])));
  assert.deepEqual([...u.data], [0, 1, 254, 255]);
  const a = parseNpy(buf(fx.f4_3d));
  assert.deepEqual(a.shape, [2, 3, 4]);
  assert.equal(a.data[23], 23);
  assert.equal(a.data[1 * 12 + 2 * 4 + 3], 23);
  const s = parseNpy(buf(fx.f4_scalar));
  assert.deepEqual(s.shape, []);
  assert.deepEqual([...s.data], [3]);
});

test("hand-built v1 and v2 headers, both byte orders", () => {
  const le = new DataView(new ArrayBuffer(8));
  le.setFloat32(0, 0.25, true);
  le.setFloat32(4, -8, true);
  const be = new DataView(new ArrayBuffer(8));
  be.setFloat32(0, 0.25, false);
  be.setFloat32(4, -8, false);
  for (const version of [1, 2]) {
    assert.deepEqual([...parseNpy(makeNpy("<f4", [2], le, { version })).data], [0.25, -8]);
    assert.deepEqual([...parseNpy(makeNpy(">f4", [2], be, { version })).data], [0.25, -8]);
  }
  const d = new DataView(new ArrayBuffer(16));
  d.setFloat64(0, Math.PI, false);
  d.setFloat64(8, -0.5, false);
  assert.deepEqual([...parseNpy(makeNpy(">f8", [2], d)).data], [Math.PI, -0.5]);
});

test("bad magic is rejected with a clear error", () => {
  const bytes = new Uint8Array(buf(fx.f4_v1));
  bytes[1] = 0x58;
  assert.throws(() => parseNpy(bytes.buffer), /Not a \.npy file/);
  assert.throws(() => parseNpy(new TextEncoder().encode("{\"error\": \"x\"}").buffer), /Not a \.npy file/);
  assert.throws(() => parseNpy(new ArrayBuffer(3)), /Not a \.npy file/);
});

test("fortran order is rejected with a clear error", () => {
  assert.throws(() => parseNpy(buf(fx.f4_fortran)), /Fortran order.*C-order/s);
});

test("unsupported dtype, bad version and short body are errors", () => {
  assert.throws(() => parseNpy(makeNpy("<c8", [1], new Uint8Array(8))), /Unsupported \.npy dtype '<c8'/);
  const v9 = new Uint8Array(makeNpy("<f4", [1], new Uint8Array(4)));
  v9[6] = 9;
  assert.throws(() => parseNpy(v9.buffer), /format version 9/);
  assert.throws(() => parseNpy(makeNpy("<f4", [3], new Uint8Array(4))), /too short/);
});

test("parseHeader reads the Python literal", () => {
  assert.deepEqual(parseHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (16, 200, 64), }"), {
    descr: "<f2",
    fortranOrder: false,
    shape: [16, 200, 64],
  });
  assert.deepEqual(parseHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }").shape, [5]);
  assert.throws(() => parseHeader("{'descr': '<f4'}"), /Malformed/);
});
