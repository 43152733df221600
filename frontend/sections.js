/**
 * The sections of a run panel, one per view (heatmap, channel grid, 0D, flow over
 * training): caption, a line on how to read it, canvas, colour bar, legend and hover
 * read-out. The heatmap of a "weight update by timestep" series is one heatmap per
 * weight. A section keeps what it last drew itself. DOM view.
 * @module sections
 */
import { timeAxisName } from "./calls.js";
import { drawColorbar, drawLogColorbar, specialLegend } from "./colorbar.js";
import { el, replaceChildren } from "./dom.js";
import { channelAxis, originalChannel, storedTimestep, timeAxis } from "./kept.js";
import { channelLabel, noTimeLine, reachName, readingLine } from "./labels.js";
import {
  flowCaption,
  flowReadout,
  gateFractionReadout,
  normReadout,
  valueReadout,
  weightReadout,
} from "./readout.js";
import { colors } from "./theme.js";
import { attachTooltip } from "./tooltip.js";
import { channelGridAt, drawChannelGrid } from "./views/channel_grid.js";
import { drawFlow, flowAt } from "./views/flow.js";
import { drawHeatmap, heatmapAt } from "./views/heatmap.js";
import { drawNormHistory, normHistoryAt } from "./views/norm_history.js";
import { drawScalar0d, scalar0dAt } from "./views/scalar0d.js";
import { axisNames, bandTitle, isGateActivations, weightFrame } from "./weights.js";

const BAR_WIDTH = 260;
/** Line colour of the batch mean (one line per channel, not per sample). */
const meanColor = () => colors().ink;

/**
 * What a section drew.
 * @typedef {object} Drawn
 * @property {object} geom The view's geometry (for hit testing).
 * @property {(x: number, y: number) => string[]|null} readout Hover lines at a point.
 * @property {object} [profile] The flow view's profile.
 * @property {(x: number, y: number) => number|null} [pick] The flow view's step at a
 *   point (a click shows it).
 */

/**
 * What a section draws: a run panel's model (run_model.js RunViews) with the pass's
 * state, its width and the sibling state-gradient tag. run_panel.js shows a section
 * only when its data is there: `prep` and `scale` for the tensor views, `profile`
 * for the flow view.
 * @typedef {Omit<import("./run_model.js").RunViews, "prep"|"scale"|"profile"> & {
 *   prep: import("./prepare.js").Prepared, scale: import("./normalize.js").Scale,
 *   profile: import("./api.js").Profile, state: import("./state.js").State,
 *   kept: number[], width: number, stateTag?: string|null}} SectionModel
 */

/**
 * What a view's drawer (DRAWERS) drew: caption and reading line, geometry,
 * read-out, colour bar, legend, and for the flow view its profile and click pick.
 * @typedef {{caption: string, reading?: string, geom: object,
 *   readout: (x: number, y: number) => string[]|null,
 *   bar: ((bar: HTMLCanvasElement) => void)|null,
 *   legend: Array<"nan"|"posInf"|"negInf"|"masked">,
 *   pick?: (x: number, y: number) => number|null, profile?: object}} SectionDrawing
 */

/**
 * @param {"heatmap"|"grid"|"scatter"|"flow"} name View.
 * @returns {{element: HTMLElement, canvas: HTMLCanvasElement, draw: (v: SectionModel) =>
 *   void, drawn: () => Drawn|null}} draw(v) draws the view of a run panel's model v
 *   (run_panel.js).
 */
