/**
 * Draw-time benchmark page for bench/browser.py: loads `.npy` files and times
 * the plugin's view modules (the code the RNN Gradients tab runs) drawing them.
 * Served with ../frontend beside it; Python drives it through window.bench.
 */
import { maxAbsFinite, symmetricScale } from "../frontend/normalize.js";
import { parseNpy } from "../frontend/npy.js";
import { drawChannelGrid } from "../frontend/views/channel_grid.js";
import { drawFlow } from "../frontend/views/flow.js";
import { drawHeatmap } from "../frontend/views/heatmap.js";
import { blockStats, gateSpans } from "../frontend/gates.js";
import { rebinStack } from "../frontend/histogram_stack.js";
import { createWeightsSection } from "../frontend/views/weights_section.js";

const heat = document.getElementById("heatmap");
const grid = document.getElementById("grid");
const flowCanvas = document.getElementById("flow");
const arrays = new Map();
const profiles = new Map();

function flush(canvas) {
  canvas.getContext("2d").getImageData(0, 0, 1, 1); // waits for the raster
}

function drawOnce(name, what, samplesMode, width) {
  const { data, dims } = arrays.get(name);
  const samples = samplesMode === "one" ? [0] : [...Array(dims.batch).keys()];
  if (what === "heatmap" || what === "both") {
    const scale = symmetricScale(maxAbsFinite(data));
    drawHeatmap(heat, data, dims, { scale, samples, availWidth: width });
    flush(heat);
  }
  if (what === "grid" || what === "both") {
    drawChannelGrid(grid, data, dims, { samples, availWidth: width });
    flush(grid);
  }
}

let weights = null;

/**
 * The Weights view's data for two loaded (1, rows, cols) arrays, as weight_model.js
 * builds it (gate split and per-gate figures), with `steps` logged histograms of 30
 * buckets per gate.
 */
function weightsView(names, gates, steps) {
  const meta = { gates };
  const matrices = names.map((name, i) => {
    const { data, dims } = arrays.get(name);
    const [rows, cols] = [dims.time, dims.channels];
    const spans = gateSpans(meta, cols);
    const stats = spans.map((s) => blockStats(data, rows, cols, s));
    const kind = i === 0 ? "weights" : "weight_gradients";
    return { kind, tag: name, array: data, rows, cols, spans, stats };
  });
  const histograms = gates.map((gate, g) => {
    const series = Array.from({ length: steps }, (_, s) => ({
      step: s * 100,
      wallTime: s,
      buckets: Array.from({ length: 30 }, (_, b) => [
        (b - 15) / 10 + g + s / steps,
        (b - 14) / 10 + g + s / steps,
        Math.round(1000 * Math.exp(-(((b - 15) / 6) ** 2))),
      ]),
    }));
    return { gate, stack: rebinStack(series), error: null };
  });
  return { matrices, weight: "kernel", rowName: "unit", direction: "", histograms, notes: [] };
}

window.bench = {
  /** Fetches and parses a .npy (B, T, C); returns its shape and parse ms. */
  async load(name, url) {
    const buffer = await (await fetch(url)).arrayBuffer();
    const t0 = performance.now();
    const npy = parseNpy(buffer);
    const parseMs = performance.now() - t0;
    const [batch, time, channels] = npy.shape;
    arrays.set(name, { data: npy.data, dims: { batch, time, channels } });
    return { shape: npy.shape, parseMs };
  },
  /** Fetches and parses a `profile` route answer; returns its steps and parse ms. */
  async loadProfile(name, url) {
    const text = await (await fetch(url)).text();
    const t0 = performance.now();
    const profile = JSON.parse(text);
    const parseMs = performance.now() - t0;
    profiles.set(name, profile);
    return { steps: profile.steps.length, parseMs };
  },
  /** ms to draw the flow view of profile `name` at `step` and read a pixel back. */
  flow(name, step, width = 1200) {
    const t0 = performance.now();
    drawFlow(flowCanvas, profiles.get(name), { currentStep: step, availWidth: width });
    flush(flowCanvas);
    return performance.now() - t0;
  },
  /** ms to draw `what` ("heatmap", "grid", "both") and read a pixel back. */
  draw(name, what, samplesMode = "all", width = 1200) {
    const t0 = performance.now();
    drawOnce(name, what, samplesMode, width);
    return performance.now() - t0;
  },
  /** ms from the start of the draw until the next animation frame runs. */
  async drawToFrame(name, what, samplesMode = "all", width = 1200) {
    await new Promise((r) => requestAnimationFrame(r)); // start on a frame
    const t0 = performance.now();
    drawOnce(name, what, samplesMode, width);
    await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  },
  /**
   * ms to build the Weights view of two loaded matrices (gate split and figures,
   * `steps` logged histograms per gate rebinned) and draw its section (one heatmap
   * per gate of both, colour bars, one histogram stack per gate), pixels read back.
   */
  drawWeights(names, gates, steps, width = 1200) {
    if (!weights) {
      weights = createWeightsSection();
      document.body.append(weights.element);
    }
    const t0 = performance.now();
    const w = weightsView(names, gates, steps);
    weights.draw({ weights: w, meta: { kind: "weights" }, step: (steps - 1) * 100, width });
    flush(weights.element.querySelector("canvas.rg-gates"));
    flush(weights.element.querySelector("canvas.rg-gate-histograms"));
    return performance.now() - t0;
  },
  /** Canvas sizes in device pixels. */
  sizes() {
    return { heatmap: [heat.width, heat.height], grid: [grid.width, grid.height] };
  },
};
document.title = "ready";
