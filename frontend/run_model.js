/**
 * What one run's panel shows for a UI state: a message, or the data of its views
 * (the tensor prepared for drawing, its colour scale, the profile), loaded through
 * the loader; and which tensors to fetch ahead. Pure: no DOM.
 * @module run_model
 */
/** @import { TagMeta } from "./api.js" */
import { ApiError } from "./api.js";
import { createFixedRanges, fixedScaleNote } from "./fixed_scale.js";
import { SAMPLE_FETCH_ELEMENTS } from "./loader.js";
import { hasProfile } from "./labels.js";
import { makeScale, symmetricScale } from "./normalize.js";
import { missingSample, prepare } from "./prepare.js";
import { stepAtOrBefore } from "./steps.js";
import { isMatrix } from "./gates.js";
import { createWeightModels } from "./weight_model.js";
import { isGateActivations, isWeights } from "./weights.js";

/**
 * A run model: a message instead of the views (RunMessage) or the views
 * (RunViews); `message` tells which (null: the views).
 * @typedef {RunMessage|RunViews} RunModel
 */

/**
 * @typedef {object} RunMessage
 * @property {TagMeta|null} meta The tag's metadata (null: the run has no such tag).
 * @property {string} message Why the run shows no view.
 * @property {boolean} failed Whether a request failed (network, HTTP): the next
 *   reload of the listings draws again, which retries it.
 * @property {boolean} [neutral] A note, not an error: the run has no such series
 *   (e.g. "SimpleRNN has no cell state").
 */

/**
 * @typedef {object} RunViews
 * @property {TagMeta} meta The tag's metadata.
 * @property {null} message No message: the views are shown.
 * @property {number} step Step shown.
 * @property {import("./prepare.js").Prepared|null} prep The tensor views' data
 *   (null: they cannot be drawn; `messages` says why).
 * @property {import("./normalize.js").Scale|null} scale Colour scale of `prep`.
 * @property {string} note Extra text for the step line.
 * @property {import("./api.js").Profile|null} profile The profile (null: it could
 *   not be loaded).
 * @property {string[]} messages Errors shown above the views that are drawn.
 * @property {import("./weight_model.js").WeightsView|null} [weights] The Weights
 *   view's data, for weight-matrix series (null: it could not be loaded).
 * @property {boolean} failed As in RunMessage.
 */

/**
 * @param {import("./loader.js").Loader} loader Loader.
 * @returns {{model: Function, prefetch: Function}}
 */
