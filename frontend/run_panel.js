/**
 * One run's column: header, messages, NaN/Inf counts and the views (heatmap,
 * channel grid, 0D scatter, gradient flow over training) with colour bars and hover
 * read-outs.
 * @module run_panel
 */
import { drawColorbar, drawLogColorbar, specialLegend } from "./colorbar.js";
import { css, SPECIAL } from "./colormap.js";
import { el, replaceChildren } from "./dom.js";
import { channelLabel, kindLabel, layerSummary } from "./labels.js";
import { readoutValue } from "./layout.js";
import { shownStepText } from "./steps.js";
import { attachTooltip } from "./tooltip.js";
import { channelGridAt, drawChannelGrid } from "./views/channel_grid.js";
import { drawFlow, flowAt } from "./views/flow.js";
import { drawHeatmap, heatmapAt } from "./views/heatmap.js";
import { drawScalar0d, scalar0dAt } from "./views/scalar0d.js";

/**
 * @param {string} run Run name (shown as text only).
 * @param {{onStep: (step: number) => void}} hooks Flow-view clicks pick a step.
 * @returns {object} Panel with element, showMessage, draw, setMeta, reset.
 */
export function createRunPanel(run, hooks) {
  const title = el("h2", { class: "rg-run-name", text: run });
  const kind = el("p", { class: "rg-kind" });
  const layer = el("p", { class: "rg-layer" });
  const stepInfo = el("p", { class: "rg-step-info" });
  const message = el("div", { class: "rg-message", role: "alert", hidden: true });
  const counts = el("p", { class: "rg-counts" });
  const sections = {
    heatmap: section("heatmap"),
    grid: section("grid"),
    scatter: section("scatter"),
    flow: section("flow"),
  };
  const views = el("div", { class: "rg-views" }, ...Object.values(sections).map((s) => s.element));
  const element = el(
    "section",
    { class: "rg-panel", dataset: { run } },
    title,
    kind,
    layer,
    stepInfo,
    message,
    counts,
    views,
  );
  sections.flow.canvas.addEventListener("click", (ev) => {
    const f = sections.flow.canvas.rgFlow;
    if (!f) return;
    const r = sections.flow.canvas.getBoundingClientRect();
    const hit = flowAt(f.geom, f.profile, f.reach, ev.clientX - r.left, ev.clientY - r.top);
    if (hit) hooks.onStep(hit.step);
  });

  /**
   * Shows an error instead of the views (the run cannot show this tag at all).
   * @param {string} text Message (text only).
   */
  function showMessage(text) {
    setMessages([text]);
    stepInfo.textContent = "";
    views.hidden = true;
    counts.hidden = true;
  }

  /** @param {string[]} texts Messages shown above the views (none: box hidden). */
  function setMessages(texts) {
    message.textContent = texts.join("\n");
    message.hidden = texts.length === 0;
  }

  /** Clears the header lines (before drawing another run/tag/step). */
  function reset() {
    kind.textContent = "";
    layer.textContent = "";
    stepInfo.textContent = "";
  }

  /** @param {object} meta Tag metadata. */
  function setMeta(meta) {
    kind.textContent = kindLabel(meta.kind);
    layer.textContent = [layerSummary(meta), meta.description].filter(Boolean).join(" — ");
  }

  /**
   * Draws every view that is switched on.
   * @param {object} v
   * @param {object} v.meta Tag metadata.
   * @param {import("./prepare.js").Prepared|null} v.prep Data of the step shown (null
   *   when the tensor could not be shown: only the flow view is drawn).
   * @param {import("./normalize.js").Scale|null} v.scale Colour scale.
   * @param {import("./state.js").State} v.state UI state.
   * @param {number|null} v.step Step shown.
   * @param {number|null} v.chosen Step chosen (null = the latest).
   * @param {number[]} v.kept Sorted union of the steps kept for the runs shown.
   * @param {object|null} v.profile Profile (null when it could not be loaded).
   * @param {number[]} v.reach Reach per profile step.
   * @param {number} v.width Width available, CSS px.
   * @param {string} [v.note] Extra text for the step line.
   * @param {string[]} [v.messages] Errors shown above the views drawn (e.g. why the
   *   tensor or the profile could not be loaded).
   */
  function draw(v) {
    setMeta(v.meta);
    setMessages(v.messages || []);
    views.hidden = false;
    counts.hidden = !v.prep;
    const rank2 = Array.isArray(v.meta.shape) && v.meta.shape.length === 2;
    const on = (name) => v.state.views.includes(name);
    sections.heatmap.element.hidden = !(on("heatmap") && !rank2 && v.prep);
    sections.grid.element.hidden = !(on("grid") && !rank2 && v.prep);
    sections.scatter.element.hidden = !(on("scatter") && rank2 && v.prep);
    sections.flow.element.hidden = !(on("flow") && v.profile);
    stepInfo.textContent = stepText(v);
    if (v.prep) {
      showCounts(v.prep);
      if (!sections.heatmap.element.hidden) drawHeatmapSection(sections.heatmap, v);
      if (!sections.grid.element.hidden) drawGridSection(sections.grid, v);
      if (!sections.scatter.element.hidden) drawScatterSection(sections.scatter, v);
    }
    if (!sections.flow.element.hidden) drawFlowSection(sections.flow, v);
  }

  function showCounts(prep) {
    const c = prep.counts;
    const where = prep.mean
      ? "in the batch"
      : prep.samples.length > 1
        ? "in all samples"
        : `in sample ${prep.sampleIds[0]}`;
    replaceChildren(
      counts,
      countItem("NaN", c.nan, SPECIAL.nan),
      countItem("+Inf", c.posInf, SPECIAL.posInf),
      countItem("−Inf", c.negInf, SPECIAL.negInf),
      ` ${where}`,
    );
    counts.classList.toggle("rg-bad", c.nan + c.posInf + c.negInf > 0);
  }

  return { element, showMessage, draw, setMeta, reset };
}

