/**
 * The plugin page's DOM: what the root shows (loading, an error, the empty state, or
 * the controls, a status line and one panel per run shown), and the marks that tests
 * and benchmarks wait for (data-draw-count, data-render-error, "rnngrad:drawn").
 * DOM view.
 * @module page
 */
/** @import { TagMeta } from "./api.js" */
import { createControls } from "./controls.js";
import { el, replaceChildren } from "./dom.js";
import { emptyState } from "./empty.js";
import { markRuns } from "./views/health.js";
import { createRunPanel } from "./run_panel.js";
import { createShare } from "./share.js";
import { nextSort } from "./compare_model.js";
import { createCompareView } from "./views/compare.js";

/** Smallest panel width and the gap between panels, CSS px (as in style.css). */
const PANEL_MIN = 324;
const PANEL_GAP = 16;

/**
 * @param {HTMLElement} root Element the page is built into.
 * @param {object} hooks
 * @param {(patch: object) => Promise<void>} hooks.onChange A change from the controls
 *   (controls.js) or the keyboard.
 * @param {(step: number) => void} hooks.onStep A step picked in a flow view.
 * @param {() => string} hooks.link Puts the state in the address; returns the URL
 *   to share (the copy-link control).
 * @param {(run: string, finding: import("./health_model.js").Finding) => void}
 *   [hooks.onFinding] A Health link was clicked.
 * The page; see the methods below.
 */