export function createRunModels(loader) {
  const fixedRanges = createFixedRanges(loader.wallTime);
  const weightModels = createWeightModels(loader);

  /**
   * @param {string} run Run.
   * @param {TagMeta|null} meta The tag's metadata in that run.
   * @param {number[]|Error} runSteps The run's steps, or why they could not be loaded.
   * @param {number|null} wanted The slider's step (the run shows its latest step at
   *   or before it).
   * @param {import("./state.js").State} st UI state.
   * @param {string} [absent] Why the run has no such series, when `meta` is null
   *   (session.absence).
   * @returns {Promise<RunModel|null>} null when the run's steps changed meanwhile (a
   *   step was evicted): a new pass shows the steps still kept.
   */
  async function model(run, meta, runSteps, wanted, st, absent) {
    if (!meta) {
      const text = absent || `Run "${run}" has no tag "${st.tag}".`;
      return { meta: null, message: text, failed: false, neutral: true };
    }
    if (meta.error) {
      const series = `The series "${st.tag}" of run "${run}"`;
      return message(meta, `${series} could not be read: ${meta.error}`);
    }
    if (runSteps instanceof Error) return message(meta, runSteps.message, isLoadFailure(runSteps));
    const step = stepAtOrBefore(runSteps, wanted ?? Infinity); // null: the latest
    if (step === null) return message(meta, `Run "${run}" has no logged step of "${st.tag}".`);
    if (isMatrix(meta.kind)) return weightsModel(run, meta, runSteps, step, st);
    const profileP = hasProfile(meta.kind)
      ? loader.profile(run, st.tag).catch((e) => e)
      : Promise.resolve(null);
    let view;
    let failed = false;
    try {
      view = await tensorView(run, meta, runSteps, step, st);
    } catch (e) {
      if (e.status === 404 && (await stepsChanged(run, st.tag))) return null; // evicted
      failed = isLoadFailure(e);
      view = { prep: null, scale: null, note: "", error: e.message };
    }
    if (view === null) return null;
    const profile = await profileP;
    const noProfile = profile instanceof Error;
    return {
      meta,
      message: null,
      step,
      prep: view.prep,
      scale: view.scale,
      note: view.note,
      profile: noProfile ? null : profile,
      messages: [view.error, noProfile ? profile.message : null].filter(Boolean),
      failed: failed || (noProfile && isLoadFailure(profile)),
    };
  }

  /**
   * The model of a weight-matrix series: the Weights view's data at `step`.
   * @param {string} run Run.
   * @param {TagMeta} meta The tag's metadata.
   * @param {number[]} runSteps Its steps.
   * @param {number} step Step shown.
   * @param {import("./state.js").State} st UI state.
   * @returns {Promise<RunViews|null>} null when the run's steps changed meanwhile.
   */
  async function weightsModel(run, meta, runSteps, step, st) {
    const shown = { meta, message: null, step, prep: null, scale: null, note: "", profile: null };
    try {
      const weights = await weightModels.view(run, st.tag, meta, runSteps, step);
      return { ...shown, weights, messages: [], failed: false };
    } catch (e) {
      if (e.status === 404 && (await stepsChanged(run, st.tag))) return null; // evicted
      return { ...shown, weights: null, messages: [e.message], failed: isLoadFailure(e) };
    }
  }

  /**
   * The tensor views' data at `step`: prepared values, colour scale and step-line
   * note, or the reason they cannot be drawn.
   * @param {string} run Run.
   * @param {TagMeta} meta The tag's metadata.
   * @param {number[]} runSteps Its steps.
   * @param {number} step Step shown.
   * @param {import("./state.js").State} st UI state.
   * @returns {Promise<{prep: import("./prepare.js").Prepared|null,
   *   scale: import("./normalize.js").Scale|null, note: string,
   *   error: string|null}|null>} null when the run's steps changed meanwhile.
   * @throws {Error} When the tensor cannot be loaded (status 404: no longer kept).
   */
  async function tensorView(run, meta, runSteps, step, st) {
    const missing = missingSample(run, batchOf(meta), st);
    if (missing) return { prep: null, scale: null, note: "", error: missing };
    const [entry, mask, kept] = await Promise.all([
      loader.tensor(run, st.tag, step, fetchSample(meta, st)),
      meta.has_mask ? loader.mask(run, st.tag, step) : null,
      meta.reduction ? loader.kept(run, st.tag, step) : null,
    ]);
    const batch = entry.sampleBase === null && !isWeights(meta) ? entry.dims.batch : null;
    const late = missingSample(run, batch, st); // the batch of this step, if unlisted
    if (late) return { prep: null, scale: null, note: "", error: late };
    const prep = { ...prepare(entry, mask, meta, st), kept };
    const fixed = st.scale === "fixed" ? await fixedRange(run, meta, runSteps, st) : null;
    if (fixed && fixed.gone.length > 0 && (await stepsChanged(run, st.tag))) return null;
    const scale = isGateActivations(meta)
      ? symmetricScale(1) // fractions of units: 0 white, 1 full colour, every step
      : makeScale(st.scale, {
          stepMaxAbs: prep.maxAbs,
          allStepsMaxAbs: fixed && fixed.covered > 0 ? fixed.maxAbs : undefined,
          min: st.min,
          max: st.max,
        });
    const note = fixed ? fixedScaleNote(fixed, runSteps.length) : "";
    return { prep, scale, note, error: null };
  }

  /**
   * max|g| of what is drawn over the run's listed steps (fetches each step once).
   * @param {string} run Run.
   * @param {TagMeta} meta The tag's metadata.
   * @param {number[]} runSteps Its steps.
   * @param {import("./state.js").State} st UI state.
   */
  function fixedRange(run, meta, runSteps, st) {
    const sample = fetchSample(meta, st);
    const view = [st.sampleMode, st.sampleMode === "one" ? st.sample : 0];
    return fixedRanges(run, st.tag, runSteps, view, async (s) => {
      const [entry, mask] = await Promise.all([
        loader.tensor(run, st.tag, s, sample),
        meta.has_mask ? loader.mask(run, st.tag, s) : null,
      ]);
      return prepare(entry, mask, meta, { ...st, reflect: false }).maxAbs;
    });
  }

  /**
   * Reloads a series' steps (after a 404); resolves whether they changed.
   * @param {string} run Run.
   * @param {string} tag Tag.
   * @returns {Promise<boolean>}
   */
  function stepsChanged(run, tag) {
    return loader.reloadSteps(run, tag).catch(() => false);
  }

  /**
   * Fetches ahead the tensors each run shows at step `next`.
   * @param {import("./state.js").State} st UI state.
   * @param {Array<TagMeta|null>} metas Each run's metadata of the tag.
   * @param {Array<number[]|Error>} runSteps Each run's steps.
   * @param {number} next The slider's next step.
   * @param {() => void} onStepsChanged Called when a 404 (evicted) changed a run's
   *   steps.
   */
  function prefetch(st, metas, runSteps, next, onStepsChanged) {
    st.runs.forEach((r, i) => {
      const meta = metas[i];
      if (!meta || meta.error || !Array.isArray(runSteps[i])) return;
      const s = stepAtOrBefore(runSteps[i], next);
      if (s === null || missingSample(r, batchOf(meta), st)) return; // nothing to fetch
      loader.tensor(r, st.tag, s, fetchSample(meta, st)).catch(async (e) => {
        if (e.status !== 404) return; // the draw of that step says what failed
        if (await stepsChanged(r, st.tag)) onStepsChanged();
      });
    });
  }

  return { model, prefetch };
}

/**
 * @param {TagMeta|null} meta The tag's metadata.
 * @param {string} text The message.
 * @param {boolean} [failed] Whether a request failed.
 * @returns {RunMessage} A model that shows `text` instead of the views.
 */
function message(meta, text, failed = false) {
  return { meta, message: text, failed };
}

/**
 * Whether `e` is a failed request (network, HTTP), which the next reload retries.
 * @param {unknown} e What was thrown.
 * @returns {boolean}
 */
function isLoadFailure(e) {
  return e instanceof ApiError;
}

/**
 * @param {TagMeta} meta The tag's metadata.
 * @returns {number|null} Batch size from the tag's metadata, or null if unknown or
 *   the series has no batch axis (weights).
 */
function batchOf(meta) {
  const known = Array.isArray(meta.shape) && meta.shape.length >= 2 && !isWeights(meta);
  return known ? meta.shape[0] : null;
}

/**
 * @param {TagMeta} meta The tag's metadata.
 * @param {{sampleMode: string, sample: number}} st UI state.
 * @returns {number|null} The one sample to fetch, when the tensor is too large.
 */
function fetchSample(meta, st) {
  const n = (meta.shape || []).reduce((/** @type {number} */ a, b) => a * b, 1);
  const one = st.sampleMode === "one" && !isWeights(meta);
  return one && n > SAMPLE_FETCH_ELEMENTS ? st.sample : null;
}
