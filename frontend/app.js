/**
 * The plugin page: ties the session (session.js), the draw passes (redraw.js),
 * playback (playback.js), live refresh (live.js) and the data of each run
 * (run_model.js) to the page's DOM (page.js) and the address (hash.js).
 * @module app
 */
import { compareRows } from "./compare_model.js";
import { findingPatch, normalizeHealth } from "./health_model.js";
import { readAddress, readHash, writeHash } from "./hash.js";
import { shareableUrl } from "./tb_host.js";
import { isDisplayed, keepFresh } from "./live.js";
import { createLoader } from "./loader.js";
import { createPage } from "./page.js";
import { createPlayback } from "./playback.js";
import { createRedraw } from "./redraw.js";
import { createRunModels } from "./run_model.js";
import { createSession } from "./session.js";
import { refreshTooltip } from "./tooltip.js";

/** Quiet time after the last resize before the page is drawn again, ms. */
const RESIZE_MS = 150;
/** A page opened without runs in its address shows more than this many runs in the
 * compare view. */
const MANY_RUNS = 8;

/**
 * @param {HTMLElement} root Element the page is built into.
 * @param {import("./api.js").Api} api API client.
 * Returns the app: start(), set(patch) and refresh() (both resolve once the page
 * shows the state), steps(), state(), drawn(canvas) and debug().
 */