export function createPage(root, { onChange, onStep, link, onFinding }) {
  const controls = createControls(onChange);
  controls.element.append(createShare(link));
  const panelBox = el("div", { class: "rg-panels" });
  const noRun = el("p", { class: "rg-no-run", role: "status" });
  let sorted = { sort: "", order: "" };
  const compare = createCompareView({
    onOpen: (run) => onChange({ runs: [run], compare: false }),
    onSort: (key) => onChange(nextSort(sorted, key)),
  });
  compare.element.hidden = true;
  const status = el("div", { class: "rg-status", role: "status" });
  const aboutText = el("div", { class: "rg-about-text" });
  const about = el(
    "details",
    { class: "rg-about", hidden: true },
    el("summary", { text: "About this series" }),
    aboutText,
  );
  /** @type {string|null} */
  let aboutKey = null;
  /** @type {Map<string, ReturnType<typeof createRunPanel>>} */
  const panels = new Map();
  /** What `root` shows: null (loading), "error", "empty" or "page". @type {string|null} */
  let shown = null;

  function showControls() {
    if (shown === "page" && !controls.element.isConnected) root.prepend(controls.element);
  }

  return {
    /**
     * Shows the health report: each panel's Health line, a badge per listed run.
     * @param {ReturnType<typeof import("./health_model.js").normalizeHealth>|null} report
     *   normalizeHealth's answer.
     */
    health(report) {
      for (const [r, p] of panels) p.showHealth(report ? report.runs[r] : undefined);
      const list = controls.element.querySelector(".rg-run-list");
      if (list) markRuns(list, report ? report.status : {});
    },

    /** @returns {boolean} Whether the root shows the controls and panels. */
    isPage: () => shown === "page",

    loading() {
      status.textContent = "Loading runs…";
      replaceChildren(root, status);
    },

    /** @param {string} text Why the page cannot be shown (text only). */
    error(text) {
      shown = "error";
      replaceChildren(root, el("div", { class: "rg-message", role: "alert", text }));
    },

    empty() {
      if (shown !== "empty") replaceChildren(root, emptyState());
      shown = "empty";
    },

    /** Shows the panels; the controls join them once they show the state (showControls). */
    page() {
      if (shown === "page") return;
      status.textContent = "";
      replaceChildren(root, status, about, compare.element, panelBox);
      shown = "page";
    },

    /**
     * Shows a model in the controls, and the controls if they were not shown: never
     * their defaults before the first pass (e.g. after a reload of a link).
     * @param {import("./controls.js").ControlsModel} m Shown in the controls.
     */
    updateControls(m) {
      controls.update(m);
      showControls();
    },

    /** Clears the report of a failed pass (a failed pass says so until one succeeds). */
    passStarted() {
      status.textContent = "";
      delete root.dataset.renderError;
    },

    /** @param {*} e What a pass threw (a bug): said in the status line. */
    passFailed(e) {
      showControls(); // to change what could not be drawn
      status.textContent = `Could not draw: ${e && e.message ? e.message : e}`;
      root.dataset.renderError = String((e && e.stack) || e);
      console.error(e);
    },

    /** @param {number} ms How long the pass took. */
    passDrawn(ms) {
      root.dataset.drawCount = String(Number(root.dataset.drawCount || 0) + 1);
      performance.mark("rnngrad:drawn"); // benchmarks time the page from its iframe
      document.dispatchEvent(new CustomEvent("rnngrad:drawn", { detail: { ms } }));
    },

    /**
     * The panels of `runs`, in that order; other runs' panels are removed. No run:
     * a line saying why.
     * @param {string[]} runs Runs shown.
     * @param {number} [hidden] Selected runs the run filter hides.
     * @returns {Array<ReturnType<typeof createRunPanel>>}
     */
    panels(runs, hidden = 0) {
      compare.element.hidden = true;
      panelBox.hidden = false;
      for (const [r, p] of panels) {
        if (!runs.includes(r)) {
          p.element.remove();
          panels.delete(r);
        }
      }
      for (const r of runs) {
        let p = panels.get(r);
        if (!p) {
          p = createRunPanel(r, { onStep, onFinding });
          panels.set(r, p);
        }
        panelBox.append(p.element); // keeps selection order
      }
      noRun.textContent = hidden
        ? `The run filter hides every selected run (${hidden}): change or clear it above.`
        : "No run selected: check a run above to show its panel.";
      if (runs.length === 0) panelBox.append(noRun);
      else noRun.remove();
      return runs.map((r) => /** @type {ReturnType<typeof createRunPanel>} */ (panels.get(r)));
    },

    /**
     * Shows the description of the series shown once for all panels (collapsed;
     * text only): each distinct description of the runs' metadata.
     * @param {string} tag Tag shown (a new tag collapses the box again).
     * @param {Array<TagMeta|null>} metas Each shown run's metadata of the tag.
     */
    about(tag, metas) {
      const texts = [...new Set(metas.map((m) => m && m.description).filter(Boolean))];
      const key = JSON.stringify([tag, texts]);
      if (key === aboutKey) return;
      if (aboutKey !== null && JSON.parse(aboutKey)[0] !== tag) about.open = false;
      aboutKey = key;
      replaceChildren(aboutText, ...texts.map((t) => el("p", { text: t })));
      about.hidden = texts.length === 0;
    },

    /**
     * Width of one of `n` panels: as many side by side as fit at least
     * PANEL_MIN px each, the others wrapped onto further rows (style.css).
     * @param {number} n Panels.
     * @returns {number} CSS px.
     */
    panelWidth(n) {
      const total = panelBox.clientWidth || root.clientWidth || 800;
      const fit = Math.floor((total + PANEL_GAP) / (PANEL_MIN + PANEL_GAP));
      const cols = Math.max(1, Math.min(Math.max(1, n), fit));
      return Math.max(PANEL_MIN - 24, Math.floor((total - (cols - 1) * PANEL_GAP) / cols) - 24);
    },

    /**
     * Shows the compare view instead of the panels (views/compare.js).
     * @param {import("./compare_model.js").CompareRow[]|Error} rows The selected
     *   runs' rows, or why they could not be loaded.
     * @param {{tag: string, sort: string, order: "asc"|"desc"}} o What to show.
     */
    compare(rows, o) {
      panelBox.hidden = true;
      compare.element.hidden = false;
      sorted = { sort: o.sort, order: o.order };
      if (rows instanceof Error) compare.failed(rows.message);
      else compare.show(rows, { ...o, width: compare.element.clientWidth || 800 });
    },

    /** @returns {object|null} What the compare view shows: runs in order, extent, sort. */
    compared: () => (compare.element.hidden ? null : compare.drawn()),

    /**
     * @param {HTMLCanvasElement} canvas A canvas.
     * @returns {object|null} What a panel's canvas shows (sections.js Drawn).
     */
    drawn(canvas) {
      for (const p of panels.values()) {
        const d = p.drawn(canvas);
        if (d) return d;
      }
      return null;
    },
  };
}
