/**
 * The compare view: for the tag shown, the reach (the gradient horizon of the state
 * gradients) of every selected run over training as lines on one chart, and a table
 * (run, latest reach, max |g|, NaN/Inf, last step) sorted by a click on its headers;
 * a click on a row opens that run's views. Run names go in as text only. DOM view;
 * the rows and their order come from compare_model.js.
 * @module views/compare
 */
import { AXIS_FONT, sizeCanvas } from "../canvas_util.js";
import { sampleColor } from "../colormap.js";
import { chartExtent, chartPoint, niceTicks, sortRows } from "../compare_model.js";
import { findingCodes, worst } from "../health_model.js";
import { lossCell } from "../loss_model.js";
import { el, replaceChildren } from "../dom.js";
import { reachName } from "../labels.js";
import { formatValue } from "../layout.js";
import { colors } from "../theme.js";

/** @import { CompareRow } from "../compare_model.js" */

const CHART_H = 260;
const MARGIN = { left: 48, top: 8, right: 12, bottom: 34 };

/**
 * @param {object} hooks
 * @param {(run: string) => void} hooks.onOpen A row was clicked: show that run.
 * @param {(key: string) => void} hooks.onSort A header was clicked.
 * @returns {{element: HTMLElement, show: Function, failed: Function, drawn: () => object|null}}
 */
export function createCompareView({ onOpen, onSort }) {
  const title = el("div", { class: "rg-compare-title" });
  const canvas = el("canvas", { class: "rg-compare-chart", id: "rg-compare-chart" });
  const table = el("table", { class: "rg-compare-table", id: "rg-compare-table" });
  const note = el("div", { class: "rg-compare-note", role: "note" });
  const element = el("section", { class: "rg-compare", id: "rg-compare" }, title, canvas, note, table);
  /**
   * What the chart and table show (null: nothing, or the comparison failed).
   * @type {{rows: string[], extent: ReturnType<typeof chartExtent>, sort: string,
   *   order: "asc"|"desc"}|null}
   */
  let last = null;

  /**
   * Shows the rows.
   * @param {import("../compare_model.js").CompareRow[]} rows In selection order
   *   (which gives each run its colour).
   * @param {{tag: string, sort: string, order: "asc"|"desc", width: number}} o What
   *   to show.
   */
  function show(rows, o) {
    const kind = rows.find((r) => r.kind)?.kind || "";
    const name = reachName(kind);
    const colour = new Map(rows.map((r, i) => [r.run, sampleColor(i)]));
    title.textContent = `${name} of "${o.tag}" over training, ${rows.length} run${rows.length === 1 ? "" : "s"}`;
    const extent = chartExtent(rows);
    drawChart(canvas, rows, extent, colour, name, o.width);
    note.textContent = extent.lines < rows.length
      ? `${rows.length - extent.lines} run(s) have no ${name} (no time axis, or no profile logged).`
      : "";
    const sorted = sortRows(rows, o.sort, o.order);
    fillTable(table, sorted, colour, name, o, { onOpen, onSort });
    last = { rows: sorted.map((r) => r.run), extent, sort: o.sort, order: o.order };
  }

  /** @param {string} text Why the comparison could not be loaded (text only). */
  function failed(text) {
    title.textContent = text;
    note.textContent = "";
    replaceChildren(table);
    sizeCanvas(canvas, 1, 1);
    last = null;
  }

  return { element, show, failed, drawn: () => last };
}

/**
 * @param {HTMLCanvasElement} canvas Target.
 * @param {CompareRow[]} rows Rows.
 * @param {ReturnType<typeof chartExtent>} extent Ranges of the axes.
 * @param {Map<string, string>} colour Each run's colour.
 * @param {string} name Name of the reach.
 * @param {number} width Width available, CSS px.
 */