export function createSection(name) {
  const caption = el("h3", { class: "rg-caption" });
  const reading = el("p", { class: "rg-reading" });
  const canvas = el("canvas", { class: `rg-canvas rg-${name}` });
  const bar = el("canvas", { class: "rg-colorbar" });
  const row = el("div", { class: "rg-bar-row" }, bar);
  const element = el(
    "div",
    { class: `rg-section rg-section-${name}` },
    caption,
    reading,
    el("div", { class: "rg-scroll" }, canvas),
    row,
  );
  /** @type {Drawn|null} */
  let drawn = null;
  attachTooltip(canvas, (x, y) => (drawn ? drawn.readout(x, y) : null));

  /** @param {SectionModel} v Model. */
  function draw(v) {
    const d = DRAWERS[name](canvas, v);
    caption.textContent = d.caption;
    reading.textContent = d.reading || readingLine(v.meta.kind, name);
    bar.hidden = !d.bar;
    if (d.bar) d.bar(bar);
    replaceChildren(row, bar, specialLegend(d.legend));
    drawn = { geom: d.geom, readout: d.readout, profile: d.profile, pick: d.pick };
  }
  return { element, canvas, draw, drawn: () => drawn };
}

/**
 * How each view is drawn: caption, geometry, read-out, colour bar and legend.
 * @type {Record<string, (canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing>}
 */
const DRAWERS = {
  heatmap: heatmapSection,
  grid: gridSection,
  scatter: scatterSection,
  flow: flowSection,
};

/** @typedef {import("./prepare.js").Prepared} Prepared */

/** @param {Prepared} prep Drawn data. @returns {string} Which samples are drawn. */
function sampleText(prep) {
  if (prep.mean) return "batch mean of |g|";
  if (prep.samples.length > 1) return `all ${prep.samples.length} samples`;
  return `sample ${prep.sampleIds[0]}`;
}

/**
 * The sample number (or "mean") of a drawn batch row.
 * @param {Prepared} prep Drawn data.
 * @param {number} local Batch row of `prep.array`.
 * @returns {number|string}
 */
function sampleOf(prep, local) {
  return prep.sampleIds[prep.samples.indexOf(local)];
}

/**
 * Sample numbers for the views' colours (the batch mean draws in meanColor()).
 * @param {Prepared} prep Drawn data.
 * @returns {number[]}
 */
function colourIds(prep) {
  return prep.sampleIds.map((i) => (typeof i === "number" ? i : 0));
}

/** @type {(canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing} */
function heatmapSection(canvas, v) {
  if (v.prep.weights) return weightsSection(canvas, v);
  const { prep, meta, state } = v;
  const time = timeAxisName(meta);
  const axes = state.transpose ? `x: channel, y: ${time}` : `x: ${time}, y: channel`;
  const geom = drawHeatmap(canvas, prep.array, prep.dims, {
    ...heatmapOptions(v),
    ...keptAxes(prep),
    splitAt: prep.splitAt,
  });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, y) => {
    const hit = heatmapAt(geom, x, y);
    const at = hit && { ...cellAt(prep, geom, hit), sample: hit.sample };
    return at && valueReadout(at, meta, prep.kept);
  };
  return {
    caption: `Heatmap — ${axes} — ${sampleText(prep)}${reflectedText(prep)}`,
    geom,
    readout,
    bar: (bar) => drawColorbar(bar, v.scale, BAR_WIDTH),
    legend: ["nan", "posInf", "negInf", "masked"],
  };
}

/**
 * One timesteps x gates heatmap per weight (per band of a gate-saturation series),
 * titled and labelled by their names.
 * @type {(canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing}
 */
function weightsSection(canvas, v) {
  const { prep, meta, state } = v;
  const names = axisNames(meta, prep.dims);
  const time = timeAxisName(meta);
  const axes = state.transpose ? `x: gate, y: ${time}` : `x: ${time}, y: gate`;
  if (isGateActivations(meta)) return gateSection(canvas, v, names, axes);
  const geom = drawHeatmap(canvas, prep.array, prep.dims, {
    ...heatmapOptions(v),
    titles: prep.samples.map((w) => names.weights[w]),
    channelNames: names.gates,
    frame: weightFrame(names.gates, prep.dims, v.width, state.transpose),
  });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, y) => {
    const hit = heatmapAt(geom, x, y);
    if (!hit) return null;
    return weightReadout({
      ...cellAt(prep, geom, hit),
      weight: names.weights[hit.local],
      gate: names.gates[hit.channel],
    }, meta);
  };
  return {
    caption: `Weight update by timestep — ${axes} — one per weight${reflectedText(prep)}`,
    geom,
    readout,
    bar: (bar) => drawColorbar(bar, v.scale, BAR_WIDTH, true),
    legend: ["nan", "posInf", "negInf"],
  };
}

