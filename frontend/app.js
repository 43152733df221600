/**
 * The plugin page: wires state, controls, data loading and one panel per run.
 * @module app
 */
import { el, replaceChildren } from "./dom.js";
import { emptyState } from "./empty.js";
import { readHash, writeHash } from "./hash.js";
import { createControls } from "./controls.js";
import { createLoader, SAMPLE_FETCH_ELEMENTS } from "./loader.js";
import { makeScale } from "./normalize.js";
import { prepare } from "./prepare.js";
import { reachPerStep } from "./reach.js";
import { createRunPanel } from "./run_panel.js";
import { indexOfStep, stepAtOrBefore, unionSteps } from "./steps.js";
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
  const fixedMax = new Map();
  const panels = new Map();
  const controls = createControls((patch) => set(patch));
  const panelBox = el("div", { class: "rg-panels" });
  const status = el("div", { class: "rg-status", role: "status" });

  async function start() {
    replaceChildren(root, status);
    status.textContent = "Loading runs…";
    try {
      tags = await loader.tags();
    } catch (e) {
      replaceChildren(root, el("div", { class: "rg-message", role: "alert", text: e.message }));
      return;
    }
    runs = Object.keys(tags)
      .filter((r) => tags[r] && Object.keys(tags[r]).length > 0)
      .sort();
    if (runs.length === 0) {
      replaceChildren(root, emptyState());
      return;
    }
    status.textContent = "";
    replaceChildren(root, controls.element, status, panelBox);
    reconcile();
    window.addEventListener("hashchange", () => {
      state = readHash();
      reconcile();
      refresh();
    });
    document.addEventListener("keydown", onKey);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(refresh, 150);
    });
    await refresh();
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
    } else {
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
    if (running) {
      dirty = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          dirty = false;
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
    await Promise.all(
      st.runs.map((r, i) => drawRun(r, metas[i], runSteps[i], wanted, st, width)),
    );
    root.dataset.drawCount = String(Number(root.dataset.drawCount || 0) + 1);
    document.dispatchEvent(
      new CustomEvent("rnngrad:drawn", { detail: { ms: performance.now() - t0 } }),
    );
    prefetch(st, metas, runSteps, wanted);
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

  async function drawRun(run, meta, runSteps, wanted, st, width) {
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
      panel.showMessage(runSteps.message);
      return;
    }
    const step = stepAtOrBefore(runSteps, wanted);
    if (step === null) {
      panel.showMessage(`Run "${run}" has no logged step of "${st.tag}".`);
      return;
    }
    const profileP = loader.profile(run, st.tag).catch((e) => e);
    let prep;
    let scale;
    try {
      const sample = fetchSample(meta, st);
      const [entry, mask] = await Promise.all([
        loader.tensor(run, st.tag, step, sample),
        meta.has_mask ? loader.mask(run, st.tag, step) : null,
      ]);
      prep = prepare(entry, mask, meta, st);
      const allStepsMaxAbs =
        st.scale === "fixed" ? await fixedMaxAbs(run, meta, runSteps, st) : undefined;
      scale = makeScale(st.scale, {
        stepMaxAbs: prep.maxAbs,
        allStepsMaxAbs,
        min: st.min,
        max: st.max,
      });
    } catch (e) {
      panel.showMessage(e.message);
      return;
    }
    const profile = await profileP;
    if (dirty) return; // a newer state is waiting; skip drawing this one
    panel.clearMessage();
    const ok = !(profile instanceof Error);
    panel.draw({
      meta,
      prep,
      scale,
      state: st,
      step,
      wanted,
      profile: ok ? profile : null,
      reach: ok ? reachPerStep(profile) : [],
      width,
      note: st.scale === "fixed" ? `colour scale fixed over ${runSteps.length} steps` : "",
    });
    if (!ok) panel.showMessage(profile.message, false);
  }

  /** max|g| of what is drawn, over every retained step (fetches them all once). */
  async function fixedMaxAbs(run, meta, runSteps, st) {
    const sample = fetchSample(meta, st);
    const which = st.sampleMode === "one" ? st.sample : 0;
    const key = JSON.stringify([run, st.tag, st.sampleMode, which]);
    if (!fixedMax.has(key)) {
      let m = 0;
      for (const s of runSteps) {
        const [entry, mask] = await Promise.all([
          loader.tensor(run, st.tag, s, sample),
          meta.has_mask ? loader.mask(run, st.tag, s) : null,
        ]);
        m = Math.max(m, prepare(entry, mask, meta, { ...st, reflect: false }).maxAbs);
      }
      fixedMax.set(key, m);
    }
    return fixedMax.get(key);
  }

  function prefetch(st, metas, runSteps, wanted) {
    const next = steps[stepIndex + 1];
    if (next === undefined || wanted === null) return;
    st.runs.forEach((r, i) => {
      if (!metas[i] || metas[i].error || !Array.isArray(runSteps[i])) return;
      const s = stepAtOrBefore(runSteps[i], next);
      loader.tensor(r, st.tag, s, fetchSample(metas[i], st)).catch(() => {});
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
