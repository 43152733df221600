/**
 * Least-recently-used cache with a byte budget, for fetched tensors. Pure: no DOM.
 * @module cache
 */

export class LruCache {
  /** @param {number} maxBytes Budget; the oldest entries go first when exceeded. */
  constructor(maxBytes) {
    this.maxBytes = maxBytes;
    this.bytes = 0;
    this.map = new Map();
  }

  /**
   * @param {string} key Key.
   * @returns {*} The value (now most recent) or undefined.
   */
  get(key) {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** @param {string} key Key. @returns {boolean} */
  has(key) {
    return this.map.has(key);
  }

  /**
   * @param {string} key Key.
   * @param {*} value Value.
   * @param {number} bytes Size charged against the budget.
   */
  set(key, value, bytes) {
    if (this.map.has(key)) this.delete(key);
    this.map.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k] of this.map) {
      if (this.bytes <= this.maxBytes || this.map.size <= 1) break;
      this.delete(k);
    }
  }

  /** @param {(key: string) => boolean} test Deletes every entry whose key passes. */
  deleteIf(test) {
    for (const k of [...this.map.keys()]) if (test(k)) this.delete(k);
  }

  /** @param {string} key Key. */
  delete(key) {
    const e = this.map.get(key);
    if (e) {
      this.bytes -= e.bytes;
      this.map.delete(key);
    }
  }
}
