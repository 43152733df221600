/**
 * The plugin page: wires state, controls, data loading and one panel per run.
 * @module app
 */
import { ApiError } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { emptyState } from "./empty.js";
import { readHash, writeHash } from "./hash.js";
import { createControls } from "./controls.js";
import { createFixedRanges, fixedScaleNote } from "./fixed_scale.js";
import { isDisplayed, keepFresh } from "./live.js";
import { createLoader, SAMPLE_FETCH_ELEMENTS } from "./loader.js";
import { makeScale } from "./normalize.js";
import { missingSample, prepare } from "./prepare.js";
import { reachPerStep } from "./reach.js";
import { createRunPanel } from "./run_panel.js";
import { indexOfStep, stepAtOrBefore, stepToward, unionSteps } from "./steps.js";
import { canReflect } from "./tensor_ops.js";

const PLAY_INTERVAL_MS = 400;

/**
 * @param {HTMLElement} root Element the page is built into.
 * @param {ReturnType<import("./api.js").createApi>} api API client.
 * @returns {object} App with start(), set(patch) and refresh() (both resolve once
 *   the page shows the state), steps(), state() and debug().
 */
export function createApp(root, api) {
  const loader = createLoader(api);
  let state = readHash();
  let tags = {};
  let runs = [];
  let steps = [];
  let stepIndex = 0;
  let playing = false;
  let timer = null;
  let running = null;
  let dirty = false;
  /** Direction (-1, 0, 1) of a step move not yet drawn (see renderOnce). */
  let moved = 0;
  /** Whether the last pass showed a load error (the next reload draws again). */
  let loadFailed = false;
  /** What `root` shows: null (loading), "error", "empty" or "page". */
  let shown = null;
  const fixedRanges = createFixedRanges(loader.wallTime);
  const panels = new Map();
  const controls = createControls((patch) => set(patch));
  const panelBox = el("div", { class: "rg-panels" });
  const status = el("div", { class: "rg-status", role: "status" });

  async function start() {
    replaceChildren(root, status);
    status.textContent = "Loading runs…";
    window.addEventListener("hashchange", () => {
      if (shown !== "page") return;
      state = readHash();
      moved = 0;
      reconcile();
      refresh();
    });
    document.addEventListener("keydown", onKey);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      if (!isDisplayed()) return; // another dashboard is shown: redraw when back
      resizeTimer = setTimeout(refresh, 150);
    });
    keepFresh(sync);
    try {
      applyTags(await loader.tags());
    } catch (e) {
      shown = "error";
      replaceChildren(root, el("div", { class: "rg-message", role: "alert", text: e.message }));
      return;
    }
    await show();
  }

  function applyTags(t) {
    tags = t;
    runs = Object.keys(tags)
      .filter((r) => tags[r] && Object.keys(tags[r]).length > 0)
      .sort();
  }

  /** Shows the empty state, or the page drawn for the current state. */
  function show() {
    if (runs.length === 0) {
      if (shown !== "empty") replaceChildren(root, emptyState());
      shown = "empty";
      return Promise.resolve();
    }
    if (shown !== "page") {
      status.textContent = "";
      replaceChildren(root, controls.element, status, panelBox);
      shown = "page";
    }
    reconcile();
    return refresh();
  }

  /**
   * Reloads the listings: runs and tags, then the steps of the series shown. Redraws
   * when any changed (new runs, new or evicted steps) or the last pass showed a load
   * error (it is retried); otherwise nothing is fetched again.
   */
  async function sync() {
    let changed = await loader.reloadTags();
    if (changed) applyTags(await loader.tags());
    if (shown === "page") {
      const tag = state.tag;
      const series = state.runs.filter((r) => tags[r]?.[tag] && !tags[r][tag].error);
      const reloads = series.map((r) => loader.reloadSteps(r, tag).catch(() => false));
      changed = (await Promise.all(reloads)).includes(true) || changed;
    }
    if (changed || loadFailed) await show();
  }

  /** Drops unknown runs/tags from the state and fills defaults. */
  function reconcile() {
    state.runs = state.runs.filter((r) => runs.includes(r));
    if (state.runs.length === 0) state.runs = [runs[0]];
    const names = tagNames();
    if (!names.some((t) => t.name === state.tag)) {
      const own = Object.keys(tags[state.runs[0]] || {}).sort();
      state.tag = own.find((t) => !tags[state.runs[0]][t].error) || own[0] || "";
    }
  }

  function tagNames() {
    const all = new Map();
    for (const r of runs) {
      for (const [t, meta] of Object.entries(tags[r])) {
        all.set(t, (all.get(t) || false) || Boolean(meta && meta.error));
      }
    }
    return [...all.keys()].sort().map((name) => ({ name, unreadable: all.get(name) }));
  }

  /**
   * Applies a change from the controls, the keyboard or the flow view.
   * @param {object} patch Partial state, or {stepIndex}, {stepBy}, {play}.
   * @returns {Promise<void>} Resolves when the page shows the new state.
   */
  function set(patch) {
    if ("play" in patch) {
      togglePlay(patch.play === "toggle" ? !playing : patch.play);
      return refresh();
    }
    if ("stepIndex" in patch || "stepBy" in patch) {
      const current = indexOfStep(steps, state.step); // not yet drawn, maybe
      const i = "stepIndex" in patch ? patch.stepIndex : current + patch.stepBy;
      if (steps.length === 0) return refresh();
      state.step = steps[Math.max(0, Math.min(steps.length - 1, i))];
      moved = Math.sign(i - current);
    } else {
      moved = 0;
      Object.assign(state, patch);
      if ("runs" in patch || "tag" in patch) reconcile();
    }
    writeHash(state);
    return refresh();
  }

  function togglePlay(on) {
    playing = Boolean(on) && steps.length > 1;
    clearInterval(timer);
    timer = null;
    if (!playing) return;
    if (stepIndex >= steps.length - 1) set({ stepIndex: 0 });
    timer = setInterval(() => {
      if (running) return;
      if (stepIndex >= steps.length - 1) set({ play: false });
      else set({ stepBy: 1 });
    }, PLAY_INTERVAL_MS);
  }

  function onKey(ev) {
    if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
    const t = ev.target;
    const typing = t && (t.tagName === "SELECT" || (t.tagName === "INPUT" && t.type !== "checkbox"));
    if (typing) return; // the slider and number inputs use the arrows themselves
    ev.preventDefault();
    set({ stepBy: ev.key === "ArrowLeft" ? -1 : 1 });
  }

  /** Redraws for the current state; overlapping calls collapse into one more pass. */
  function refresh() {
    if (shown !== "page") return Promise.resolve();
    if (running) {
      dirty = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          dirty = false;
          status.textContent = ""; // a failed pass says so until a pass succeeds
          delete root.dataset.renderError;
          try {
            await renderOnce();
          } catch (e) {
            // A bug must not freeze the page: say so, and keep serving new states.
            status.textContent = `Could not draw: ${e && e.message ? e.message : e}`;
            root.dataset.renderError = String((e && e.stack) || e);
            console.error(e);
          }
        } while (dirty);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  async function renderOnce() {
    const t0 = performance.now();
    const st = structuredClone(state);
    const metas = st.runs.map((r) => (tags[r] || {})[st.tag] || null);
    const runSteps = await Promise.all(
      st.runs.map((r, i) =>
        metas[i] && !metas[i].error ? loader.steps(r, st.tag).catch((e) => e) : [],
      ),
    );
    if (dirty) return; // the state changed meanwhile: don't show this stale one
    steps = unionSteps(runSteps.filter(Array.isArray));
    if (moved !== 0 && st.step !== null && steps.length > 0 && !steps.includes(st.step)) {
      // A move onto a step found gone meanwhile goes on to the next one kept.
      st.step = state.step = stepToward(steps, st.step, moved);
      writeHash(state);
    }
    loadFailed = false;
    stepIndex = indexOfStep(steps, st.step);
    const wanted = steps.length ? steps[stepIndex] : null;
    controls.update({
      runs,
      tags: tagNames(),
      state: st,
      steps,
      stepIndex,
      batch: Math.max(1, ...metas.map((m) => (m && Array.isArray(m.shape) ? m.shape[0] : 1))),
      canReflect: metas.some((m) => canReflect(m)),
      playing,
    });
    syncPanels(st.runs);
    const width = panelWidth(st.runs.length);
    const at = { wanted, kept: steps };
    await Promise.all(st.runs.map((r, i) => drawRun(r, metas[i], runSteps[i], at, st, width)));
    if (dirty) return; // the state or a listing changed: the next pass draws it
    moved = 0; // the step is drawn: from now on it is the step chosen
    root.dataset.drawCount = String(Number(root.dataset.drawCount || 0) + 1);
    document.dispatchEvent(
      new CustomEvent("rnngrad:drawn", { detail: { ms: performance.now() - t0 } }),
    );
    prefetch(st, metas, runSteps);
  }

  function syncPanels(selected) {
    for (const [r, p] of panels) {
      if (!selected.includes(r)) {
        p.element.remove();
        panels.delete(r);
      }
    }
    for (const r of selected) {
      if (!panels.has(r)) panels.set(r, createRunPanel(r, { onStep: (s) => set({ step: s }) }));
      panelBox.append(panels.get(r).element); // keeps selection order
    }
  }

  function panelWidth(n) {
    const total = panelBox.clientWidth || root.clientWidth || 800;
    return Math.max(300, Math.floor((total - (n - 1) * 16) / Math.max(1, n)) - 24);
  }

  function fetchSample(meta, st) {
    const n = (meta.shape || []).reduce((a, b) => a * b, 1);
    return st.sampleMode === "one" && n > SAMPLE_FETCH_ELEMENTS ? st.sample : null;
  }

  /**
   * Draws one run's panel.
   * @param {{wanted: number|null, kept: number[]}} at Slider step; union of the
   *   steps kept for the runs shown.
   */
  async function drawRun(run, meta, runSteps, at, st, width) {
    const panel = panels.get(run);
    if (!meta) {
      panel.reset();
      panel.showMessage(`Run "${run}" has no tag "${st.tag}".`);
      return;
    }
    panel.setMeta(meta);
    if (meta.error) {
      panel.showMessage(`The series "${st.tag}" of run "${run}" could not be read: ${meta.error}`);
      return;
    }
    if (runSteps instanceof Error) {
      noteFailure(runSteps);
      panel.showMessage(runSteps.message);
      return;
    }
    const step = stepAtOrBefore(runSteps, at.wanted);
    if (step === null) {
      panel.showMessage(`Run "${run}" has no logged step of "${st.tag}".`);
      return;
    }
    const profileP = loader.profile(run, st.tag).catch((e) => e);
    let view;
    try {
      view = await tensorView(run, meta, runSteps, step, st);
    } catch (e) {
      if (e.status === 404 && (await stepsChanged(run, st.tag))) return; // evicted
      noteFailure(e);
      view = { prep: null, scale: null, note: "", error: e.message };
    }
    const profile = await profileP;
    if (dirty) return; // a newer state is waiting; skip drawing this one
    const ok = !(profile instanceof Error);
    if (!ok) noteFailure(profile);
    panel.draw({
      meta,
      prep: view.prep,
      scale: view.scale,
      state: st,
      step,
      chosen: st.step,
      kept: at.kept,
      profile: ok ? profile : null,
      reach: ok ? reachPerStep(profile) : [],
      width,
      note: view.note,
      messages: [view.error, ok ? null : profile.message].filter(Boolean),
    });
  }

  /** Notes a failed request (network, HTTP), which the next reload retries. */
  function noteFailure(e) {
    if (e instanceof ApiError) loadFailed = true;
  }

  /**
   * The tensor views' data at `step`: prepared values, colour scale and step-line note,
   * or the reason they cannot be drawn.
   * @returns {Promise<{prep: object|null, scale: object|null, note: string,
   *   error: string|null}>}
   * @throws {Error} When the tensor cannot be loaded (status 404: no longer kept).
   */
  async function tensorView(run, meta, runSteps, step, st) {
    const missing = missingSample(run, batchOf(meta), st);
    if (missing) return { prep: null, scale: null, note: "", error: missing };
    const [entry, mask] = await Promise.all([
      loader.tensor(run, st.tag, step, fetchSample(meta, st)),
      meta.has_mask ? loader.mask(run, st.tag, step) : null,
    ]);
    const batch = entry.sampleBase === null ? entry.dims.batch : null;
    const late = missingSample(run, batch, st); // the batch of this step, if unlisted
    if (late) return { prep: null, scale: null, note: "", error: late };
    const prep = prepare(entry, mask, meta, st);
    const fixed = st.scale === "fixed" ? await fixedRange(run, meta, runSteps, st) : null;
    const scale = makeScale(st.scale, {
      stepMaxAbs: prep.maxAbs,
      allStepsMaxAbs: fixed && fixed.covered > 0 ? fixed.maxAbs : undefined,
      min: st.min,
      max: st.max,
    });
    const note = fixed ? fixedScaleNote(fixed, runSteps.length) : "";
    return { prep, scale, note, error: null };
  }

  /**
   * After a 404: reloads the run's steps. When they changed (the step was evicted),
   * queues another pass, which shows the steps still kept.
   * @returns {Promise<boolean>} Whether they changed.
   */
  async function stepsChanged(run, tag) {
    const changed = await loader.reloadSteps(run, tag).catch(() => false);
    if (changed) dirty = true;
    return changed;
  }

  /** max|g| of what is drawn over the run's listed steps (fetches each step once). */
  async function fixedRange(run, meta, runSteps, st) {
    const sample = fetchSample(meta, st);
    const view = [st.sampleMode, st.sampleMode === "one" ? st.sample : 0];
    const range = await fixedRanges(run, st.tag, runSteps, view, async (s) => {
      const [entry, mask] = await Promise.all([
        loader.tensor(run, st.tag, s, sample),
        meta.has_mask ? loader.mask(run, st.tag, s) : null,
      ]);
      return prepare(entry, mask, meta, { ...st, reflect: false }).maxAbs;
    });
    if (range.gone.length > 0) await stepsChanged(run, st.tag);
    return range;
  }

  /** Fetches the next step's tensors ahead; a 404 (evicted) reloads the steps. */
  function prefetch(st, metas, runSteps) {
    const next = steps[stepIndex + 1];
    if (next === undefined) return;
    st.runs.forEach((r, i) => {
      const meta = metas[i];
      if (!meta || meta.error || !Array.isArray(runSteps[i])) return;
      const s = stepAtOrBefore(runSteps[i], next);
      if (s === null || missingSample(r, batchOf(meta), st)) return; // nothing to fetch
      loader.tensor(r, st.tag, s, fetchSample(meta, st)).catch(async (e) => {
        if (e.status !== 404) return; // the draw of that step says what failed
        if (await loader.reloadSteps(r, st.tag).catch(() => false)) refresh();
      });
    });
  }

  return {
    start,
    set,
    refresh,
    /** @returns {number[]} Union of the selected runs' steps. */
    steps: () => steps.slice(),
    /** @returns {import("./state.js").State} Copy of the state. */
    state: () => structuredClone(state),
    /** @returns {object} Whether a draw is running or queued, requests in flight. */
    debug: () => ({ running: Boolean(running), dirty, pending: loader.pendingKeys() }),
  };
}

/** @returns {number|null} Batch size from the tag's metadata, or null if unknown. */
function batchOf(meta) {
  return Array.isArray(meta.shape) && meta.shape.length >= 2 ? meta.shape[0] : null;
}
