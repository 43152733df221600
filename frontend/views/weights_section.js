/**
 * The Weights section of a run panel, for weight-matrix series ("weights",
 * "weight_gradients"): one heatmap per gate of the matrix and of its counterpart
 * (weights beside their gradients), a colour scale shared by the gates or per gate,
 * colour bars, the NaN/Inf legend, and each gate's distribution over training. It
 * keeps its scale choice and redraws itself when it changes. DOM view.
 * @module views/weights_section
 */
import { drawColorbar, specialLegend } from "../colorbar.js";
import { el, replaceChildren } from "../dom.js";
import { gateCellAt, gateScales, matrixName } from "../gates.js";
import { readingLine } from "../labels.js";
import { gateReadout, histogramReadout } from "../readout.js";
import { attachTooltip } from "../tooltip.js";
import { drawGateHeatmaps } from "./gate_heatmaps.js";
import { drawHistogramStacks, histogramStacksAt } from "./histogram_stack.js";

const BAR_WIDTH = 220;

/**
 * What the section draws: a run panel's model whose `weights` is loaded.
 * @typedef {{weights: import("../weight_model.js").WeightsView, width: number,
 *   step: number, meta: import("../api.js").TagMeta}} WeightsModel
 */

/**
 * What a canvas of the section shows (the tab's tests read it).
 * @typedef {{geom: object, scales?: import("../normalize.js").Scale[][],
 *   readout: (x: number, y: number) => string[]|null}} DrawnCanvas
 */

/**
 * @returns {{element: HTMLElement, draw: (v: WeightsModel) => void, drawn: (canvas:
 *   HTMLCanvasElement) => DrawnCanvas|null}} draw(v) draws a run panel's model v whose
 *   `weights` is a weight_model.WeightsView; drawn(canvas) is what one of its
 *   canvases shows ({geom, readout}), or null.
 */
export function createWeightsSection() {
  const caption = el("h3", { class: "rg-caption" });
  const reading = el("p", { class: "rg-reading" });
  const scaleSelect = el(
    "select",
    { class: "rg-gate-scale", "aria-label": "Colour scale of the gate heatmaps" },
    el("option", { value: "shared", text: "one scale for all gates" }),
    el("option", { value: "gate", text: "a scale per gate" }),
  );
  const notes = el("p", { class: "rg-reading rg-weights-notes" });
  const canvas = el("canvas", { class: "rg-canvas rg-gates" });
  const bars = el("div", { class: "rg-bar-row" });
  const histCaption = el("h3", { class: "rg-caption" });
  const histCanvas = el("canvas", { class: "rg-canvas rg-gate-histograms" });
  const element = el(
    "div",
    { class: "rg-section rg-section-weights" },
    caption,
    reading,
    el("label", { class: "rg-gate-scale-label" }, "Colour scale: ", scaleSelect),
    notes,
    el("div", { class: "rg-scroll" }, canvas),
    bars,
    histCaption,
    el("div", { class: "rg-scroll" }, histCanvas),
  );
  /** @type {WeightsModel|null} */
  let last = null;
  /** @type {DrawnCanvas|null} */
  let heat = null;
  /** @type {DrawnCanvas|null} */
  let hist = null;
  attachTooltip(canvas, (x, y) => (heat ? heat.readout(x, y) : null));
  attachTooltip(histCanvas, (x, y) => (hist ? hist.readout(x, y) : null));
  scaleSelect.addEventListener("change", () => {
    if (last) draw(last);
  });

  /** @param {WeightsModel} v Model. */
  function draw(v) {
    last = v;
    const w = v.weights;
    const mode = /** @type {"shared"|"gate"} */ (scaleSelect.value);
    const names = w.matrices.map((m) => matrixName(m.kind));
    const scales = w.matrices.map((m) => gateScales(m.stats, mode));
    const geom = drawGateHeatmaps(canvas, w.matrices, {
      names,
      scales,
      direction: w.direction,
      availWidth: v.width,
    });
    caption.textContent =
      `Weights — ${w.weight || "weight"} — one heatmap per gate — rows: ${w.rowName}, ` +
      `columns: the gate's units — step ${v.step}`;
    reading.textContent = readingLine(v.meta.kind, "weights");
    notes.textContent = w.notes.join(" ");
    notes.hidden = w.notes.length === 0;
    canvas.dataset.scale = mode;
    heat = {
      geom,
      scales,
      readout: (/** @type {number} */ x, /** @type {number} */ y) => cellLines(w, names, geom, x, y),
    };
    showBars(names, scales, mode);
    const drawnHist = drawHistogramStacks(histCanvas, w.histograms, {
      currentStep: v.step,
      availWidth: v.width,
    });
    const failed = w.histograms.filter((h) => h.error).map((h) => `gate ${h.gate}: ${h.error}`);
    histCaption.textContent =
      `Distributions over training — one stack per gate, oldest step at the back, ` +
      `step ${v.step} outlined${failed.length ? ` — ${failed.join("; ")}` : ""}`;
    hist = {
      geom: drawnHist,
      readout: (/** @type {number} */ x, /** @type {number} */ y) => {
        const hit = histogramStacksAt(drawnHist, x, y);
        return hit && histogramReadout(hit, hit.gate);
      },
    };
  }

  /**
   * One colour bar per matrix (shared scale), or a line saying where the ranges are.
   * @param {string[]} names What each matrix holds.
   * @param {import("../normalize.js").Scale[][]} scales Per matrix, per gate.
   * @param {"shared"|"gate"} mode Colour scale mode.
   */
  function showBars(names, scales, mode) {
    const legend = specialLegend(["nan", "posInf", "negInf"]);
    if (mode === "gate") {
      replaceChildren(bars, el("span", { text: "Each gate's range is in its title. " }), legend);
      return;
    }
    const items = names.map((name, i) => {
      const bar = el("canvas", { class: "rg-colorbar" });
      drawColorbar(bar, scales[i][0], BAR_WIDTH);
      return el("span", { class: "rg-bar-item" }, `${name} `, bar);
    });
    replaceChildren(bars, ...items, legend);
  }

  /** @param {HTMLCanvasElement} c A canvas. @returns {DrawnCanvas|null} */
  function drawn(c) {
    if (c === canvas) return heat;
    if (c === histCanvas) return hist;
    return null;
  }

  return { element, draw, drawn };
}

/**
 * Read-out lines of the gate heatmap cell under a point.
 * @param {import("../weight_model.js").WeightsView} w What is drawn.
 * @param {string[]} names What each matrix holds.
 * @param {import("../gates.js").GateGeometry} geom From drawGateHeatmaps.
 * @param {number} x x, CSS px.
 * @param {number} y y, CSS px.
 * @returns {string[]|null}
 */
function cellLines(w, names, geom, x, y) {
  const hit = gateCellAt(geom, x, y);
  if (!hit) return null;
  const m = w.matrices[hit.matrix];
  const span = m.spans[hit.gate];
  const column = span.start + hit.col;
  return gateReadout({
    matrix: names[hit.matrix],
    weight: w.weight,
    gate: span.name,
    direction: w.direction,
    rowName: w.rowName,
    row: hit.row,
    col: hit.col,
    column,
    value: m.array[hit.row * m.cols + column],
  });
}
