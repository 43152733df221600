/**
 * Client of the plugin's HTTP routes. URLs are relative to the plugin root, so the
 * plugin works under any path prefix. No DOM; fetch is injectable for tests.
 * @module api
 */
import { parseNpy } from "./npy.js";

/**
 * A series' metadata, as the `tags` route lists it (docs/http_api.md). An unreadable
 * series has `error` and nothing else: test `error` before reading the rest.
 * @typedef {object} TagMeta
 * @property {string} kind Quantity, e.g. "gradients" (quantities.js, labels.js).
 * @property {string} layer_name Layer name.
 * @property {string} layer_class Layer class (the wrapped one for Bidirectional).
 * @property {number} units Units per direction (0: unknown).
 * @property {boolean} bidirectional Whether the layer is bidirectional.
 * @property {string} merge_mode "concat", "sum", "mul", "ave", "none" or "".
 * @property {string} direction "forward"/"backward" for one half of a
 *   merge_mode=None layer, else "".
 * @property {number[]} shape Shape at the first logged step.
 * @property {string} dtype "float16", "float32" or "float64".
 * @property {string} [description] The description given when logging (text).
 * @property {number} max_step Largest step logged.
 * @property {boolean} has_mask Whether a mask is stored beside the tensor.
 * @property {number} [reach_threshold] Relative threshold of the reach.
 * @property {string[]} weights Names of axis 0 of a weight-matrix series ([]: none).
 * @property {string[]} gates Names of its axis 2 ([]: none).
 * @property {number[]} call_timesteps Timesteps of each call of a recurrence unrolled
 *   by hand ([]: one call).
 * @property {{captured_shape: number[], captured_dtype: string, timestep_pool: number,
 *   note: string}|null} reduction How the stored tensor was reduced (null: as captured).
 * @property {string} [error] Why the series cannot be read (then nothing else is set).
 */

/** An HTTP or decoding failure with a message a person can act on. */
export class ApiError extends Error {
  /**
   * @param {string} message Readable message.
   * @param {number} status HTTP status (0 for network / decoding errors).
   */
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/**
 * @param {string} route Route name, e.g. "tensor".
 * @param {Record<string, string|number|undefined>} [params] Query parameters.
 * @returns {string} Relative URL like "./tensor?run=a&tag=b&step=3".
 */
export function routeUrl(route, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) q.set(k, String(v));
  }
  const qs = q.toString();
  return `./${route}${qs ? `?${qs}` : ""}`;
}

/**
 * Turns a non-2xx response into an ApiError, using the JSON {"error": ...} body.
 * @param {Response} res Failed response.
 * @param {string} what What was being loaded, e.g. 'tensor of run "a", step 3'.
 * @returns {Promise<ApiError>}
 */
export async function errorFromResponse(res, what) {
  let detail = "";
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text);
      detail = body && typeof body.error === "string" ? body.error : text;
    } catch {
      detail = text;
    }
  } catch {
    detail = "";
  }
  detail = String(detail).trim().slice(0, 500);
  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  return new ApiError(
    `Could not load ${what}: ${detail || "the server gave no reason"} (${status}).`,
    res.status,
  );
}

/**
 * The API client: methods tags, steps, tensor, mask, kept, histograms, profile,
 * compare, health and losses.
 * @typedef {ReturnType<typeof createApi>} Api
 */

/**
 * Creates the API client.
 * @param {typeof fetch} [fetchImpl] fetch to use (default: the global one).
 */