/**
 * Gate saturation: one timesteps x gates heatmap per band, on a 0 to 1 scale.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {SectionModel} v What to draw.
 * @param {{weights: string[], gates: string[]}} names Bands and gates (axisNames).
 * @param {string} axes Caption text naming the axes.
 * @returns {SectionDrawing}
 */
function gateSection(canvas, v, names, axes) {
  const { prep, meta, state } = v;
  const titles = names.weights.map(bandTitle);
  const geom = drawHeatmap(canvas, prep.array, prep.dims, {
    ...heatmapOptions(v),
    titles: prep.samples.map((b) => titles[b]),
    channelNames: names.gates,
    frame: weightFrame(names.gates, prep.dims, v.width, state.transpose),
  });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, y) => {
    const hit = heatmapAt(geom, x, y);
    if (!hit) return null;
    const at = cellAt(prep, geom, hit);
    return gateFractionReadout(
      { ...at, band: titles[hit.local], gate: names.gates[hit.channel] },
      meta,
    );
  };
  return {
    caption: `Gate saturation — ${axes} — fraction of units, near 0 and near 1${reflectedText(prep)}`,
    geom,
    readout,
    bar: (bar) => drawColorbar(bar, v.scale, BAR_WIDTH, true),
    legend: ["nan"],
  };
}

/**
 * Axis labels in captured indices, for a reduced series (none: indices).
 * @param {Prepared} prep Drawn data.
 */
function keptAxes(prep) {
  const { time: T, channels: C } = prep.dims;
  return {
    channelNames: prep.kept ? channelAxis(C, prep.kept) : undefined,
    timeNames: prep.kept ? timeAxis(T, prep.kept) : undefined,
  };
}

/**
 * The drawHeatmap options of both heatmap sections.
 * @param {SectionModel} v Model.
 */
function heatmapOptions(v) {
  const { prep, state } = v;
  return {
    scale: v.scale,
    samples: prep.samples,
    sampleIds: prep.sampleIds,
    masks: prep.masks,
    maskFlipFrom: prep.maskFlipFrom,
    transpose: state.transpose,
    availWidth: v.width,
    mark: state.mark == null ? null : storedTimestep(state.mark, prep.kept),
  };
}

/** @param {Prepared} prep Drawn data. @returns {string} Caption's note on reflection. */
function reflectedText(prep) {
  return prep.maskFlipFrom < prep.dims.channels ? " — backward half reflected" : "";
}

/**
 * Timestep (and input time, when reflected), value and whether the timestep is
 * masked, of a heatmap cell hit.
 * @param {Prepared} prep Drawn data.
 * @param {import("./views/heatmap.js").HeatmapGeometry} geom From drawHeatmap.
 * @param {{local: number, channel: number, timestep: number}} hit From heatmapAt.
 * @returns {{channel: number, timestep: number, value: number, masked: boolean,
 *   inputTime?: number}}
 */
function cellAt(prep, geom, hit) {
  const { time: T, channels: C } = prep.dims;
  const flipped = hit.channel >= prep.maskFlipFrom;
  const mask = prep.masks[geom.samples.indexOf(hit.local)];
  const valid = !mask || (flipped ? mask[T - 1 - hit.timestep] : mask[hit.timestep]);
  /** @type {ReturnType<typeof cellAt>} */
  const at = {
    channel: hit.channel,
    timestep: hit.timestep,
    value: prep.array[(hit.local * T + hit.timestep) * C + hit.channel],
    masked: !valid,
  };
  if (flipped) at.inputTime = T - 1 - hit.timestep;
  return at;
}

