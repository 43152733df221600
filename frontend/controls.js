/**
 * The control bar: runs, layer and quantity (together they pick the tag), training
 * step (slider, arrows, play; the arrow keys step too), samples, colour scale,
 * reflect, transpose, channel-grid y axis and the views shown. Built once; update()
 * only changes values, so a dragged slider keeps focus.
 * @module controls
 */
import { el, replaceChildren } from "./dom.js";
import { quantityLabel } from "./labels.js";
import { createRunFilterBar } from "./run_filter_bar.js";

const SAMPLE_MODES = { one: "one sample", all: "all samples", mean: "batch mean of |g|" };
const SCALES = {
  auto: "symmetric, auto per step",
  fixed: "symmetric, fixed across steps",
  manual: "manual range",
  log: "log magnitude",
};
const Y_AXES = { shared: "shared", free: "free per channel" };
const VIEWS = {
  heatmap: "heatmap",
  grid: "channel grid",
  scatter: "0D",
  flow: "flow over training",
};

/**
 * @typedef {object} ControlsModel
 * @property {string[]} runs All runs with data.
 * @property {Array<{label: string, tag: string, unreadable: boolean}>} layers The
 *   layers of those runs, each with the tag picking it shows (quantities.choices).
 * @property {import("./quantities.js").Entry[]} quantities Quantities of the layer
 *   shown.
 * @property {import("./state.js").State} state Current state.
 * @property {number[]} steps Union of the selected runs' steps.
 * @property {number} stepIndex Slider position.
 * @property {number} batch Samples per step (for the sample input).
 * @property {boolean} hasBatch Whether the series shown have samples (weights do
 *   not).
 * @property {boolean} canReflect Whether reflect applies to the tag.
 * @property {boolean} matrix Whether every series shown is a weight matrix (the
 *   Weights view: no samples, layout or views to choose).
 * @property {boolean} playing Whether playback runs.
 */

/**
 * The inputs of the control bar (buildInputs), and the parts createControls adds.
 * @typedef {object} Inputs
 * @property {HTMLDivElement} runList
 * @property {HTMLSelectElement} tag
 * @property {HTMLSelectElement} quantity
 * @property {HTMLInputElement} slider
 * @property {HTMLOutputElement} stepLabel
 * @property {HTMLButtonElement} prev
 * @property {HTMLButtonElement} next
 * @property {HTMLButtonElement} play
 * @property {HTMLSelectElement} sampleMode
 * @property {HTMLInputElement} sample
 * @property {HTMLSelectElement} scale
 * @property {HTMLInputElement} min
 * @property {HTMLInputElement} max
 * @property {HTMLSpanElement} manualBox
 * @property {HTMLInputElement} reflect
 * @property {HTMLInputElement} transpose
 * @property {HTMLSelectElement} yaxis
 * @property {Record<string, HTMLInputElement>} views
 * @property {ReturnType<typeof createRunFilterBar>} filterBar
 * @property {HTMLDivElement[]} viewFields
 */

/** @typedef {{runs: string, layers: string, quantities: string}} ListKeys */

/**
 * A change from the controls: a partial state, or {stepIndex} / {play} / {stepBy}.
 * @typedef {(patch: object) => void} OnChange
 */

/**
 * @param {OnChange} onChange Called with a partial state, or with
 *   {stepIndex} / {play} / {stepBy}.
 * @returns {{element: HTMLElement, update: (m: ControlsModel) => void}}
 */
export function createControls(onChange) {
  const c = buildInputs(onChange);
  c.filterBar = createRunFilterBar(onChange);
  // What shapes one run's views, the step first.
  c.viewFields = [
    field(
      "Step",
      el("span", { class: "rg-step-row" }, c.prev, c.slider, c.next, c.play, c.stepLabel),
    ),
    field("Samples", el("span", {}, c.sampleMode, " ", c.sample), "rg-sample-mode"),
    field("Colour scale", el("span", {}, c.scale, c.manualBox), "rg-scale"),
    field(
      "Layout",
      el(
        "span",
        {},
        labelled(c.reflect, "reflect backward half"),
        labelled(c.transpose, "timesteps on y"),
        " channel grid y: ",
        c.yaxis,
      ),
    ),
    field(
      "Views",
      el("span", {}, ...Object.entries(VIEWS).map(([k, t]) => labelled(c.views[k], t))),
    ),
  ];
  const element = el(
    "div",
    { class: "rg-controls" },
    field("Runs", el("div", { class: "rg-runs-box" }, c.filterBar.element, c.runList)),
    field("Layer", c.tag, "rg-tag"),
    field("Quantity", c.quantity, "rg-quantity"),
    ...c.viewFields,
  );
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
    const t = /** @type {HTMLInputElement|null} */ (ev.target);
    const field = t && (t.tagName === "SELECT" || t.tagName === "INPUT");
    const typing = field && t.type !== "checkbox";
    if (typing) return; // the slider and number inputs use the arrows themselves
    ev.preventDefault();
    onChange({ stepBy: ev.key === "ArrowLeft" ? -1 : 1 });
  });
  /** @type {ListKeys} */
  const keys = { runs: "", layers: "", quantities: "" };
  return { element, update: (/** @type {ControlsModel} */ m) => update(c, keys, m, onChange) };
}

