/**
 * Human-readable names for what a series holds. Pure: no DOM.
 * @module labels
 */
/** @import { TagMeta } from "./api.js" */
import { callsSummary } from "./calls.js";

/**
 * What each kind of series holds: the quantity selector's name (the label of
 * tb_rnngrad/format/quantities.py, which the matplotlib views and the command line
 * use), the panel's label, one line on how to read the tensor views and one on the
 * flow view, and the name of its reach; `profile: false` for a kind without a
 * per-timestep profile.
 * @type {Record<string, {quantity: string, label: string, read: string, flow: string,
 *   reach: string, profile?: boolean}>}
 */
const KINDS = {
  gradients: {
    quantity: "d loss / d output (later layers)",
    label: "d loss / d layer output (paths through later layers only)",
    read:
      "d loss / d layer output through the later layers only: read right to left; " +
      "where it fades, the layers after this one stop carrying gradient back.",
    flow:
      "Per-timestep norm of d loss / d layer output, one row per logged step: " +
      "how far back the later layers carry gradient as training goes on.",
    reach: "reach",
  },
  state_gradients: {
    quantity: "d loss / d state (through time)",
    label: "total d loss / d h_t (through the layer's own recurrence)",
    read:
      "Total d loss / d h_t through the layer's own recurrence: read right to left; " +
      "where it fades is the layer's gradient horizon.",
    flow:
      "Per-timestep norm of the total d loss / d h_t, one row per logged step: " +
      "a horizon that grows with training means the layer learns longer dependencies.",
    reach: "gradient horizon",
  },
  cell_state_gradients: {
    quantity: "d loss / d cell state",
    label: "total d loss / d c_t (the LSTM's cell state, through its recurrence)",
    read:
      "Total d loss / d c_t along the LSTM's cell state: read right to left; " +
      "where it fades is the cell state's gradient horizon.",
    flow:
      "Per-timestep norm of the total d loss / d c_t, one row per logged step: " +
      "a horizon that grows with training means the cell state carries gradient further.",
    reach: "gradient horizon",
  },
  weight_contributions: {
    quantity: "weight update by timestep",
    label: "each timestep's share of the weight update (per weight and gate)",
    read:
      "Norm of each timestep's term of each weight's gradient, per gate: read right " +
      "to left; timesteps that stay white no longer shape that weight.",
    flow:
      "Each timestep's total share of the weight update, one row per logged step: " +
      "whether early timesteps still shape the weights as training goes on.",
    reach: "reach",
  },
  activations: {
    quantity: "activations",
    label: "activations",
    read:
      "The layer's output at each timestep and channel (not a gradient): look for " +
      "channels stuck at one value or saturated.",
    flow: "Per-timestep norm of the layer's output, one row per logged step.",
    reach: "reach",
  },
  input_gradients: {
    quantity: "d loss / d model input (whole network)",
    label: "d loss / d model input (whole network)",
    read:
      "d loss / d model input through the whole network: read right to left; where " +
      "it fades, the model no longer looks back.",
    flow:
      "Per-timestep norm of d loss / d model input, one row per logged step: how " +
      "far back the whole network reaches as training goes on.",
    reach: "reach",
  },
  gate_activations: {
    quantity: "gate saturation (units near 0 / near 1)",
    label: "fraction of each sigmoid gate's units near 0 (closed) and near 1 (open)",
    read:
      "Share of each gate's units near 0 or 1 at each timestep: a forget gate near 0 " +
      "at most timesteps erases the LSTM's memory every step.",
    flow:
      "Per-timestep norm of the near-0 and near-1 fractions over the gates, one row " +
      "per logged step: where it rises, more gates saturate.",
    reach: "reach",
  },
  weights: {
    quantity: "weights, gate by gate",
    label: "a weight matrix (rows x columns; columns in equal gate blocks)",
    read:
      "The weight at this step, one heatmap per gate (rows: inputs or units, " +
      "columns: the gate's units): look for a saturated or dead gate, or NaN in one.",
    flow: "A weight matrix has no time axis: see its per-gate scalars and histograms.",
    reach: "reach",
    profile: false,
  },
  weight_gradients: {
    quantity: "d loss / d weight, gate by gate",
    label: "d loss / d weight matrix (columns in equal gate blocks)",
    read:
      "The weight's gradient at this step, one heatmap per gate: look for a gate " +
      "whose gradient is all zero (white) or not finite.",
    flow: "A weight gradient has no time axis: see its per-gate scalars and histograms.",
    reach: "reach",
    profile: false,
  },
};

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