/** @type {(canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing} */
function gridSection(canvas, v) {
  const { prep, meta, state } = v;
  const y = state.yaxis === "free" ? "free per channel" : "shared";
  const geom = drawChannelGrid(canvas, prep.array, prep.dims, {
    samples: prep.samples,
    sampleIds: colourIds(prep),
    color: prep.mean ? meanColor() : undefined,
    yaxis: state.yaxis,
    mask: prep.gridMask,
    maskFlipFrom: prep.maskFlipFrom,
    channelLabel: (c) => channelLabel(originalChannel(c, prep.kept), meta),
    availWidth: v.width,
  });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, yy) => {
    const hit = channelGridAt(geom, prep.array, prep.dims, x, yy);
    return hit && valueReadout({ ...hit, sample: sampleOf(prep, hit.local) }, meta, prep.kept);
  };
  return {
    caption: `Channel grid — value against timestep — ${sampleText(prep)} — y axis ${y}`,
    geom,
    readout,
    bar: null,
    legend: ["nan", "posInf", "negInf"],
  };
}

/** @type {(canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing} */
function scatterSection(canvas, v) {
  const { prep, meta } = v;
  const geom = drawScalar0d(canvas, prep.array, prep.dims, {
    samples: prep.samples,
    sampleIds: colourIds(prep),
    color: prep.mean ? meanColor() : undefined,
    availWidth: v.width,
  });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, y) => {
    const hit = scalar0dAt(geom, prep.array, x, y);
    const hover = hit && { ...hit, sample: sampleOf(prep, hit.local), timestep: null };
    return hover && valueReadout(hover, meta, prep.kept);
  };
  return {
    caption: `0D (no time axis) — value per channel — ${sampleText(prep)}`,
    geom,
    readout,
    bar: null,
    legend: ["nan", "posInf", "negInf"],
  };
}

/** @type {(canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing} */
function flowSection(canvas, v) {
  const { profile } = v;
  if (Array.isArray(v.meta.shape) && v.meta.shape.length === 2) return normSection(canvas, v);
  const reach = reachName(v.meta.kind);
  const geom = drawFlow(canvas, profile, {
    currentStep: v.step,
    availWidth: v.width,
    timeAxis: timeAxisName(v.meta),
    mark: v.state.mark,
  });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, y) => {
    const hit = flowAt(geom, profile, x, y);
    return hit && flowReadout(hit, reach);
  };
  return {
    caption: flowCaption(profile, reach, Boolean(v.meta.has_mask)),
    geom,
    readout,
    pick: (x, y) => flowAt(geom, profile, x, y)?.step ?? null,
    bar: (bar) => drawLogColorbar(bar, geom.range, BAR_WIDTH),
    legend: ["nan", "posInf"],
    profile,
  };
}

/**
 * Data without a time axis: its norm over training instead of a flow image.
 * @type {(canvas: HTMLCanvasElement, v: SectionModel) => SectionDrawing}
 */
function normSection(canvas, v) {
  const { profile } = v;
  const geom = drawNormHistory(canvas, profile, { currentStep: v.step, availWidth: v.width });
  /** @type {SectionDrawing["readout"]} */
  const readout = (x, y) => {
    const hit = normHistoryAt(geom, profile, x, y);
    return hit && normReadout(hit);
  };
  return {
    caption:
      "Norm over training — one L2 norm (batch and channels) per logged step, log " +
      "axis; no time axis, so no flow image and no reach; click a point to show that step",
    reading: noTimeLine(v.stateTag),
    geom,
    readout,
    pick: (x, y) => normHistoryAt(geom, profile, x, y)?.step ?? null,
    bar: null,
    legend: ["nan", "posInf"],
    profile,
  };
}
