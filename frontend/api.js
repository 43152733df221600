/**
 * Client of the plugin's HTTP routes. URLs are relative to the plugin root, so the
 * plugin works under any path prefix. No DOM; fetch is injectable for tests.
 * @module api
 */
import { parseNpy } from "./npy.js";

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
 * Creates the API client.
 * @param {typeof fetch} [fetchImpl] fetch to use (default: the global one).
 * @returns {object} Methods tags, steps, tensor, mask, histograms, profile, compare.
 */
export function createApi(fetchImpl = (...a) => globalThis.fetch(...a)) {
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

  async function json(url, what) {
    const res = await get(url, what);
    try {
      return await res.json();
    } catch (e) {
      throw new ApiError(`Could not read ${what}: the answer is not JSON (${e.message}).`, 0);
    }
  }

  async function npy(url, what) {
    const res = await get(url, what);
    try {
      return parseNpy(await res.arrayBuffer());
    } catch (e) {
      throw new ApiError(`Could not read ${what}: ${e.message}`, 0);
    }
  }

  const label = (run, tag, step) =>
    `run "${run}", tag "${tag}"${step === undefined ? "" : `, step ${step}`}`;

  return {
    /** @returns {Promise<object>} {run: {tag: metadata}}. */
    tags: () => json(routeUrl("tags"), "the list of runs and tags"),
    /** @returns {Promise<Array<{step: number, wall_time: number}>>} */
    steps: (run, tag) =>
      json(routeUrl("steps", { run, tag }), `the steps of ${label(run, tag)}`),
    /** @returns {Promise<import("./npy.js").NpyArray>} */
    tensor: (run, tag, step, sample) =>
      npy(
        routeUrl("tensor", { run, tag, step, sample }),
        `the tensor of ${label(run, tag, step)}`,
      ),
    /** @returns {Promise<import("./npy.js").NpyArray>} (batch, time) bool. */
    mask: (run, tag, step) =>
      npy(routeUrl("mask", { run, tag, step }), `the mask of ${label(run, tag, step)}`),
    /** @returns {Promise<import("./kept.js").Kept>} What a reduced series keeps. */
    kept: (run, tag, step) =>
      json(routeUrl("kept", { run, tag, step }), `what ${label(run, tag, step)} keeps`),
    /**
     * TensorBoard's own histograms of a tag (the per-gate histograms of a weight),
     * from the histograms plugin's route beside this plugin's.
     * @returns {Promise<Array>} [[wall_time, step, [[left, right, count], ...]], ...].
     */
    histograms: (run, tag) =>
      json(
        routeUrl("../histograms/histograms", { run, tag }),
        `the histograms of ${label(run, tag)}`,
      ),
    /** @returns {Promise<object>} Profile (normalizeProfile). */
    profile: async (run, tag) =>
      normalizeProfile(
        await json(routeUrl("profile", { run, tag }), `the profile of ${label(run, tag)}`),
      ),
    /** @returns {Promise<object>} {tag, runs: {run: figures}}: tag `tag` in every run. */
    compare: (tag) => json(routeUrl("compare", { tag }), `the comparison of tag "${tag}"`),
    /** @returns {Promise<object>} {runs: {run: [finding]}, status}: the health report. */
    health: () => json(routeUrl("health"), "the health report"),
    /** @returns {Promise<object>} {run: {split: {run, tag, step, value}}}: latest losses. */
    losses: () => json(routeUrl("losses"), "the latest losses"),
  };
}

/**
 * The profile as served, with the JSON nulls of its value rows turned into NaN. The
 * per-step figures the server computes (NaN and Inf counts, reach and its threshold)
 * are taken as they are; one the answer lacks is null, shown as unknown, never
 * computed here.
 * @param {object} p Profile as served.
 * @returns {{steps: number[], wall_times: number[], values: number[][],
 *   nan_counts: number[][]|null, inf_counts: number[][]|null, reach: number[]|null,
 *   reach_threshold: number|null}}
 */
export function normalizeProfile(p) {
  const rows = (p.values || []).map((r) => (r || []).map((v) => (v === null ? NaN : v)));
  const perStep = (x) => (Array.isArray(x) && x.length === rows.length ? x : null);
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