export function createApp(root, api) {
  const loader = createLoader(api);
  const session = createSession(readHash());
  const models = createRunModels(loader);
  const page = createPage(root, {
    onChange: set,
    onStep: (step) => set({ step }),
    link: () => link(),
    onFinding: (run, f) => set(findingPatch(run, f, session.state())),
  });
  const redraw = createRedraw(pass, { onStart: page.passStarted, onError: page.passFailed });
  const playback = createPlayback({ position: session.position, busy: redraw.busy, go: set });
  /** The health report and latest losses: fetched at start and when a listing
   * changes, not on every pass. */
  /** @type {Promise<ReturnType<typeof normalizeHealth>|null>} */
  let health = Promise.resolve(null);
  /** @type {Promise<Awaited<ReturnType<typeof api.losses>>|null>|null} */
  let losses = Promise.resolve(null);

  function reloadHealth() {
    health = api.health().then(normalizeHealth, () => null);
    losses = null; // fetched by the next compare pass
  }

  async function start() {
    page.loading();
    listen();
    keepFresh(sync);
    const linked = readAddress().catch(() => null);
    try {
      session.setTags(await loader.tags());
      reloadHealth();
    } catch (e) {
      page.error(e.message);
      return;
    }
    const state = await linked;
    if (state) session.replace(state);
    const defaulted = !state || state.runs.length === 0; // every run of the layer
    if (defaulted && session.state().runs.length > MANY_RUNS) session.apply({ compare: true });
    await show();
  }

  /**
   * Puts the state in the address and returns the address to share.
   * @returns {string} TensorBoard's URL, its hash carrying the state.
   */
  function link() {
    writeHash(session.state());
    return shareableUrl();
  }

  function listen() {
    window.addEventListener("hashchange", () => {
      if (!page.isPage()) return;
      session.replace(readHash());
      refresh();
    });
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let resizeTimer;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      if (!isDisplayed()) return; // another dashboard is shown: redraw when back
      resizeTimer = setTimeout(refresh, RESIZE_MS);
    });
  }

  /** Shows the empty state, or the page drawn for the current state. */
  function show() {
    if (session.runs().length === 0) {
      page.empty();
      return Promise.resolve();
    }
    page.page();
    return refresh();
  }

  /**
   * Reloads the listings: runs and tags, then the steps of the series shown. Draws
   * again when any changed (new runs, new or evicted steps) or the last pass could
   * not load something (it is retried); otherwise nothing is fetched again.
   */
  async function sync() {
    let changed = await loader.reloadTags();
    const changedTags = changed;
    if (changed) session.setTags(await loader.tags());
    if (changed) reloadHealth();
    if (page.isPage() && !session.state().compare) {
      const { tag } = session.state();
      const reload = (/** @type {string} */ r) => loader.reloadSteps(r, tag).catch(() => false);
      const reloads = session.readableRuns().map(reload);
      changed = (await Promise.all(reloads)).includes(true) || changed;
    }
    if (changed && !changedTags) reloadHealth(); // new steps: new findings
    if (changed || session.failed()) await show();
  }

  /**
   * Applies a change from the controls, the keyboard, the flow view or playback.
   * @param {Partial<import("./state.js").State> & {stepIndex?: number, stepBy?: number,
   *   play?: boolean|"toggle"}} patch Partial state, or {stepIndex}, {stepBy}, {play}.
   * @returns {Promise<void>} Resolves when the page shows the new state.
   */
  function set(patch) {
    if ("play" in patch) {
      playback.play(patch.play === "toggle" ? !playback.playing() : Boolean(patch.play));
    } else if (session.apply(patch)) {
      writeHash(session.state());
    }
    return refresh();
  }

  /** Draws the current state; overlapping calls collapse into one more pass. */
  function refresh() {
    return page.isPage() ? redraw.request() : Promise.resolve();
  }

  /** One draw pass: the steps of the runs shown, then each run's panel. */
  async function pass() {
    const t0 = performance.now();
    const { st, shown, metas } = session.begin();
    if (st.compare) return comparePass(st, shown, metas, t0);
    const runSteps = await Promise.all(
      shown.map((r, i) =>
        metas[i] && !metas[i].error ? loader.steps(r, st.tag).catch((e) => e) : [],
      ),
    );
    if (redraw.stale()) return; // the state changed meanwhile: don't show this one
    if (session.noteSteps(st, runSteps)) writeHash(session.state());
    page.updateControls(session.controls(st, metas, playback.playing()));
    const panels = page.panels(shown, st.runs.length - shown.length);
    page.about(st.tag, metas);
    const kept = session.steps();
    const { index } = session.position();
    const at = {
      state: st,
      kept,
      width: page.panelWidth(shown.length),
      stateTag: session.siblingTag(st.tag, "state_gradients"),
    };
    await Promise.all(
      shown.map(async (r, i) => {
        const absent = metas[i] ? undefined : session.absence(r, st.tag);
        const m = await models.model(r, metas[i], runSteps[i], kept[index] ?? null, st, absent);
        if (m === null) {
          redraw.request(); // the run's steps changed: draw again
          return;
        }
        if (m.failed) session.noteFailure();
        if (!redraw.stale()) panels[i].show(m, at);
      }),
    );
    if (redraw.stale()) return; // the state or a listing changed: the next pass draws it
    page.health(await health);
    session.drawn();
    refreshTooltip(); // the pointer may rest on a canvas that now shows other data
    page.passDrawn(performance.now() - t0);
    if (index + 1 < kept.length) models.prefetch(st, metas, runSteps, kept[index + 1], refresh);
  }

  /**
   * A pass of the compare view: the tag in every shown run, one request.
   * @param {import("./state.js").State} st The pass's state.
   * @param {string[]} shown Runs shown.
   * @param {Array<import("./api.js").TagMeta|null>} metas Their metadata of the tag.
   * @param {number} t0 When the pass started (performance.now()).
   */
  async function comparePass(st, shown, metas, t0) {
    const answer = await loader.compare(st.tag).catch((e) => e);
    if (losses === null) losses = api.losses().catch(() => null);
    const [report, latest] = await Promise.all([health, losses]);
    if (redraw.stale()) return;
    page.updateControls(session.controls(st, metas, playback.playing()));
    page.about(st.tag, metas);
    const rows = answer instanceof Error ? answer : compareRows(answer, shown);
    if (rows instanceof Error) session.noteFailure();
    else {
      for (const row of rows) {
        row.findings = report ? report.runs[row.run] : undefined;
        row.loss = latest ? (latest[row.run] ?? null) : undefined;
      }
    }
    page.compare(rows, st);
    page.health(report);
    session.drawn();
    page.passDrawn(performance.now() - t0);
  }

  return {
    start,
    set,
    link,
    refresh,
    /** @returns {number[]} Union of the selected runs' steps. */
    steps: session.steps,
    /** @returns {import("./state.js").State} Copy of the state. */
    state: session.state,
    /** @returns {object|null} What a panel's canvas shows: {geom, readout, profile}. */
    drawn: page.drawn,
    /** @returns {object|null} What the compare view shows (views/compare.js). */
    compared: page.compared,
    /** @returns {object} Whether a draw is running or queued, requests in flight. */
    debug: () => ({ running: redraw.busy(), dirty: redraw.stale(), pending: loader.pendingKeys() }),
  };
}