function drawChart(canvas, rows, extent, colour, name, width) {
  const w = Math.max(320, width);
  const ctx = sizeCanvas(canvas, w, CHART_H);
  const c = colors();
  const box = {
    left: MARGIN.left,
    top: MARGIN.top,
    width: w - MARGIN.left - MARGIN.right,
    height: CHART_H - MARGIN.top - MARGIN.bottom,
  };
  ctx.fillStyle = c.plotBackground;
  ctx.fillRect(box.left, box.top, box.width, box.height);
  ctx.font = AXIS_FONT;
  ctx.fillStyle = c.axis;
  ctx.strokeStyle = c.zeroLine;
  ctx.lineWidth = 1;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(extent.x[0], extent.x[1], 6)) {
    const [x] = chartPoint(box, extent, t, 0);
    ctx.fillText(formatValue(t), x, box.top + box.height + 3);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of niceTicks(extent.y[0], extent.y[1], 5)) {
    if (t !== Math.round(t)) continue; // timesteps are whole
    const [, y] = chartPoint(box, extent, extent.x[0], t);
    ctx.fillText(String(t), box.left - 4, y);
    ctx.beginPath();
    ctx.moveTo(box.left, y + 0.5);
    ctx.lineTo(box.left + box.width, y + 0.5);
    ctx.stroke();
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText("training step", box.left + box.width / 2, CHART_H);
  ctx.save();
  ctx.translate(10, box.top + box.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(`${name} (timesteps back)`, 0, 0);
  ctx.restore();
  ctx.lineWidth = 1.5;
  for (const r of rows) {
    if (r.reach.length === 0) continue;
    ctx.strokeStyle = /** @type {string} */ (colour.get(r.run)); // every row's run has one
    ctx.beginPath();
    r.reach.forEach((v, i) => {
      const [x, y] = chartPoint(box, extent, r.steps[i], v);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    if (r.reach.length === 1) ctx.arc(...chartPoint(box, extent, r.steps[0], r.reach[0]), 2, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.strokeStyle = c.frame;
  ctx.lineWidth = 1;
  ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.width - 1, box.height - 1);
}

/**
 * Columns: key, header text (the reach column is named by the kind).
 * @param {string} name Name of the reach.
 * @returns {Array<[string, string]>}
 */
function columns(name) {
  return [
    ["run", "run"],
    ["reach", `latest ${name}`],
    ["max_abs", "max |g|"],
    ["nonfinite", "NaN/Inf"],
    ["last_step", "last step"],
  ];
}

/**
 * @param {HTMLTableElement} table Target.
 * @param {CompareRow[]} rows Rows, sorted.
 * @param {Map<string, string>} colour Each run's colour.
 * @param {string} name Name of the reach.
 * @param {{sort: string, order: "asc"|"desc"}} o The sort shown.
 * @param {{onOpen: (run: string) => void, onSort: (key: string) => void}} hooks
 *   A row's run opened; a header clicked.
 */
function fillTable(table, rows, colour, name, o, { onOpen, onSort }) {
  const head = el(
    "tr",
    {},
    ...columns(name).map(([key, text]) => {
      const sorted = key === o.sort;
      const arrow = sorted ? (o.order === "asc" ? " ▲" : " ▼") : "";
      const th = el(
        "th",
        { scope: "col", dataset: { key } },
        el("button", {
          type: "button",
          class: "rg-sort",
          text: text + arrow,
          title: `sort by ${text}`,
          on: { click: () => onSort(key) },
        }),
      );
      if (sorted) th.setAttribute("aria-sort", o.order === "asc" ? "ascending" : "descending");
      return th;
    }),
    el("th", { scope: "col", dataset: { key: "loss" }, text: "latest loss" }),
    el("th", { scope: "col", dataset: { key: "findings" }, text: "findings" }),
  );
  const body = rows.map((r) => {
    const swatch = el("span", { class: "rg-swatch", style: { background: colour.get(r.run) } });
    const cells = r.error
      ? [el("td", { colSpan: 4, class: "rg-bad", text: r.error })]
      : [
          numberCell(r.reach_latest, String),
          numberCell(r.max_abs, formatValue, r.max_abs_step === null ? "" : `at step ${r.max_abs_step}`),
          numberCell(r.nonfinite, String),
          numberCell(r.last_step, String),
        ];
    const tr = el(
      "tr",
      {
        tabIndex: 0,
        title: `open the views of run ${r.run}`,
        dataset: { run: r.run },
        on: {
          click: () => onOpen(r.run),
          keydown: (/** @type {KeyboardEvent} */ ev) => {
            if (ev.key === "Enter") onOpen(r.run);
          },
        },
      },
      el("td", { class: "rg-compare-run" }, swatch, el("span", { text: r.run })),
      ...cells,
      lossTd(r.loss),
      findingsCell(r.findings),
    );
    if (r.nonfinite !== null && r.nonfinite > 0) tr.classList.add("rg-compare-nonfinite");
    return tr;
  });
  replaceChildren(table, el("thead", {}, head), el("tbody", {}, ...body));
}

/** @param {CompareRow["loss"]} entry The run's losses. @returns {HTMLTableCellElement} */
function lossTd(entry) {
  const cell = lossCell(entry);
  return el("td", { class: "rg-num rg-compare-loss", text: cell.text, title: cell.title });
}

/**
 * @param {import("../health_model.js").Finding[]|undefined} findings The run's findings.
 * @returns {HTMLTableCellElement}
 */
function findingsCell(findings) {
  const td = el("td", { class: "rg-compare-findings", text: findingCodes(findings) });
  if (findings && findings.length) td.dataset.status = worst(findings);
  if (findings) td.title = findings.map((f) => `${f.code}: ${f.message}`).join("\n");
  return td;
}

/**
 * @param {number|null|undefined} v Value (none: "–").
 * @param {(v: number) => string} format Its text.
 * @param {string} [title] Tooltip.
 * @returns {HTMLTableCellElement}
 */
function numberCell(v, format, title = "") {
  return el("td", { class: "rg-num", text: v === null || v === undefined ? "–" : format(v), title });
}
