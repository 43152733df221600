/**
 * Parser for NumPy `.npy` files (format versions 1.0, 2.0 and 3.0). Pure: no DOM.
 * @module npy
 */
import { decodeHalves } from "./float16.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * dtype kind+size -> [typed-array constructor, DataView getter].
 * @type {Record<string, [new (...a: any[]) => NpyArray["data"], "getFloat32"|"getFloat64"|
 *   "getInt8"|"getUint8"|"getInt16"|"getUint16"|"getInt32"|"getUint32"]>}
 */
const NUMERIC = {
  f4: [Float32Array, "getFloat32"],
  f8: [Float64Array, "getFloat64"],
  i1: [Int8Array, "getInt8"],
  u1: [Uint8Array, "getUint8"],
  i2: [Int16Array, "getInt16"],
  u2: [Uint16Array, "getUint16"],
  i4: [Int32Array, "getInt32"],
  u4: [Uint32Array, "getUint32"],
};

/**
 * @typedef {object} NpyArray
 * @property {Float32Array|Float64Array|Uint8Array|Int8Array|Int16Array|Uint16Array|
 *   Int32Array|Uint32Array} data Values in C order; `<f2` decodes to Float32Array,
 *   `|b1` to Uint8Array of 0/1.
 * @property {number[]} shape Array shape ([] for a scalar).
 * @property {string} dtype The dtype descriptor from the header, e.g. "<f4".
 */

/**
 * Parses a `.npy` file.
 * @param {ArrayBuffer} buffer The whole file.
 * @returns {NpyArray} The decoded array.
 * @throws {Error} On a bad magic string, a malformed header, an unsupported dtype,
 *   Fortran order, or a body shorter than the shape needs.
 */
export function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error("Not a .npy file: the data does not start with '\\x93NUMPY'.");
  }
  const major = bytes[6];
  const view = new DataView(buffer);
  let headerLen;
  let start;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(".npy header is truncated.");
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new Error(`Unsupported .npy format version ${major}.${bytes[7]}.`);
  }
  if (start + headerLen > bytes.length) throw new Error(".npy header is truncated.");
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const { descr, fortranOrder, shape } = parseHeader(header);
  if (fortranOrder) {
    throw new Error(
      "This .npy array is in Fortran order (fortran_order: True); only C-order " +
        "arrays are supported. Save it with np.ascontiguousarray first.",
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const data = decodeBody(buffer, start + headerLen, count, descr);
  return { data, shape, dtype: descr };
}

/**
 * Reads descr, fortran_order and shape from the Python-literal header dict.
 * @param {string} header E.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
 * @returns {{descr: string, fortranOrder: boolean, shape: number[]}}
 */
export function parseHeader(header) {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    throw new Error(`Malformed .npy header: ${header.slice(0, 120)}`);
  }
  const dims = shape[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isInteger(n) || n < 0) throw new Error(`Bad .npy shape: (${shape[1]})`);
      return n;
    });
  return { descr: descr[1], fortranOrder: fortran[1] === "True", shape: dims };
}

/**
 * @param {ArrayBuffer} buffer The whole file.
 * @param {number} offset Where the body starts, bytes.
 * @param {number} count Number of values.
 * @param {string} descr The header's dtype, e.g. "<f4".
 * @returns {NpyArray["data"]} The values.
 */
function decodeBody(buffer, offset, count, descr) {
  const order = descr[0];
  const kind = descr.slice(1);
  const size = Number(kind.slice(1));
  if (!["<", ">", "|", "="].includes(order)) throw unsupported(descr);
  if (buffer.byteLength < offset + count * (kind === "b1" ? 1 : size || 0)) {
    throw new Error(
      `.npy body is too short: ${descr} x ${count} needs ` +
        `${count * size} bytes, got ${buffer.byteLength - offset}.`,
    );
  }
  const little = order === "<" || order === "|" || (order === "=" && HOST_LITTLE);
  const view = new DataView(buffer);
  if (kind === "b1") return new Uint8Array(buffer.slice(offset, offset + count));
  if (kind === "f2") return decodeHalves(view, offset, count, little);
  const entry = NUMERIC[kind];
  if (!entry) throw unsupported(descr);
  const [Ctor, getter] = entry;
  if ((size === 1 || little === HOST_LITTLE) && offset % size === 0) {
    return new Ctor(buffer, offset, count); // zero-copy view
  }
  const out = new Ctor(count);
  for (let i = 0; i < count; i++) out[i] = view[getter](offset + i * size, little);
  return out;
}

/** @param {string} descr A dtype. @returns {Error} Says which dtypes are read. */
function unsupported(descr) {
  return new Error(
    `Unsupported .npy dtype '${descr}'; expected a float (<f2, <f4, <f8, big-endian ` +
      "also accepted), an integer, or a boolean (|b1).",
  );
}