function stepText(v) {
  if (v.step === null || v.step === undefined) return "no step logged";
  return `${shownStepText(v.step, v.chosen, v.kept)}${v.note ? ` · ${v.note}` : ""}`;
}

function countItem(name, n, rgb) {
  return el(
    "span",
    { class: "rg-count" },
    el("span", { class: "rg-swatch", style: { background: css(rgb) } }),
    `${name}: ${n}`,
  );
}

function section(name) {
  const caption = el("h3", { class: "rg-caption" });
  const canvas = el("canvas", { class: `rg-canvas rg-${name}` });
  const bar = el("canvas", { class: "rg-colorbar" });
  const legend = el("div", { class: "rg-bar-row" }, bar);
  const scroll = el("div", { class: "rg-scroll" }, canvas);
  const element = el("div", { class: `rg-section rg-section-${name}` }, caption, scroll, legend);
  attachTooltip(canvas, null);
  return { element, caption, canvas, bar, legend };
}

function sampleText(prep) {
  if (prep.mean) return "batch mean of |g|";
  if (prep.samples.length > 1) return `all ${prep.samples.length} samples`;
  return `sample ${prep.sampleIds[0]}`;
}

function setLegend(s, extra) {
  while (s.legend.childNodes.length > 1) s.legend.removeChild(s.legend.lastChild);
  s.legend.append(extra);
}

function drawHeatmapSection(s, v) {
  const { prep, meta, state } = v;
  const axes = state.transpose ? "x: channel, y: timestep" : "x: timestep, y: channel";
  const reflected = prep.maskFlipFrom < prep.dims.channels ? " — backward half reflected" : "";
  s.caption.textContent = `Heatmap — ${axes} — ${sampleText(prep)}${reflected}`;
  const geom = drawHeatmap(s.canvas, prep.array, prep.dims, {
    scale: v.scale,
    samples: prep.samples,
    sampleIds: prep.sampleIds,
    masks: prep.masks,
    maskFlipFrom: prep.maskFlipFrom,
    transpose: state.transpose,
    splitAt: prep.splitAt,
    availWidth: v.width,
  });
  s.canvas.rgGeom = geom;
  drawColorbar(s.bar, v.scale, 260);
  setLegend(s, specialLegend());
  const { time: T, channels: C } = prep.dims;
  s.canvas.rgLookup = (x, y) => {
    const hit = heatmapAt(geom, x, y);
    if (!hit) return null;
    const value = prep.array[(hit.local * T + hit.timestep) * C + hit.channel];
    const flipped = hit.channel >= prep.maskFlipFrom;
    const mask = prep.masks[geom.samples.indexOf(hit.local)];
    const valid = !mask || (flipped ? mask[T - 1 - hit.timestep] : mask[hit.timestep]);
    return [
      prep.mean ? "batch mean of |g|" : `sample ${hit.sample}`,
      channelLabel(hit.channel, meta),
      `timestep ${hit.timestep}${flipped ? ` (input time ${T - 1 - hit.timestep})` : ""}`,
      `value ${readoutValue(value)}${valid ? "" : " (masked timestep)"}`,
    ];
  };
}

