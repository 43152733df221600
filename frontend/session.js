/**
 * The page's session: the runs and tags the server lists, the UI state, the steps
 * of the series shown and a step move not yet drawn. Pure: no DOM; app.js keeps the
 * address in step with the state and draws it.
 * @module session
 */
/** @import { TagMeta } from "./api.js" */
import { choices, firstTag, groupLayers, groupOf, seriesOf, tagFor } from "./quantities.js";
import { indexOfStep, stepToward, unionSteps } from "./steps.js";
import { canReflect } from "./tensor_ops.js";
import { isWeights } from "./weights.js";
import { isMatrix } from "./gates.js";
import { absentText } from "./labels.js";
import { matchingRuns } from "./run_filter.js";

/**
 * The session; see the methods below.
 * @param {import("./state.js").State} initial State to start from (e.g. the
 *   address's).
 */
export function createSession(initial) {
  let state = structuredClone(initial);
  /** @type {Record<string, Record<string, TagMeta>>} */
  let tags = {};
  /** @type {string[]} */
  let runs = [];
  /** Every tag of the runs (quantities.js Series) and their layers. */
  let series = /** @type {import("./quantities.js").Series[]} */ ([]);
  let groups = /** @type {import("./quantities.js").LayerGroup[]} */ ([]);
  /** Union of the steps of the runs shown at the last pass, and the slider's index. */
  let steps = /** @type {number[]} */ ([]);
  let stepIndex = 0;
  /** Direction (-1, 0, 1) of a step move not yet drawn (see noteSteps). */
  let moved = 0;
  /** Whether the last pass could not load something (the next reload retries). */
  let failed = false;

  /**
   * Drops unknown runs and tags from the state and fills in defaults: a tag no run
   * has becomes the first layer's with the quantity asked for; no run shown (and
   * none unchecked on purpose, state.noRun), the first run with the tag; else the
   * first run, and the first layer it can read, with its first quantity. The
   * quantity follows the tag.
   * @param {boolean} [every] When no run is shown: show every run that can read
   *   the tag (a page opened without runs in its address), not only the first.
   */
  function reconcile(every = false) {
    /** @typedef {import("./quantities.js").Entry} Entry */
    const known = (/** @type {string} */ tag) => series.some((s) => s.tag === tag);
    const wanted = (/** @type {Entry} */ e) => e.kind === state.quantity && !e.unreadable;
    state.runs = state.runs.filter((r) => runs.includes(r));
    if (!known(state.tag) && state.quantity) state.tag = firstTag(groups, wanted) || state.tag;
    const defaulted = state.runs.length === 0 && runs.length > 0 && !state.noRun;
    if (defaulted) state.runs = [runs.find((r) => tags[r][state.tag]) || runs[0]];
    if (!known(state.tag)) {
      const first = tags[state.runs[0]] || {};
      const readable = (/** @type {Entry} */ e) => Boolean(first[e.tag] && !first[e.tag].error);
      // A series over time first: a layer returning its last output only has none
      // in its output gradient, but its state gradients show the reach.
      const timed = (/** @type {Entry} */ e) => readable(e) && first[e.tag].shape?.length === 3;
      state.tag =
        firstTag(groups, timed) ||
        firstTag(groups, readable) ||
        Object.keys(first).sort()[0] ||
        "";
    }
    if (defaulted && every) {
      const has = (/** @type {string} */ r) => Boolean(tags[r][state.tag] && !tags[r][state.tag].error);
      if (runs.some(has)) state.runs = runs.filter(has);
    }
    const kind = series.find((s) => s.tag === state.tag)?.meta?.kind;
    if (kind) state.quantity = kind;
  }

  return {
    /** @returns {import("./state.js").State} Copy of the state. */
    state: () => structuredClone(state),
    /** @returns {string[]} Runs with at least one tag, sorted. */
    runs: () => runs.slice(),
    /** @returns {number[]} Union of the shown runs' steps (at the last pass). */
    steps: () => steps.slice(),
    /** @returns {{index: number, count: number}} Slider position and length. */
    position: () => ({ index: stepIndex, count: steps.length }),

    /**
     * Takes the server's runs and tags ({run: {tag: metadata}}) and reconciles.
     * @param {Record<string, Record<string, TagMeta>>} listing The tags route's answer.
     */
    setTags(listing) {
      tags = listing;
      runs = Object.keys(tags)
        .filter((r) => tags[r] && Object.keys(tags[r]).length > 0)
        .sort();
      series = seriesOf(tags, runs);
      groups = groupLayers(series);
      reconcile(true);
    },

    /**
     * Replaces the state (e.g. the address changed) and reconciles it.
     * @param {import("./state.js").State} next New state.
     */
    replace(next) {
      state = structuredClone(next);
      moved = 0;
      reconcile(true);
    },

    /**
     * Applies a change from the controls, the keyboard, the flow view or playback.
     * @param {Partial<import("./state.js").State> & {stepIndex?: number, stepBy?: number}} patch
     *   Partial state, or {stepIndex} / {stepBy} (moves on the
     *   slider of the last pass). A quantity without a tag picks the tag of that
     *   quantity of the layer shown.
     * @returns {boolean} Whether the state changed (false: a step move without steps).
     */
    apply(patch) {
      if ("stepIndex" in patch || "stepBy" in patch) {
        if (steps.length === 0) return false;
        const current = indexOfStep(steps, state.step); // not yet drawn, maybe
        const i = "stepIndex" in patch
          ? /** @type {number} */ (patch.stepIndex)
          : current + /** @type {number} */ (patch.stepBy);
        state.step = steps[Math.max(0, Math.min(steps.length - 1, i))];
        moved = Math.sign(i - current);
        return true;
      }
      moved = 0;
      Object.assign(state, structuredClone(patch));
      if (("tag" in patch || "quantity" in patch) && !("mark" in patch)) state.mark = null;
      if ("runs" in patch) state.noRun = state.runs.length === 0; // unchecked them all
      if ("quantity" in patch && !("tag" in patch)) {
        const layer = groupOf(groups, state.tag);
        if (layer) state.tag = tagFor(layer, patch.quantity);
      }
      if ("runs" in patch || "tag" in patch || "quantity" in patch) reconcile();
      return true;
    },

    /**
     * The start of a pass: what it draws.
     * @returns {{st: import("./state.js").State, shown: string[],
     *   metas: Array<TagMeta|null>}} Copy of the state; the runs shown (selected and
     *   matched by the run filter, as TensorBoard's charts show them); each shown
     *   run's metadata of the tag (null: no such tag).
     */
    begin() {
      const st = structuredClone(state);
      failed = false;
      const shown = matchingRuns(st.runs, st.runFilter);
      return { st, shown, metas: shown.map((r) => (tags[r] || {})[st.tag] || null) };
    },

    /**
     * Notes the steps the runs of a pass have. A step move onto a step found gone
     * meanwhile goes on to the next step kept in its direction.
     * @param {import("./state.js").State} st The pass's state (its step may change).
     * @param {Array<number[]|Error>} runSteps Each run's steps.
     * @returns {boolean} Whether the state's step changed.
     */
    noteSteps(st, runSteps) {
      steps = unionSteps(runSteps.filter(Array.isArray));
      let changed = false;
      if (moved !== 0 && st.step !== null && steps.length > 0 && !steps.includes(st.step)) {
        st.step = state.step = stepToward(steps, st.step, moved);
        changed = true;
      }
      stepIndex = indexOfStep(steps, st.step);
      return changed;
    },

    /** Notes that the pass drew its step: from now on it is the step chosen. */
    drawn() {
      moved = 0;
    },

    /** Notes that a request of this pass failed: the next reload draws again. */
    noteFailure() {
      failed = true;
    },

    /** @returns {boolean} Whether the last pass could not load something. */
    failed: () => failed,

    /**
     * Why `run` shows nothing for `tag`, which it does not have (labels.absentText).
     * @param {string} run Run.
     * @param {string} tag Tag.
     * @returns {string}
     */
    absence(run, tag) {
      const entries = groupOf(groups, tag)?.entries || [];
      const kind = entries.find((e) => e.tag === tag)?.kind ?? null;
      const sibling = entries
        .map((e) => tags[run]?.[e.tag])
        .find((m) => m !== undefined && !m.error);
      return absentText(run, tag, kind, sibling ?? null);
    },

    /**
     * @param {string} tag A tag.
     * @param {string} kind A quantity (series kind).
     * @returns {string|null} The tag of that quantity of the tag's layer, if logged.
     */
    siblingTag(tag, kind) {
      const entry = groupOf(groups, tag)?.entries.find((e) => e.kind === kind);
      return entry ? entry.tag : null;
    },

    /**
     * @returns {string[]} The shown runs whose series of the tag can be read (whose
     *   steps a reload fetches again).
     */
    readableRuns() {
      const shown = matchingRuns(state.runs, state.runFilter);
      return shown.filter((r) => tags[r]?.[state.tag] && !tags[r][state.tag].error);
    },

    /**
     * The controls' model for a pass.
     * @param {import("./state.js").State} st The pass's state.
     * @param {Array<TagMeta|null>} metas From begin().
     * @param {boolean} playing Whether playback runs.
     * @returns {import("./controls.js").ControlsModel}
     */
    controls(st, metas, playing) {
      const sampled = metas.filter(
        /** @returns {m is TagMeta} */ (m) => m !== null && m !== undefined && Array.isArray(m.shape) && !isWeights(m),
      );
      return {
        runs,
        ...choices(groups, st.tag, st.quantity),
        state: st,
        steps,
        stepIndex,
        batch: Math.max(1, ...sampled.map((m) => m.shape[0])),
        hasBatch: !(metas.length > 0 && metas.every(isWeights)),
        canReflect: metas.some((m) => canReflect(m)),
        matrix: metas.length > 0 && metas.every((m) => m && isMatrix(m.kind)),
        playing,
      };
    },
  };
}
