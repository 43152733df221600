/**
 * Colour bars with value ticks, and the legend of special colours.
 * @module colorbar
 */
import { AXIS_FONT, blit, scratchImage, sizeCanvas } from "./canvas_util.js";
import { CENTER, SPECIAL, css, divergingLut, sequentialLut } from "./colormap.js";
import { el } from "./dom.js";
import { fromUnit } from "./normalize.js";
import { colors } from "./theme.js";
import { formatTicks } from "./ticks.js";

const DIV = divergingLut();
const SEQ = sequentialLut();
const BAR_H = 10;

/**
 * Draws a horizontal diverging bar for a scale, with ticks at -1, -0.5, 0, 0.5, 1;
 * for values that cannot be negative (norms) only its upper half, from 0, when the
 * scale puts 0 at its centre.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {import("./normalize.js").Scale} scale Scale shown.
 * @param {number} [width] CSS px.
 * @param {boolean} [positive] The values drawn are never negative.
 */
export function drawColorbar(canvas, scale, width = 240, positive = false) {
  const ctx = sizeCanvas(canvas, width, BAR_H + 16);
  const from = positive && fromUnit(0, scale) === 0 ? 0 : -1;
  const n = Math.round((1 - from) * 127) + 1;
  const s = scratchImage(n, 1);
  for (let i = 0; i < n; i++) s.pixels[i] = DIV[CENTER + from * 127 + i];
  blit(ctx, s, 8, 0, width - 16, BAR_H);
  const us = [0, 1, 2, 3, 4].map((k) => from + (k * (1 - from)) / 4);
  const labels = formatTicks(us.map((u) => fromUnit(u, scale)));
  const ticks = us.map((u, k) => /** @type {[number, string]} */ ([(u - from) / (1 - from), labels[k]]));
  drawTicks(ctx, ticks, width);
  canvas.dataset.ticks = JSON.stringify(labels);
  canvas.dataset.lo = String(fromUnit(from, scale));
  canvas.dataset.hi = String(fromUnit(1, scale));
  canvas.title = scale.kind === "log" ? "signed log10 magnitude" : "linear";
}

/**
 * Draws a sequential log bar from 10^loLog to 10^hiLog with a tick per decade or two.
 * @param {HTMLCanvasElement} canvas Target.
 * @param {{loLog: number, hiLog: number}} range log10 range.
 * @param {number} [width] CSS px.
 */
export function drawLogColorbar(canvas, range, width = 240) {
  const ctx = sizeCanvas(canvas, width, BAR_H + 16);
  const s = scratchImage(256, 1);
  s.pixels.set(SEQ);
  blit(ctx, s, 8, 0, width - 16, BAR_H);
  const span = range.hiLog - range.loLog || 1;
  const fractions = [0, 1, 2, 3, 4].map((k) => k / 4);
  const labels = formatTicks(fractions.map((f) => 10 ** (range.loLog + f * span)));
  drawTicks(
    ctx,
    fractions.map((f, k) => /** @type {[number, string]} */ ([f, labels[k]])),
    width,
  );
  canvas.dataset.ticks = JSON.stringify(labels);
}

/**
 * Draws tick labels, the ends and centre first, skipping any that would overlap.
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {Array<[number, string]>} ticks [fraction of the bar in 0..1, label].
 * @param {number} width Width of the bar, CSS px.
 */
function drawTicks(ctx, ticks, width) {
  ctx.font = AXIS_FONT;
  ctx.fillStyle = colors().axis;
  ctx.textBaseline = "top";
  /** @type {Array<[number, number]>} */
  const taken = [];
  const n = ticks.length;
  const order = new Set([0, n - 1, Math.floor(n / 2), ...ticks.keys()]);
  for (const i of order) {
    const [f, label] = ticks[i];
    const x = 8 + f * (width - 16);
    const w = ctx.measureText(label).width;
    const left = Math.max(0, Math.min(width - w, x - w / 2));
    if (taken.some(([a, b]) => left < b + 6 && left + w > a - 6)) continue;
    taken.push([left, left + w]);
    ctx.fillRect(Math.round(x), BAR_H, 1, 3);
    ctx.textAlign = "left";
    ctx.fillText(label, left, BAR_H + 4);
  }
}

/**
 * Legend of the colours that are not on the scale.
 * @param {Array<"nan"|"posInf"|"negInf"|"masked">} [which] Keys of colormap.SPECIAL
 *   to list.
 * @returns {HTMLElement}
 */
export function specialLegend(which = ["nan", "posInf", "negInf", "masked"]) {
  const names = { nan: "NaN", posInf: "+Inf", negInf: "−Inf", masked: "masked" };
  return el(
    "span",
    { class: "rg-legend" },
    ...which.map((k) =>
      el(
        "span",
        { class: "rg-legend-item" },
        el("span", { class: "rg-swatch", style: { background: css(SPECIAL[k]) } }),
        names[k],
      ),
    ),
  );
}
