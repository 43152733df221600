/**
 * Draw-time benchmark of the view modules, run in a browser by test_perf.py.
 * Serve the repository root and open tests/e2e/bench_page/bench.html; results
 * land in window.benchResults.
 */
import { drawChannelGrid } from "../../../frontend/views/channel_grid.js";
import { drawHeatmap } from "../../../frontend/views/heatmap.js";
import { maxAbsFinite, symmetricScale } from "../../../frontend/normalize.js";

function randomTensor(b, t, c, seed) {
  const a = new Float32Array(b * t * c);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) / 4294967296 - 0.5) * Math.exp(-((i / c) % t) / 50);
  }
  return a;
}

function median(xs) {
  const s = xs.slice().sort((p, q) => p - q);
  return s[s.length >> 1];
}

/** Times fn over `reps` runs after 2 warm-ups; forces a pixel read to flush. */
function time(fn, canvas, reps = 7) {
  const ms = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    fn(i);
    canvas.getContext("2d").getImageData(0, 0, 1, 1);
    if (i >= 2) ms.push(performance.now() - t0);
  }
  return median(ms);
}

const heat = document.getElementById("heatmap");
const grid = document.getElementById("grid");
const results = {};

// 16 x 200 x 64: heatmap of every sample (small multiples) + channel grid.
{
  const dims = { batch: 16, time: 200, channels: 64 };
  const a = randomTensor(16, 200, 64, 7);
  const scale = symmetricScale(maxAbsFinite(a));
  const samples = [...Array(16).keys()];
  results.all16x200x64 = time(() => {
    drawHeatmap(heat, a, dims, { scale, samples, availWidth: 1200 });
    drawChannelGrid(grid, a, dims, { samples, availWidth: 1200 });
  }, grid);
  results.all16heatOnly = time(() => {
    drawHeatmap(heat, a, dims, { scale, samples, availWidth: 1200 });
  }, heat);
  results.all16gridOnly = time(() => {
    drawChannelGrid(grid, a, dims, { samples, availWidth: 1200 });
  }, grid);
  results.one16x200x64 = time(() => {
    drawHeatmap(heat, a, dims, { scale, samples: [3], availWidth: 1200 });
    drawChannelGrid(grid, a, dims, { samples: [3], availWidth: 1200 });
  }, grid);
}

// One 512 x 256 heatmap (timesteps x channels).
{
  const dims = { batch: 1, time: 512, channels: 256 };
  const a = randomTensor(1, 512, 256, 11);
  const scale = symmetricScale(maxAbsFinite(a));
  results.heatmap512x256 = time(() => {
    drawHeatmap(heat, a, dims, { scale, availWidth: 1200 });
  }, heat);
}

// Scrubbing: 50 different steps already in memory, drawn back to back.
{
  const dims = { batch: 16, time: 200, channels: 64 };
  const steps = [...Array(50).keys()].map((i) => randomTensor(16, 200, 64, i + 1));
  const t0 = performance.now();
  for (const a of steps) {
    const scale = symmetricScale(maxAbsFinite(a));
    drawHeatmap(heat, a, dims, { scale, samples: [0], availWidth: 1200 });
    drawChannelGrid(grid, a, dims, { samples: [0], availWidth: 1200 });
    grid.getContext("2d").getImageData(0, 0, 1, 1);
  }
  results.scrubStepsPerSecond = 50000 / (performance.now() - t0);
}

window.benchResults = results;
document.title = "done";