/**
 * Creates every input, wired to onChange.
 * @param {OnChange} onChange Called on a change.
 * @returns {Inputs} All but filterBar and viewFields, which createControls adds.
 */
function buildInputs(onChange) {
  const c = /** @type {Inputs} */ ({}); // filled in below
  c.runList = el("div", {
    class: "rg-run-list",
    id: "rg-runs",
    role: "group",
    "aria-label": "runs",
  });
  c.tag = select("rg-tag", {}, (v) => onChange({ tag: v }));
  c.quantity = select("rg-quantity", {}, (v) => onChange({ quantity: v }));
  c.slider = el("input", {
    id: "rg-step",
    type: "range",
    min: 0,
    max: 0,
    step: 1,
    value: 0,
    "aria-label": "training step",
    on: { input: () => onChange({ stepIndex: Number(c.slider.value) }) },
  });
  c.stepLabel = el("output", { id: "rg-step-label", class: "rg-step-label" });
  c.prev = button("◀", "previous step (←)", () => onChange({ stepBy: -1 }));
  c.next = button("▶", "next step (→)", () => onChange({ stepBy: 1 }));
  c.play = button("Play", "play through the steps", () => onChange({ play: "toggle" }));
  c.play.id = "rg-play";
  c.sampleMode = select("rg-sample-mode", SAMPLE_MODES, (v) => onChange({ sampleMode: v }));
  c.sample = el("input", {
    id: "rg-sample",
    type: "number",
    min: 0,
    step: 1,
    value: 0,
    "aria-label": "sample index",
  });
  c.sample.addEventListener("change", () =>
    onChange({ sample: Math.max(0, Math.trunc(Number(c.sample.value)) || 0) }),
  );
  c.scale = select("rg-scale", SCALES, (v) => onChange({ scale: v }));
  const manual = () => onChange({ min: Number(c.min.value), max: Number(c.max.value) });
  c.min = numberInput("rg-min", "colour scale minimum", manual);
  c.max = numberInput("rg-max", "colour scale maximum", manual);
  c.manualBox = el("span", { class: "rg-manual" }, " from ", c.min, " to ", c.max);
  c.reflect = checkbox("rg-reflect", (v) => onChange({ reflect: v }));
  c.transpose = checkbox("rg-transpose", (v) => onChange({ transpose: v }));
  c.yaxis = select("rg-yaxis", Y_AXES, (v) => onChange({ yaxis: v }));
  const views = () => Object.keys(VIEWS).filter((k) => c.views[k].checked);
  c.views = {};
  for (const k of Object.keys(VIEWS)) {
    c.views[k] = checkbox(`rg-view-${k}`, () => onChange({ views: views() }));
  }
  return c;
}

/**
 * Shows model `m` in the inputs `c`; rebuilds run and tag lists only on change.
 * @param {Inputs} c Inputs.
 * @param {ListKeys} keys What the lists show now (JSON).
 * @param {ControlsModel} m Model.
 * @param {OnChange} onChange Called on a change.
 */
