/**
 * Layers and quantities: the series the server lists, grouped by the layer they
 * belong to, so that a layer and a quantity (d loss / d output, d loss / d state,
 * ...) pick one tag. Pure: no DOM.
 *
 * A series' layer key is, in this order:
 * 1. the tag without the prefix (and suffix) the Keras callback gives its kind:
 *    `gradients/<key>`, `state_gradients/<key>`, `state_gradients/<key>/cell`,
 *    `weight_contributions/<key>`, `gate_activations/<key>`, `activations/<key>`,
 *    `input_gradients/<key>`
 *    (keys of nested layers, `outer/layer`, and Bidirectional halves,
 *    `layer/forward`, stay whole);
 * 2. else the metadata's layer name, with `/<direction>` for one half of a
 *    Bidirectional layer (what the summary ops record with `layer=`);
 * 3. else none: the series is a group of its own, named by its tag.
 * A group holds one series per quantity: a second series of the same layer and
 * quantity is a group of its own too, so every tag can be picked.
 * @module quantities
 */
/** @import { TagMeta } from "./api.js" */
import { QUANTITY_ORDER } from "./labels.js";

/** The tag the Keras callback writes each kind under: [prefix, suffix] of the key. */
/** @type {Record<string, [string, string]>} */
const CALLBACK_TAGS = {
  gradients: ["gradients/", ""],
  state_gradients: ["state_gradients/", ""],
  cell_state_gradients: ["state_gradients/", "/cell"],
  weight_contributions: ["weight_contributions/", ""],
  gate_activations: ["gate_activations/", ""],
  activations: ["activations/", ""],
  input_gradients: ["input_gradients/", ""],
};

/**
 * @typedef {object} Series
 * @property {string} tag Tag.
 * @property {TagMeta|null} meta Its metadata in a run that can read it (null: none).
 * @property {boolean} unreadable Whether some run cannot read it.
 */

/**
 * @typedef {object} Entry
 * @property {string|null} kind Quantity (null: the series cannot be read).
 * @property {string} tag Tag.
 * @property {boolean} unreadable Whether some run cannot read it.
 */

/**
 * @typedef {object} LayerGroup
 * @property {string} label Layer key, or the tag of a group of its own.
 * @property {Entry[]} entries One per quantity, in QUANTITY_ORDER (unknown kinds
 *   and unreadable series last).
 */

/**
 * Every tag of the runs, once, with metadata from a run that can read it.
 * @param {Record<string, Record<string, TagMeta>>} listing The tags route's answer,
 *   {run: {tag: metadata}}.
 * @param {string[]} runs Runs to take tags from.
 * @returns {Series[]} Sorted by tag.
 */
export function seriesOf(listing, runs) {
  /** @type {Map<string, Series>} */
  const all = new Map();
  for (const r of runs) {
    for (const [tag, meta] of Object.entries(listing[r] || {})) {
      const s = all.get(tag) || { tag, meta: null, unreadable: false };
      if (meta && !meta.error) s.meta = s.meta || meta;
      else s.unreadable = true;
      all.set(tag, s);
    }
  }
  return [...all.values()].sort((a, b) => compare(a.tag, b.tag));
}

/**
 * @param {string} tag Tag.
 * @param {TagMeta} meta Its metadata.
 * @returns {string|null} The layer key (see the module's doc), or null.
 */
export function layerKey(tag, meta) {
  const form = CALLBACK_TAGS[meta.kind];
  if (form) {
    const [prefix, suffix] = form;
    const key = tag.slice(prefix.length, tag.length - suffix.length);
    if (tag.startsWith(prefix) && tag.endsWith(suffix) && key.length > 0) return key;
  }
  if (meta.layer_name) {
    return meta.direction ? `${meta.layer_name}/${meta.direction}` : meta.layer_name;
  }
  return null;
}

/**
 * Groups series by layer.
 * @param {Series[]} series From seriesOf.
 * @returns {LayerGroup[]} Sorted by label.
 */
export function groupLayers(series) {
  /** @type {Map<string, LayerGroup>} */
  const groups = new Map();
  for (const s of series) {
    const kind = s.meta ? s.meta.kind : null;
    const key = s.meta ? layerKey(s.tag, s.meta) : null;
    let id = key === null ? `tag:${s.tag}` : `layer:${key}`;
    if (groups.get(id)?.entries.some((e) => e.kind === kind)) id = `tag:${s.tag}`;
    let group = groups.get(id);
    if (!group) {
      group = { label: id.startsWith("tag:") || key === null ? s.tag : key, entries: [] };
      groups.set(id, group);
    }
    group.entries.push({ kind, tag: s.tag, unreadable: s.unreadable });
  }
  const list = [...groups.values()];
  for (const g of list) g.entries.sort((a, b) => rank(a.kind) - rank(b.kind));
  return list.sort((a, b) => compare(a.label, b.label));
}

/**
 * @param {LayerGroup[]} groups Groups.
 * @param {string} tag Tag.
 * @returns {LayerGroup|null} The group holding the tag.
 */
export function groupOf(groups, tag) {
  return groups.find((g) => g.entries.some((e) => e.tag === tag)) || null;
}

/**
 * The tag a layer shows for a quantity: the quantity's, else its first readable
 * quantity's (else its first).
 * @param {LayerGroup} group Layer.
 * @param {string|undefined} quantity Quantity wanted.
 * @returns {string} Tag.
 */
export function tagFor(group, quantity) {
  const e =
    group.entries.find((x) => x.kind === quantity && quantity !== null) ||
    group.entries.find((x) => !x.unreadable) ||
    group.entries[0];
  return e.tag;
}

/**
 * The first series, layer by layer and quantity by quantity, that passes a test.
 * @param {LayerGroup[]} groups Groups.
 * @param {(e: Entry) => boolean} test Test.
 * @returns {string|null} Its tag, or null when none passes.
 */
export function firstTag(groups, test) {
  for (const g of groups) {
    const e = g.entries.find(test);
    if (e) return e.tag;
  }
  return null;
}

/**
 * The choices of the layer and quantity selectors.
 * @param {LayerGroup[]} groups Groups.
 * @param {string} tag Tag shown.
 * @param {string|undefined} quantity Quantity shown.
 * @returns {{layers: Array<{label: string, tag: string, unreadable: boolean}>,
 *   quantities: Entry[]}} Each layer with the tag picking it shows (its series of
 *   `quantity` when it has one); the quantities of the layer shown.
 */
export function choices(groups, tag, quantity) {
  const layers = groups.map((g) => {
    const t = tagFor(g, quantity);
    return { label: g.label, tag: t, unreadable: Boolean(g.entries.find((e) => e.tag === t)?.unreadable) };
  });
  const shown = groupOf(groups, tag);
  return { layers, quantities: shown ? shown.entries.map((e) => ({ ...e })) : [] };
}

/** @param {string|null} kind Kind. @returns {number} Its place in QUANTITY_ORDER. */
function rank(kind) {
  const i = kind === null ? -1 : QUANTITY_ORDER.indexOf(kind);
  if (i >= 0) return i;
  return kind === null ? QUANTITY_ORDER.length + 1 : QUANTITY_ORDER.length;
}

/** @param {string} a @param {string} b @returns {number} Sort order. */
function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