function drawGridSection(s, v) {
  const { prep, meta, state } = v;
  const y = state.yaxis === "free" ? "free per channel" : "shared";
  s.caption.textContent =
    `Channel grid — value against timestep — ${sampleText(prep)} — y axis ${y}`;
  const geom = drawChannelGrid(s.canvas, prep.array, prep.dims, {
    samples: prep.samples,
    sampleIds: prep.sampleIds.map((i) => (typeof i === "number" ? i : 0)),
    color: prep.mean ? "#333333" : undefined,
    yaxis: state.yaxis,
    mask: prep.gridMask,
    maskFlipFrom: prep.maskFlipFrom,
    channelLabel: (c) => channelLabel(c, meta),
    availWidth: v.width,
  });
  s.bar.hidden = true;
  setLegend(s, specialLegend(["nan", "posInf", "negInf"]));
  s.canvas.rgGeom = geom;
  s.canvas.rgLookup = (x, y) => {
    const hit = channelGridAt(geom, prep.array, prep.dims, x, y);
    if (!hit) return null;
    return [
      prep.mean ? "batch mean of |g|" : `sample ${prep.sampleIds[prep.samples.indexOf(hit.local)]}`,
      channelLabel(hit.channel, meta),
      `timestep ${hit.timestep}`,
      `value ${readoutValue(hit.value)}`,
    ];
  };
}

function drawScatterSection(s, v) {
  const { prep, meta } = v;
  s.caption.textContent = `0D (no time axis) — value per channel — ${sampleText(prep)}`;
  const geom = drawScalar0d(s.canvas, prep.array, prep.dims, {
    samples: prep.samples,
    sampleIds: prep.sampleIds.map((i) => (typeof i === "number" ? i : 0)),
    color: prep.mean ? "#333333" : undefined,
    availWidth: v.width,
  });
  setLegend(s, specialLegend(["nan", "posInf", "negInf"]));
  s.bar.hidden = true;
  s.canvas.rgGeom = geom;
  s.canvas.rgLookup = (x, y) => {
    const hit = scalar0dAt(geom, prep.array, x, y);
    if (!hit) return null;
    return [
      prep.mean ? "batch mean of |g|" : `sample ${prep.sampleIds[prep.samples.indexOf(hit.local)]}`,
      channelLabel(hit.channel, meta),
      "timestep — (no time axis)",
      `value ${readoutValue(hit.value)}`,
    ];
  };
}

function drawFlowSection(s, v) {
  const { profile, reach } = v;
  const pct = Math.round((profile.reach_threshold ?? 0.01) * 1000) / 10;
  s.caption.textContent =
    "Gradient flow over training — per-timestep L2 norm (log colour), one row per " +
    `logged step; right: reach (timesteps back with ≥ ${pct}% of the max); ` +
    "click a row to show that step";
  const geom = drawFlow(s.canvas, profile, reach, { currentStep: v.step, availWidth: v.width });
  drawLogColorbar(s.bar, geom.range, 260);
  setLegend(s, specialLegend(["nan", "posInf"]));
  s.canvas.rgFlow = { geom, profile, reach };
  s.canvas.rgGeom = geom;
  s.canvas.rgLookup = (x, y) => {
    const hit = flowAt(geom, profile, reach, x, y);
    if (!hit) return null;
    const lines = [`step ${hit.step}`];
    if (hit.timestep !== null) {
      lines.push(`timestep ${hit.timestep}`, `norm ${readoutValue(hit.value)}`);
      if (hit.nan) lines.push(`NaN: ${hit.nan}`);
      if (hit.inf) lines.push(`Inf: ${hit.inf}`);
    }
    lines.push(`reach ${hit.reach} timesteps back`);
    return lines;
  };
}
