/**
 * Fetches and caches everything the views need: tags, steps, profiles, tensors,
 * masks. Concurrent requests for the same thing share one fetch; failures are not
 * cached, so a retry fetches again. No DOM.
 * @module loader
 */
import { LruCache } from "./cache.js";
import { dimsOf } from "./tensor_ops.js";

/** Tensors above this many elements are fetched one sample at a time. */
export const SAMPLE_FETCH_ELEMENTS = 8 * 1024 * 1024;

/**
 * @typedef {object} TensorEntry
 * @property {Float32Array|Float64Array} data Values, C order.
 * @property {number[]} shape Shape as served.
 * @property {import("./tensor_ops.js").Dims} dims Dimensions.
 * @property {string} dtype Served dtype.
 * @property {number|null} sampleBase Sample number of batch row 0 when fetched with
 *   `sample=`, else null.
 * @property {Map<string, *>} derived Values computed from the data (prepare.js).
 */

/**
 * @param {ReturnType<import("./api.js").createApi>} api API client.
 * @param {number} [maxBytes] Tensor cache budget.
 * @returns {object} Loader.
 */
export function createLoader(api, maxBytes = 512 * 1024 * 1024) {
  const small = new Map();
  const tensors = new LruCache(maxBytes);
  const pending = new Map();

  /** Shares one in-flight promise per key; keeps results in `store`. */
  function once(key, store, make, size) {
    if (store.has(key)) return Promise.resolve(store.get(key));
    if (pending.has(key)) return pending.get(key);
    const p = make().then(
      (value) => {
        pending.delete(key);
        if (store === tensors) tensors.set(key, value, size(value));
        else store.set(key, value);
        return value;
      },
      (err) => {
        pending.delete(key);
        throw err;
      },
    );
    pending.set(key, p);
    return p;
  }

  const k = (...parts) => JSON.stringify(parts);

  return {
    /** @returns {string[]} Keys of requests still in flight (for debugging). */
    pendingKeys: () => [...pending.keys()],
    tags: () => once(k("tags"), small, api.tags),
    /** @returns {Promise<number[]>} Sorted steps. */
    steps: (run, tag) =>
      once(k("steps", run, tag), small, async () =>
        (await api.steps(run, tag)).map((s) => s.step).sort((a, b) => a - b),
      ),
    profile: (run, tag) => once(k("profile", run, tag), small, () => api.profile(run, tag)),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @param {number|null} sample Fetch only this sample (null = whole batch).
     * @returns {Promise<TensorEntry>}
     */
    tensor: (run, tag, step, sample = null) =>
      once(
        k("tensor", run, tag, step, sample),
        tensors,
        async () => {
          const npy = await api.tensor(run, tag, step, sample ?? undefined);
          return {
            data: npy.data,
            shape: npy.shape,
            dims: dimsOf(npy.shape),
            dtype: npy.dtype,
            sampleBase: sample,
            derived: new Map(),
          };
        },
        (e) => e.data.byteLength * 2,
      ),
    /** @returns {boolean} Whether a tensor is cached (no fetch needed). */
    hasTensor: (run, tag, step, sample = null) =>
      tensors.has(k("tensor", run, tag, step, sample)),
    /** @returns {Promise<Uint8Array|null>} (B*T) mask, or null when there is none. */
    mask: (run, tag, step) =>
      once(k("mask", run, tag, step), tensors, async () => {
        try {
          return (await api.mask(run, tag, step)).data;
        } catch (e) {
          if (e.status === 404) return null;
          throw e;
        }
      }, (m) => (m ? m.byteLength : 0) + 64),
  };
}
