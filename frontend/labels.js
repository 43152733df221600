/**
 * Human-readable names for what a series holds. Pure: no DOM.
 * @module labels
 */

const KIND_LABELS = {
  gradients: "d loss / d layer output (paths through later layers only)",
  input_gradients: "d loss / d model input (whole network)",
  activations: "activations",
};

/**
 * @param {string} kind Series kind from the tags route.
 * @returns {string} What the view shows, e.g. "d loss / d model input (whole network)".
 */
export function kindLabel(kind) {
  return KIND_LABELS[kind] || `values of unknown kind "${kind || ""}"`;
}

/**
 * One-line description of the layer behind a series.
 * @param {object} meta Tag metadata.
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
  return parts.join(" · ");
}

/**
 * Name of a channel, marking the halves of a bidirectional concat layer.
 * @param {number} c Channel index.
 * @param {object} meta Tag metadata.
 * @returns {string} E.g. "ch 3", "ch 35 (bwd 3)".
 */
export function channelLabel(c, meta) {
  if (meta && meta.bidirectional && meta.merge_mode === "concat" && meta.units > 0) {
    return c < meta.units ? `ch ${c} (fwd ${c})` : `ch ${c} (bwd ${c - meta.units})`;
  }
  return `ch ${c}`;
}