export function createApi(fetchImpl = (...a) => globalThis.fetch(...a)) {
  /**
   * @param {string} url Relative URL.
   * @param {string} what What is loaded, for the error message.
   * @returns {Promise<Response>} The response, when 2xx.
   * @throws {ApiError} Network error or HTTP status.
   */
  async function get(url, what) {
    let res;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      throw new ApiError(`Could not load ${what}: ${e.message || e} (network error).`, 0);
    }
    if (!res.ok) throw await errorFromResponse(res, what);
    return res;
  }

  /**
   * @param {string} url Relative URL.
   * @param {string} what What is loaded, for the error message.
   * @returns {Promise<any>} The JSON answer (checked by the caller).
   */
  async function json(url, what) {
    const res = await get(url, what);
    try {
      return await res.json();
    } catch (e) {
      throw new ApiError(`Could not read ${what}: the answer is not JSON (${e.message}).`, 0);
    }
  }

  /**
   * @param {string} url Relative URL.
   * @param {string} what What is loaded, for the error message.
   * @returns {Promise<import("./npy.js").NpyArray>}
   */
  async function npy(url, what) {
    const res = await get(url, what);
    try {
      return parseNpy(await res.arrayBuffer());
    } catch (e) {
      throw new ApiError(`Could not read ${what}: ${e.message}`, 0);
    }
  }

  /** @type {(run: string, tag: string, step?: number) => string} */
  const label = (run, tag, step) =>
    `run "${run}", tag "${tag}"${step === undefined ? "" : `, step ${step}`}`;

  return {
    /** @returns {Promise<Record<string, Record<string, TagMeta>>>} {run: {tag: metadata}}. */
    tags: () => json(routeUrl("tags"), "the list of runs and tags"),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @returns {Promise<Array<{step: number, wall_time: number}>>}
     */
    steps: (run, tag) =>
      json(routeUrl("steps", { run, tag }), `the steps of ${label(run, tag)}`),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @param {number} [sample] One sample of the batch (default: all).
     * @returns {Promise<import("./npy.js").NpyArray>}
     */
    tensor: (run, tag, step, sample) =>
      npy(
        routeUrl("tensor", { run, tag, step, sample }),
        `the tensor of ${label(run, tag, step)}`,
      ),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @returns {Promise<import("./npy.js").NpyArray>} (batch, time) bool.
     */
    mask: (run, tag, step) =>
      npy(routeUrl("mask", { run, tag, step }), `the mask of ${label(run, tag, step)}`),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @param {number} step Step.
     * @returns {Promise<import("./kept.js").Kept>} What a reduced series keeps.
     */
    kept: (run, tag, step) =>
      json(routeUrl("kept", { run, tag, step }), `what ${label(run, tag, step)} keeps`),
    /**
     * TensorBoard's own histograms of a tag (the per-gate histograms of a weight),
     * from the histograms plugin's route beside this plugin's.
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @returns {Promise<unknown[]>} [[wall_time, step, [[left, right, count], ...]],
     *   ...] (checked by histogram_stack.js).
     */
    histograms: (run, tag) =>
      json(
        routeUrl("../histograms/histograms", { run, tag }),
        `the histograms of ${label(run, tag)}`,
      ),
    /**
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @returns {Promise<Profile>} Profile (normalizeProfile).
     */
    profile: async (run, tag) =>
      normalizeProfile(
        await json(routeUrl("profile", { run, tag }), `the profile of ${label(run, tag)}`),
      ),
    /**
     * @param {string} tag Tag.
     * @returns {Promise<{tag: string, runs: Record<string,
     *   import("./compare_model.js").CompareEntry>}>} Tag `tag` in every run.
     */
    compare: (tag) => json(routeUrl("compare", { tag }), `the comparison of tag "${tag}"`),
    /** @returns {Promise<{runs?: Record<string, unknown>}>} The health report (normalizeHealth checks it). */
    health: () => json(routeUrl("health"), "the health report"),
    /**
     * @returns {Promise<Record<string, Record<string, {run: string, tag: string, step: number,
     *   value: number}>>>} {run: {split: {run, tag, step, value}}}: latest losses.
     */
    losses: () => json(routeUrl("losses"), "the latest losses"),
  };
}

/**
 * A series' profile (the flow view's data), as normalizeProfile returns it.
 * @typedef {{steps: number[], wall_times: number[], values: number[][],
 *   nan_counts: number[][]|null, inf_counts: number[][]|null, reach: number[]|null,
 *   reach_threshold: number|null}} Profile
 */

/**
 * The profile as served, with the JSON nulls of its value rows turned into NaN. The
 * per-step figures the server computes (NaN and Inf counts, reach and its threshold)
 * are taken as they are; one the answer lacks is null, shown as unknown, never
 * computed here.
 * @param {Record<string, any>} p Profile as served.
 * @returns {Profile}
 */
export function normalizeProfile(p) {
  /** @type {number[][]} */
  const rows = (p.values || []).map((/** @type {Array<number|null>|null} */ r) =>
    (r || []).map((v) => (v === null ? NaN : v)),
  );
  const perStep = (/** @type {unknown} */ x) => (Array.isArray(x) && x.length === rows.length ? x : null);
  return {
    steps: p.steps || [],
    wall_times: p.wall_times || [],
    values: rows,
    nan_counts: perStep(p.nan_counts),
    inf_counts: perStep(p.inf_counts),
    reach: perStep(p.reach),
    reach_threshold: typeof p.reach_threshold === "number" ? p.reach_threshold : null,
  };
}
