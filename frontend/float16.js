/**
 * IEEE 754 half-precision decoding. Pure: no DOM.
 * @module float16
 */

/**
 * Decodes one binary16 value.
 * @param {number} h 16-bit pattern (0..65535).
 * @returns {number} The value, including subnormals, -0, +-Infinity and NaN.
 */
export function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** @type {Float32Array|null} */
let table = null;

/** @returns {Float32Array} All 65536 half values, built once on first use. */
function halfTable() {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  return table;
}

/**
 * Decodes an array of half floats stored at `offset` in `view`.
 * @param {DataView} view Bytes holding the halves.
 * @param {number} offset Byte offset of the first half.
 * @param {number} count Number of halves.
 * @param {boolean} littleEndian Byte order of the stored halves.
 * @returns {Float32Array} Decoded values.
 */
export function decodeHalves(view, offset, count, littleEndian) {
  const lut = halfTable();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = lut[view.getUint16(offset + 2 * i, littleEndian)];
  }
  return out;
}