function update(c, keys, m, onChange) {
  const s = m.state;
  const runsKey = JSON.stringify(m.runs);
  if (runsKey !== keys.runs) {
    keys.runs = runsKey;
    const picked = () =>
      [...c.runList.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
    const boxes = m.runs.map((r) => {
      const box = el("input", { type: "checkbox", value: r });
      box.addEventListener("change", () => onChange({ runs: picked() }));
      const label = labelled(box, r);
      label.title = r; // the full name of an ellipsized one
      return label;
    });
    replaceChildren(c.runList, ...boxes);
  }
  for (const box of c.runList.querySelectorAll("input")) box.checked = s.runs.includes(box.value);
  c.filterBar.update(c.runList, m.runs, s);
  updateChoices(c, keys, m);
  // The compare view uses none of them; the Weights view only the step (a matrix has
  // no samples or time axis, and the view has its own colour-scale choice).
  c.viewFields.forEach((f, i) => {
    f.hidden = Boolean(s.compare) || (m.matrix && i > 0);
  });
  updateStep(c, m);
  c.sampleMode.value = s.sampleMode;
  c.sample.value = String(s.sample);
  c.sample.max = String(Math.max(0, m.batch - 1));
  c.sample.hidden = s.sampleMode !== "one";
  c.sampleMode.disabled = !m.hasBatch;
  c.sample.disabled = !m.hasBatch;
  /** @type {HTMLElement} */ (c.sampleMode.parentElement).title = m.hasBatch
    ? ""
    : "weight update by timestep has no samples: every weight is shown";
  c.scale.value = s.scale;
  c.manualBox.hidden = s.scale !== "manual";
  if (document.activeElement !== c.min) c.min.value = String(s.min);
  if (document.activeElement !== c.max) c.max.value = String(s.max);
  c.reflect.checked = s.reflect;
  c.reflect.disabled = !m.canReflect;
  /** @type {HTMLElement} */ (c.reflect.parentElement).title = m.canReflect
    ? "flip the backward half's time axis into processing order"
    : "only for the backward half of a bidirectional layer";
  c.transpose.checked = s.transpose;
  c.yaxis.value = s.yaxis;
  for (const [k, box] of Object.entries(c.views)) box.checked = s.views.includes(k);
}

/**
 * Shows the layers and the quantities of the layer shown; rebuilt only on change.
 * @param {Inputs} c Inputs.
 * @param {ListKeys} keys What the lists show now (JSON).
 * @param {ControlsModel} m Model.
 */
function updateChoices(c, keys, m) {
  const s = m.state;
  const layersKey = JSON.stringify(m.layers);
  if (layersKey !== keys.layers) {
    keys.layers = layersKey;
    const options = m.layers.map((l) => {
      const text = l.unreadable ? `${l.label} (unreadable)` : l.label;
      return el("option", { value: l.tag, text, title: l.tag });
    });
    replaceChildren(c.tag, ...options);
  }
  c.tag.value = s.tag;
  c.tag.title = s.tag;
  const quantitiesKey = JSON.stringify(m.quantities);
  if (quantitiesKey !== keys.quantities) {
    keys.quantities = quantitiesKey;
    const options = m.quantities.map((q) => {
      const name = quantityLabel(q.kind);
      const text = q.unreadable && q.kind !== null ? `${name} (unreadable)` : name;
      return el("option", { value: q.kind ?? "", text, title: q.tag });
    });
    replaceChildren(c.quantity, ...options);
  }
  c.quantity.value = m.quantities.find((q) => q.tag === s.tag)?.kind ?? "";
}

/** @param {Inputs} c Inputs. @param {ControlsModel} m Model. */
function updateStep(c, m) {
  const n = m.steps.length;
  c.slider.max = String(Math.max(0, n - 1));
  c.slider.value = String(m.stepIndex);
  c.slider.disabled = n <= 1;
  c.stepLabel.textContent = n
    ? `step ${m.steps[m.stepIndex]} (${m.stepIndex + 1}/${n})`
    : "no steps";
  c.play.textContent = m.playing ? "Pause" : "Play";
  c.play.disabled = n <= 1;
  c.prev.disabled = m.stepIndex <= 0;
  c.next.disabled = m.stepIndex >= n - 1;
}

/**
 * @param {string} id Element id.
 * @param {Record<string, string>} labels Option value -> text.
 * @param {(value: string) => void} onPick Called with the value picked.
 * @returns {HTMLSelectElement}
 */
function select(id, labels, onPick) {
  const options = Object.entries(labels).map(([v, t]) => el("option", { value: v, text: t }));
  const node = el("select", { id }, ...options);
  node.addEventListener("change", () => onPick(node.value));
  return node;
}

/**
 * @param {string} id Element id.
 * @param {(checked: boolean) => void} onToggle Called on a change.
 * @returns {HTMLInputElement}
 */
function checkbox(id, onToggle) {
  const node = el("input", { id, type: "checkbox" });
  node.addEventListener("change", () => onToggle(node.checked));
  return node;
}

/**
 * @param {string} id Element id.
 * @param {string} label Its aria-label.
 * @param {() => void} onChange Called on a change.
 * @returns {HTMLInputElement}
 */
function numberInput(id, label, onChange) {
  const node = el("input", { id, type: "number", step: "any", "aria-label": label });
  node.addEventListener("change", onChange);
  return node;
}

/**
 * @param {string} text Text.
 * @param {string} title Tooltip.
 * @param {() => void} onClick Called on a click.
 * @returns {HTMLButtonElement}
 */
function button(text, title, onClick) {
  return el("button", { type: "button", text, title, on: { click: onClick } });
}

/**
 * @param {HTMLInputElement} input A checkbox.
 * @param {string} text Its label.
 * @returns {HTMLLabelElement}
 */
function labelled(input, text) {
  return el("label", { class: "rg-check" }, input, el("span", { class: "rg-check-text", text }));
}

/**
 * @param {string} name The field's name.
 * @param {HTMLElement} control Its control(s).
 * @param {string} [forId] Id of the control the name labels.
 * @returns {HTMLDivElement}
 */
function field(name, control, forId) {
  const label = forId
    ? el("label", { class: "rg-field-name", for: forId, text: name })
    : el("span", { class: "rg-field-name", text: name });
  return el("div", { class: "rg-field" }, label, control);
}
