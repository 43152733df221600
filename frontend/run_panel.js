/**
 * One run's column: header, messages, the reach (gradient horizon) at the step
 * shown, NaN/Inf counts and the sections of its views (heatmap, channel grid, 0D
 * scatter, gradient flow over training). DOM view: it shows a run model
 * (run_model.js).
 * @module run_panel
 */
import { css, SPECIAL } from "./colormap.js";
import { el, replaceChildren } from "./dom.js";
import { kindLabel, layerSummary, reachName, storedLine } from "./labels.js";
import { reachLine } from "./readout.js";
import { createSection } from "./sections.js";
import { showHealthLine } from "./views/health.js";
import { shownStepText } from "./steps.js";
import { createWeightsSection } from "./views/weights_section.js";

/**
 * @param {string} run Run name (shown as text only).
 * @param {{onStep: (step: number) => void, onFinding?: Function}} hooks Flow-view
 *   clicks pick a step; onFinding(run, finding): a Health link was clicked.
 * Returns the panel: show(model, at) shows a run model; drawn(canvas) is what one
 * of its canvases shows (tests); showHealth(findings) the Health line.
 */
export function createRunPanel(run, hooks) {
  const title = el("h2", { class: "rg-run-name", text: run });
  const health = el("div", { class: "rg-health", hidden: true });
  const kind = el("p", { class: "rg-kind" });
  const layer = el("p", { class: "rg-layer" });
  const stored = el("p", { class: "rg-stored", hidden: true });
  const stepInfo = el("p", { class: "rg-step-info" });
  const message = el("div", { class: "rg-message", role: "alert", hidden: true });
  const reach = el("p", { class: "rg-reach" });
  const counts = el("p", { class: "rg-counts" });
  const sections = {
    heatmap: createSection("heatmap"),
    grid: createSection("grid"),
    scatter: createSection("scatter"),
    flow: createSection("flow"),
  };
  const weights = createWeightsSection();
  const views = el(
    "div",
    { class: "rg-views" },
    ...Object.values(sections).map((s) => s.element),
    weights.element,
  );
  const element = el(
    "section",
    { class: "rg-panel", dataset: { run } },
    title,
    health,
    kind,
    layer,
    stored,
    stepInfo,
    message,
    reach,
    counts,
    views,
  );
  const flow = sections.flow;
  flow.canvas.addEventListener("click", (ev) => {
    const drawn = flow.drawn();
    if (!drawn || !drawn.pick) return; // the flow view always has pick
    const r = flow.canvas.getBoundingClientRect();
    const step = drawn.pick(ev.clientX - r.left, ev.clientY - r.top);
    if (step !== null) hooks.onStep(step);
  });

  /**
   * Shows a run model: a message instead of the views, or the views switched on.
   * @param {import("./run_model.js").RunModel} m Model.
   * @param {object} at
   * @param {import("./state.js").State} at.state UI state drawn.
   * @param {number[]} at.kept Sorted union of the steps kept for the runs shown.
   * @param {number} at.width Width available, CSS px.
   */
  function show(m, at) {
    kind.textContent = m.meta ? kindLabel(m.meta.kind) : "";
    // The tag's description is shown once above the panels (page.js about()).
    layer.textContent = m.meta ? layerSummary(m.meta) : "";
    stored.textContent = m.meta ? storedLine(m.meta) : "";
    stored.hidden = !stored.textContent;
    if (m.message !== null) {
      setMessages([m.message], Boolean(m.neutral));
      stepInfo.textContent = "";
      reach.hidden = true;
      views.hidden = true;
      counts.hidden = true;
      return;
    }
    const v = { ...m, ...at };
    setMessages(m.messages);
    views.hidden = false;
    counts.hidden = !m.prep;
    stepInfo.textContent = stepText(m.step, at.state.step, at.kept, m.note);
    const masked = Boolean(m.meta.has_mask);
    reach.textContent = reachLine(m.profile, m.step, reachName(m.meta.kind), masked);
    reach.hidden = !reach.textContent;
    const rank2 = Array.isArray(m.meta.shape) && m.meta.shape.length === 2;
    const on = (/** @type {string} */ name) => at.state.views.includes(name);
    /** @type {Record<string, unknown>} Truthy: the section is shown. */
    const shown = {
      heatmap: on("heatmap") && !rank2 && m.prep,
      grid: on("grid") && !rank2 && m.prep && !m.prep.weights,
      scatter: on("scatter") && rank2 && m.prep,
      flow: on("flow") && m.profile,
    };
    if (m.prep) showCounts(m.prep);
    for (const [name, s] of Object.entries(sections)) {
      s.element.hidden = !shown[name];
      // shown[name]: the model has what the section draws (SectionModel).
      if (shown[name]) s.draw(/** @type {import("./sections.js").SectionModel} */ (v));
    }
    weights.element.hidden = !m.weights;
    if (m.weights) weights.draw(/** @type {import("./views/weights_section.js").WeightsModel} */ (v));
  }

  /**
   * @param {string[]} texts Messages shown above the views (none: box hidden).
   * @param {boolean} [neutral] A note (why the run shows nothing), not an error.
   */
  function setMessages(texts, neutral = false) {
    message.textContent = texts.join("\n");
    message.hidden = texts.length === 0;
    message.classList.toggle("rg-neutral", neutral);
    if (neutral) message.removeAttribute("role");
    else message.setAttribute("role", "alert");
  }

  /** @param {import("./prepare.js").Prepared} prep Drawn data. */
  function showCounts(prep) {
    const c = prep.counts;
    let where = `in sample ${prep.sampleIds[0]}`;
    if (prep.weights) where = "in all weights";
    else if (prep.mean) where = "in the batch";
    else if (prep.samples.length > 1) where = "in all samples";
    replaceChildren(
      counts,
      countItem("NaN", c.nan, SPECIAL.nan),
      countItem("+Inf", c.posInf, SPECIAL.posInf),
      countItem("−Inf", c.negInf, SPECIAL.negInf),
      ` ${where}`,
    );
    counts.classList.toggle("rg-bad", c.nan + c.posInf + c.negInf > 0);
  }

  /**
   * @param {HTMLCanvasElement} canvas A canvas.
   * @returns {import("./sections.js").Drawn|null} What it shows, if it is this panel's.
   */
  function drawn(canvas) {
    const s = Object.values(sections).find((x) => x.canvas === canvas);
    return s ? s.drawn() : weights.drawn(canvas);
  }

  /**
   * Shows the run's Health line.
   * @param {import("./health_model.js").Finding[]|undefined} findings The run's
   *   findings (undefined: not known).
   */
  function showHealth(findings) {
    showHealthLine(health, findings, (f) => hooks.onFinding && hooks.onFinding(run, f));
  }

  return { element, show, drawn, showHealth };
}

/**
 * @param {number} step Step shown.
 * @param {number|null} chosen Step chosen (null = the latest).
 * @param {number[]} kept Sorted union of the steps kept for the runs shown.
 * @param {string} note Extra text.
 * @returns {string}
 */
function stepText(step, chosen, kept, note) {
  return `${shownStepText(step, chosen, kept)}${note ? ` · ${note}` : ""}`;
}

/**
 * @param {string} name "NaN", "+Inf" or "−Inf".
 * @param {number} n How many.
 * @param {number[]} rgb Its colour.
 * @returns {HTMLSpanElement}
 */
function countItem(name, n, rgb) {
  return el(
    "span",
    { class: "rg-count" },
    el("span", { class: "rg-swatch", style: { background: css(rgb) } }),
    `${name}: ${n}`,
  );
}
