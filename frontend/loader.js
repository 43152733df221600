/**
 * Fetches and caches everything the views need: tags, steps, profiles, tensors,
 * masks. Concurrent requests for the same thing share one fetch; failures are not
 * cached, so a retry fetches again. reloadTags() and reloadSteps() fetch the
 * listings again and forget only the cached data their changes made stale; of a
 * series' step requests, the newest one's answer is kept. No DOM.
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
 * The loader: the API's answers, cached, with one request in flight per key.
 * @typedef {ReturnType<typeof createLoader>} Loader
 */

/**
 * @param {import("./api.js").Api} api API client.
 * @param {number} [maxBytes] Tensor cache budget.
 */
export function createLoader(api, maxBytes = 512 * 1024 * 1024) {
  /** Answers other than tensors and masks, by key. @type {Map<string, any>} */
  const small = new Map();
  const tensors = new LruCache(maxBytes);
  /** @type {Map<string, Promise<any>>} */
  const pending = new Map();

  /**
   * Shares one in-flight promise per key; keeps results in `store`, unless the key
   * was forgotten while the request ran.
   * @template T
   * @param {string} key Cache key (k()).
   * @param {Map<string, any>|LruCache} store `small`, or `tensors`.
   * @param {() => Promise<T>} make Fetches the value.
   * @param {(value: T) => number} [size] Its bytes (for `tensors`).
   * @returns {Promise<T>}
   */
  function once(key, store, make, size) {
    if (store.has(key)) return Promise.resolve(store.get(key));
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const p = make().then(
      (value) => {
        if (pending.get(key) !== p) return value;
        pending.delete(key);
        if (store === tensors) tensors.set(key, value, /** @type {(v: T) => number} */ (size)(value));
        else /** @type {Map<string, any>} */ (store).set(key, value);
        return value;
      },
      (err) => {
        if (pending.get(key) === p) pending.delete(key);
        throw err;
      },
    );
    pending.set(key, p);
    return p;
  }

  /**
   * Drops cached and in-flight entries whose key passes `test`.
   * @param {(key: string) => boolean} test Test.
   */
  function forget(test) {
    for (const key of [...small.keys()]) if (test(key)) small.delete(key);
    for (const key of [...pending.keys()]) if (test(key)) pending.delete(key);
    tensors.deleteIf(test);
  }

  /** @type {(...parts: unknown[]) => string} A cache key. */
  const k = (...parts) => JSON.stringify(parts);
  const TAGS = k("tags");
  /**
   * Series -> its step requests: `asked` numbers them, `answered` is the number of
   * the newest one whose answer is noted; `json` and `wallTimes` are that answer.
   * @typedef {{asked: number, answered: number, json: string|undefined,
   *   wallTimes: Map<number, number>}} SeriesState
   */
  /** @type {Map<string, SeriesState>} */
  const series = new Map();

  /**
   * @param {string} run Run.
   * @param {string} tag Tag.
   * @returns {SeriesState}
   */
  function seriesState(run, tag) {
    const key = k(run, tag);
    let s = series.get(key);
    if (!s) {
      s = { asked: 0, answered: 0, json: undefined, wallTimes: new Map() };
      series.set(key, s);
    }
    return s;
  }

  /**
   * Fetches a series' steps. The newest request wins: an answer to a request older
   * than the one already noted goes back to its caller only, neither noted nor
   * cached.
   * @param {string} run Run.
   * @param {string} tag Tag.
   * @returns {Promise<number[]>} Sorted steps.
   */
  async function loadSteps(run, tag) {
    const s = seriesState(run, tag);
    const request = ++s.asked;
    const list = await api.steps(run, tag);
    const steps = list.map((x) => x.step).sort((a, b) => a - b);
    if (request > s.answered) {
      s.answered = request;
      noteListing(run, tag, s, list);
      small.set(k("steps", run, tag), steps);
    }
    return steps;
  }

  /**
   * Forgets a series' cached steps and the answers of its requests in flight.
   * @param {string} run Run.
   * @param {string} tag Tag.
   */
  function dropSteps(run, tag) {
    const key = k("steps", run, tag);
    forget((x) => x === key);
    const s = seriesState(run, tag);
    s.answered = s.asked;
  }

  /**
   * Remembers a series' step listing. When it differs from the last one, forgets the
   * series' profile and the tensors of steps that are gone or were logged again
   * (another wall time: a restarted run).
   * @param {string} run Run.
   * @param {string} tag Tag.
   * @param {SeriesState} s Its state.
   * @param {Array<{step: number, wall_time: number}>} list The steps route's answer.
   */
  function noteListing(run, tag, s, list) {
    const json = JSON.stringify(list);
    const before = s.wallTimes;
    const changed = s.json !== undefined && s.json !== json;
    s.json = json;
    s.wallTimes = new Map(list.map((x) => [x.step, x.wall_time]));
    if (!changed) return;
    const stale = new Set([k("profile", run, tag)]);
    /** @type {string[]} */
    const tensorPrefixes = [];
    for (const [step, wallTime] of before) {
      if (s.wallTimes.get(step) === wallTime) continue;
      stale.add(k("mask", run, tag, step));
      stale.add(k("kept", run, tag, step));
      tensorPrefixes.push(`${k("tensor", run, tag, step).slice(0, -1)},`);
    }
    forget((key) => stale.has(key) || tensorPrefixes.some((p) => key.startsWith(p)));
  }

  /**
   * Fetches the runs and tags again. Series whose entry changed (e.g. a new max_step)
   * lose their cached steps and profile; nothing else is forgotten.
   * @returns {Promise<boolean>} Whether any series was added, removed or changed.
   */
  async function reloadTags() {
    const before = small.get(TAGS);
    const fresh = await api.tags();
    forget((key) => key === TAGS); // this answer is kept, not a tags() request in flight
    small.set(TAGS, fresh);
    if (before === undefined) return true;
    let changed = false;
    for (const [run, tag] of seriesOf(before, fresh)) {
      if (JSON.stringify(before[run]?.[tag]) === JSON.stringify(fresh[run]?.[tag])) continue;
      changed = true;
      dropSteps(run, tag);
      forget((key) => key === k("profile", run, tag) || key === k("compare", tag));
    }
    return changed;
  }

  /**
   * Fetches a series' steps again.
   * @returns {Promise<boolean>} Whether its listing changed since the call (by this
   *   answer or a newer one); then its profile and the tensors of steps that are
   *   gone or were logged again are forgotten.
   * @param {string} run Run.
   * @param {string} tag Tag.
   */
  async function reloadSteps(run, tag) {
    const before = seriesState(run, tag).json;
    await loadSteps(run, tag);
    return seriesState(run, tag).json !== before;
  }

  /**
   * @param {string} run Run.
   * @param {string} tag Tag.
   * @returns {Promise<number[]>} Sorted steps, cached; shares a request in flight.
   */
  function steps(run, tag) {
    const key = k("steps", run, tag);
    if (small.has(key)) return Promise.resolve(small.get(key));
    let p = pending.get(key);
    if (!p) {
      const loading = loadSteps(run, tag).finally(() => {
        if (pending.get(key) === loading) pending.delete(key);
      });
      pending.set(key, loading);
      p = loading;
    }
    return p;
  }

  return {
    /** @returns {string[]} Keys of requests still in flight (for debugging). */
    pendingKeys: () => [...pending.keys()],
    tags: () => once(TAGS, small, api.tags),
    reloadTags,
    steps,
    reloadSteps,
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @returns {number|undefined} Wall time of a step in the series' newest listing
     *   (another one when the step was logged again).
     */
    wallTime: (run, tag, step) => series.get(k(run, tag))?.wallTimes.get(step),
    /** @param {string} run Run. @param {string} tag Tag. */
    profile: (run, tag) => once(k("profile", run, tag), small, () => api.profile(run, tag)),
    /** @param {string} tag Tag. The compare route's answer for `tag`, cached. */
    compare: (tag) => once(k("compare", tag), small, () => api.compare(tag)),
    /**
     * TensorBoard's histograms of a tag, fetched once per `newest` (the newest step
     * of the series they belong to: a new step fetches them again).
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} newest Newest step of the series.
     * @returns {Promise<unknown[]>} The answer of TensorBoard's histograms route.
     */
    histograms: (run, tag, newest) =>
      once(k("histograms", run, tag, newest), small, () => api.histograms(run, tag)),
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
            data: /** @type {Float32Array|Float64Array} */ (npy.data), // float tensors only
            shape: npy.shape,
            dims: dimsOf(npy.shape),
            dtype: npy.dtype,
            sampleBase: sample,
            derived: new Map(),
          };
        },
        (/** @type {TensorEntry} */ e) => e.data.byteLength * 2,
      ),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @returns {Promise<import("./kept.js").Kept>} What a reduced series keeps at a
     *   step (original channels, timestep pooling), cached.
     */
    kept: (run, tag, step) => once(k("kept", run, tag, step), small, () => api.kept(run, tag, step)),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @param {number|null} [sample] As for tensor().
     * @returns {boolean} Whether a tensor is cached (no fetch needed).
     */
    hasTensor: (run, tag, step, sample = null) =>
      tensors.has(k("tensor", run, tag, step, sample)),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @returns {Promise<Uint8Array|null>} (B*T) mask, or null when there is none.
     */
    mask: (run, tag, step) =>
      once(k("mask", run, tag, step), tensors, async () => {
        try {
          return /** @type {Uint8Array} */ ((await api.mask(run, tag, step)).data);
        } catch (e) {
          if (e.status === 404) return null;
          throw e;
        }
      }, (/** @type {Uint8Array|null} */ m) => (m ? m.byteLength : 0) + 64),
  };
}

/**
 * @param {...(Record<string, Record<string, unknown>>|undefined)} listings Tags
 *   route answers.
 * @returns {Array<[string, string]>} Every (run, tag) of either listing.
 */
function seriesOf(...listings) {
  /** @type {Map<string, [string, string]>} */
  const all = new Map();
  for (const l of listings) {
    for (const [run, tags] of Object.entries(l || {})) {
      for (const tag of Object.keys(tags || {})) all.set(JSON.stringify([run, tag]), [run, tag]);
    }
  }
  return [...all.values()];
}
