/**
 * UI state and its URL-hash form (shareable, survives reload). Pure: no DOM;
 * hash.js reads and writes location.
 * @module state
 */

/** @type {Array<State["sampleMode"]>} */
export const SAMPLE_MODES = ["one", "all", "mean"];
/** @type {Array<State["scale"]>} */
export const SCALE_MODES = ["auto", "fixed", "manual", "log"];
/** @type {Array<State["yaxis"]>} */
export const Y_MODES = ["shared", "free"];
export const VIEWS = ["heatmap", "grid", "scatter", "flow"];
/** @type {Array<State["order"]>} */
export const SORT_ORDERS = ["asc", "desc"];

import { DEFAULT_SORT, SORT_KEYS } from "./compare_model.js";

/**
 * @typedef {object} State
 * @property {string[]} runs Selected runs, in display order.
 * @property {boolean} noRun The user unchecked every run: show none (a state
 *   without runs otherwise shows the runs of the tag).
 * @property {string} tag Selected tag ("" = first available).
 * @property {string} [quantity] Kind of the tag shown (quantities.js); from an
 *   address without a known tag, the quantity to show first. Absent: none asked.
 * @property {number|null} step Training step shown (null = latest).
 * @property {number|null} mark Timestep marked in the heatmap and flow views, as a
 *   health finding's link sets it (null = none; a new tag clears it).
 * @property {"one"|"all"|"mean"} sampleMode One sample, all as small multiples, or
 *   the batch mean of |g|.
 * @property {number} sample Sample index for sampleMode "one".
 * @property {"auto"|"fixed"|"manual"|"log"} scale Colour-scale mode.
 * @property {number} min Manual range lower bound.
 * @property {number} max Manual range upper bound.
 * @property {boolean} reflect Flip the backward half of bidirectional layers.
 * @property {boolean} transpose Timesteps on y instead of x.
 * @property {"shared"|"free"} yaxis Channel grid y axis.
 * @property {string[]} views Views shown.
 * @property {string} runFilter Regular expression over run names (run_filter.js).
 * @property {boolean} compare Show the compare view of the selected runs instead of
 *   one panel per run.
 * @property {string} sort Compare table's sort key (compare_model.js SORT_KEYS).
 * @property {"asc"|"desc"} order Its direction.
 */

/** @returns {State} The state of a fresh page. */
export function defaultState() {
  return {
    runs: [],
    noRun: false,
    tag: "",
    step: null,
    mark: null,
    sampleMode: "one",
    sample: 0,
    scale: "auto",
    min: -1,
    max: 1,
    reflect: false,
    transpose: false,
    yaxis: "shared",
    views: VIEWS.slice(),
    runFilter: "",
    compare: false,
    sort: DEFAULT_SORT,
    order: SORT_KEYS[DEFAULT_SORT],
  };
}

/**
 * @param {State} s State.
 * @returns {string} Hash text without "#"; defaults are left out.
 */
export function encodeState(s) {
  const d = defaultState();
  const p = new URLSearchParams();
  for (const r of s.runs) p.append("run", r);
  if (s.noRun && s.runs.length === 0) p.set("norun", "1");
  if (s.tag) p.set("tag", s.tag);
  if (s.quantity) p.set("quantity", s.quantity);
  if (s.step !== null && s.step !== undefined) p.set("step", String(s.step));
  if (s.mark !== null && s.mark !== undefined) p.set("mark", String(s.mark));
  if (s.sampleMode !== d.sampleMode) p.set("samples", s.sampleMode);
  if (s.sample !== d.sample) p.set("sample", String(s.sample));
  if (s.scale !== d.scale) p.set("scale", s.scale);
  if (s.scale === "manual") {
    p.set("min", String(s.min));
    p.set("max", String(s.max));
  }
  if (s.reflect) p.set("reflect", "1");
  if (s.transpose) p.set("transpose", "1");
  if (s.yaxis !== d.yaxis) p.set("yaxis", s.yaxis);
  if (s.views.join(",") !== d.views.join(",")) p.set("views", s.views.join(","));
  if (s.runFilter) p.set("runFilter", s.runFilter);
  if (s.compare) p.set("compare", "1");
  if (s.sort !== d.sort) p.set("sort", s.sort);
  if (s.order !== SORT_KEYS[s.sort]) p.set("order", s.order);
  return p.toString();
}

/**
 * Parses a hash; anything missing or invalid falls back to the default.
 * @param {string} hash location.hash, with or without the leading "#".
 * @returns {State}
 */
