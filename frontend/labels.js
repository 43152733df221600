/**
 * Human-readable names for what a series holds. Pure: no DOM.
 * @module labels
 */
/** @import { TagMeta } from "./api.js" */
import { callsSummary } from "./calls.js";
import spec from "./quantities.json" with { type: "json" };

/**
 * What each kind of series holds, from quantities.json (which
 * tb_rnngrad/format/quantities.py reads too, for the matplotlib views and the command
 * line): the quantity selector's name, the panel's label, one line on how to read
 * the tensor views and one on the flow view, the name of its reach ("gradient
 * horizon" for the state kinds), and `profile: false` for a kind without a
 * per-timestep profile.
 * @type {Record<string, {quantity: string, label: string, read: string, flow: string,
 *   reach: string, profile?: boolean}>}
 */
const KINDS = Object.fromEntries(
  Object.entries(spec.kinds).map(([kind, k]) => [
    kind,
    { ...k, reach: k.horizon ? "gradient horizon" : "reach" },
  ]),
);

/**
 * Whether series of `kind` have a per-timestep profile (weight matrices do not).
 * @param {string} kind The series' kind.
 * @returns {boolean}
 */
export function hasProfile(kind) {
  return KINDS[kind]?.profile !== false;
}

/** Kinds in the order the quantity selector lists them. */
export const QUANTITY_ORDER = Object.keys(KINDS);

/**
 * @param {string} kind Series kind from the tags route.
 * @returns {string} What the view shows, e.g. "d loss / d model input (whole network)".
 */
export function kindLabel(kind) {
  return KINDS[kind]?.label || unknownKind(kind);
}

/**
 * @param {string|null} kind Series kind (null: the series cannot be read).
 * @returns {string} Its name in the quantity selector, e.g. "d loss / d cell state".
 */
export function quantityLabel(kind) {
  if (kind === null) return "unknown (unreadable)";
  return KINDS[kind]?.quantity || unknownKind(kind);
}

/**
 * One line on what a view shows and how to read it.
 * @param {string} kind Series kind.
 * @param {"heatmap"|"grid"|"scatter"|"flow"|"weights"} view View.
 * @returns {string}
 */
export function readingLine(kind, view) {
  const k = KINDS[kind];
  if (view === "flow") {
    return k?.flow || `Per-timestep norm of ${unknownKind(kind)}, one row per logged step.`;
  }
  if (view === "scatter") {
    return (
      `${k?.label || unknownKind(kind)} per channel and sample, without a time axis ` +
      "(the layer returns its last output only)."
    );
  }
  return k?.read || `${unknownKind(kind)}: read right to left.`;
}

/**
 * The reading line of data without a time axis (a layer that returns its last
 * output only), pointing at where backpropagation through time can be seen.
 * @param {string|null} [stateTag] The tag of the layer's state gradients, if logged.
 * @returns {string}
 */
export function noTimeLine(stateTag = null) {
  const head =
    "This layer's output has no time axis (it returns its last output only): one " +
    "norm per logged step. ";
  if (stateTag) {
    return (
      `${head}See the state gradients (quantity "${KINDS.state_gradients.quantity}", ` +
      `tag ${stateTag}) for backpropagation through time inside the layer.`
    );
  }
  return (
    `${head}Log its state gradients (kinds=(..., "state_gradients")) to see ` +
    "backpropagation through time inside the layer."
  );
}

/**
 * @param {string} kind Series kind.
 * @returns {string} Name of its reach: "gradient horizon" for the state gradients
 *   (how far back gradient survives inside the layer's recurrence), else "reach".
 */
export function reachName(kind) {
  return KINDS[kind]?.reach || "reach";
}

/** @param {string|null|undefined} kind A kind without a table entry. @returns {string} */
function unknownKind(kind) {
  return `values of unknown kind "${kind || ""}"`;
}

/**
 * One-line description of the layer behind a series.
 * @param {TagMeta} meta Tag metadata.
 * @returns {string} E.g. "lstm_1 · LSTM · 32 units · bidirectional (concat)".
 */
export function layerSummary(meta) {
  const parts = [];
  if (meta.layer_name) parts.push(meta.layer_name);
  if (meta.layer_class) parts.push(meta.layer_class);
  if (meta.units) parts.push(`${meta.units} units`);
  if (meta.bidirectional) parts.push(`bidirectional (${meta.merge_mode || "none"})`);
  if (meta.direction) parts.push(`${meta.direction} direction`);
  if (Array.isArray(meta.shape)) parts.push(`shape (${meta.shape.join(", ")})`);
  if (meta.dtype) parts.push(meta.dtype);
  const calls = callsSummary(meta);
  if (calls) parts.push(calls);
  return parts.join(" · ");
}

/**
 * The panel's line on a reduced series: what is stored of what was captured (the
 * server's note, e.g. "4 of 16 samples, 512 of 1,024 channels with the largest
 * norm, timesteps pooled 4:1 by largest |g|, float16").
 * @param {TagMeta} meta Tag metadata.
 * @returns {string} "Stored: …", or "" for a series stored as captured.
 */
export function storedLine(meta) {
  const note = meta && meta.reduction && meta.reduction.note;
  return typeof note === "string" && note ? `Stored: ${note}` : "";
}

/**
 * Name of a channel, marking the halves of a bidirectional concat layer.
 * @param {number} c Channel index.
 * @param {TagMeta} meta Tag metadata.
 * @returns {string} E.g. "ch 3", "ch 35 (bwd 3)".
 */
export function channelLabel(c, meta) {
  if (meta && meta.bidirectional && meta.merge_mode === "concat" && meta.units > 0) {
    return c < meta.units ? `ch ${c} (fwd ${c})` : `ch ${c} (bwd ${c - meta.units})`;
  }
  return `ch ${c}`;
}

/** Layer classes without a cell state, or without gates. */
const NO_CELL_STATE = new Set(["GRU", "GRUCell", "SimpleRNN", "SimpleRNNCell", "RNN", "RNNCell"]);
const NO_GATES = new Set(["SimpleRNN", "SimpleRNNCell", "RNN", "RNNCell"]);

/**
 * Why a run shows nothing for the chosen series: a note, not an error.
 * @param {string} run Run.
 * @param {string} tag The chosen tag, which the run does not have.
 * @param {string|null} kind The chosen series' kind (null: unknown).
 * @param {TagMeta|null} sibling Another series of the same layer in this run (null:
 *   the run has none).
 * @returns {string} E.g. 'SimpleRNN has no cell state: run "a" logs no "d loss / d
 *   cell state".'
 */
export function absentText(run, tag, kind, sibling) {
  if (!sibling || !kind) return `Run "${run}" has no tag "${tag}".`;
  const cls = sibling.layer_class || "This layer";
  const what = `run "${run}" logs no "${quantityLabel(kind)}"`;
  if (kind === "cell_state_gradients" && NO_CELL_STATE.has(cls)) {
    return `${cls} has no cell state: ${what}.`;
  }
  if (kind === "gate_activations" && NO_GATES.has(cls)) return `${cls} has no gates: ${what}.`;
  return `Run "${run}" did not log "${quantityLabel(kind)}" for this ${cls} layer.`;
}