export function decodeState(hash) {
  const s = defaultState();
  const p = new URLSearchParams(String(hash || "").replace(/^#/, ""));
  s.runs = p.getAll("run").filter((r) => r.length > 0);
  s.noRun = s.runs.length === 0 && p.get("norun") === "1";
  s.tag = p.get("tag") || "";
  const quantity = p.get("quantity");
  if (quantity) s.quantity = quantity;
  s.step = intOr(p.get("step"), null);
  const mark = intOr(p.get("mark"), null);
  s.mark = mark !== null && mark >= 0 ? mark : null;
  s.sampleMode = oneOf(p.get("samples"), SAMPLE_MODES, s.sampleMode);
  s.sample = Math.max(0, intOr(p.get("sample"), 0));
  s.scale = oneOf(p.get("scale"), SCALE_MODES, s.scale);
  s.min = numberOr(p.get("min"), s.min);
  s.max = numberOr(p.get("max"), s.max);
  s.reflect = p.get("reflect") === "1";
  s.transpose = p.get("transpose") === "1";
  s.yaxis = oneOf(p.get("yaxis"), Y_MODES, s.yaxis);
  if (p.has("views")) {
    s.views = (p.get("views") ?? "").split(",").filter((v) => VIEWS.includes(v));
  }
  s.runFilter = p.get("runFilter") || "";
  s.compare = p.get("compare") === "1";
  s.sort = oneOf(p.get("sort"), Object.keys(SORT_KEYS), s.sort);
  s.order = oneOf(p.get("order"), SORT_ORDERS, SORT_KEYS[s.sort]);
  return s;
}

/**
 * @template F
 * @param {string|null} text An integer, as text.
 * @param {F} fallback Value when `text` is not one.
 * @returns {number|F}
 */
function intOr(text, fallback) {
  if (text === null || !/^-?\d+$/.test(text)) return fallback;
  return Number(text);
}

/**
 * @param {string|null} text A finite number, as text.
 * @param {number} fallback Value when `text` is not one.
 * @returns {number}
 */
function numberOr(text, fallback) {
  if (text === null || text.trim() === "") return fallback;
  const n = Number(text);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * @template {string} T
 * @param {string|null} text Value read.
 * @param {readonly T[]} allowed Values allowed.
 * @param {T} fallback Value when `text` is not allowed.
 * @returns {T}
 */
function oneOf(text, allowed, fallback) {
  return /** @type {readonly (string|null)[]} */ (allowed).includes(text) ? /** @type {T} */ (text) : fallback;
}

/**
 * The state as TensorBoard's address carries a plugin's data: one value per key
 * (`p.rnngrad.<key>`), so the runs are one JSON list under "runs".
 * @param {State} s State.
 * @returns {Object<string, string>} Key to value; defaults are left out.
 */
export function stateToUrlData(s) {
  const p = new URLSearchParams(encodeState(s));
  /** @type {Record<string, string>} */
  const out = {};
  if (s.runs.length > 0 || s.noRun) out.runs = JSON.stringify(s.runs);
  for (const [k, v] of p) if (k !== "run" && k !== "norun") out[k] = v;
  return out;
}

/**
 * Reads the form of stateToUrlData; anything missing or invalid falls back to the
 * default.
 * @param {Object<string, string>} data Key to value.
 * @returns {State}
 */
export function stateFromUrlData(data) {
  const p = new URLSearchParams();
  const runs = runList(data.runs);
  for (const r of runs) p.append("run", r);
  if (runs.length === 0 && isEmptyList(data.runs)) p.set("norun", "1");
  for (const [k, v] of Object.entries(data || {})) {
    if (!["runs", "run", "norun"].includes(k) && typeof v === "string") p.set(k, v);
  }
  return decodeState(p.toString());
}

/**
 * Whether `text` is the JSON of an empty list (every run unchecked).
 * @param {string} text JSON.
 * @returns {boolean}
 */
function isEmptyList(text) {
  try {
    const list = JSON.parse(text);
    return Array.isArray(list) && list.length === 0;
  } catch {
    return false;
  }
}

/**
 * @param {string} text JSON of a list of runs.
 * @returns {string[]} Its strings ([] when it is not a list).
 */
function runList(text) {
  try {
    const list = JSON.parse(text);
    return Array.isArray(list) ? list.filter((r) => typeof r === "string") : [];
  } catch {
    return [];
  }
}
