/**
 * Hover read-out: one floating box that follows the pointer over a canvas.
 * @module tooltip
 */
import { el } from "./dom.js";

/** @type {HTMLDivElement|null} */
let box = null;
/**
 * A canvas under a still pointer.
 * @typedef {{canvas: HTMLCanvasElement, lookup: (x: number, y: number) => string[]|null,
 *   clientX: number, clientY: number}} Hover
 */

/** The canvas under a still pointer, or null. @type {Hover|null} */
let hovered = null;

function tooltipBox() {
  if (!box || !box.isConnected) {
    box = el("div", { class: "rg-tooltip", role: "status", hidden: true });
    document.body.append(box);
  }
  return box;
}

/**
 * Shows `lines` near the pointer.
 * @param {{clientX: number, clientY: number}} ev Pointer position.
 * @param {string[]} lines Text lines.
 */
function showTooltip(ev, lines) {
  const b = tooltipBox();
  b.replaceChildren(...lines.map((l) => el("div", { text: l })));
  b.hidden = false;
  const pad = 12;
  let x = ev.clientX + pad;
  let y = ev.clientY + pad;
  const r = b.getBoundingClientRect();
  if (x + r.width > window.innerWidth) x = Math.max(0, ev.clientX - r.width - pad);
  if (y + r.height > window.innerHeight) y = Math.max(0, ev.clientY - r.height - pad);
  b.style.left = `${x}px`;
  b.style.top = `${y}px`;
}

/** Hides the read-out. */
function hideTooltip() {
  if (box) box.hidden = true;
}

/**
 * Wires a canvas to the read-out.
 * @param {HTMLCanvasElement} canvas Canvas.
 * @param {(x: number, y: number) => string[]|null} lookup Lines for a point in canvas
 *   CSS px, or null to hide.
 */
export function attachTooltip(canvas, lookup) {
  canvas.addEventListener("mousemove", (ev) => {
    hovered = { canvas, lookup, clientX: ev.clientX, clientY: ev.clientY };
    showAt(hovered);
  });
  canvas.addEventListener("mouseleave", () => {
    hovered = null;
    hideTooltip();
  });
}

/**
 * Reads the point under a still pointer again, after the canvases were drawn anew
 * (another step, sample mode or scale): the read-out shows what is there now, or
 * hides when nothing is (the canvas was hidden, or shrank from under the pointer).
 */
export function refreshTooltip() {
  if (!hovered) return;
  const { canvas } = hovered;
  if (!canvas.isConnected || canvas.getClientRects().length === 0) {
    hovered = null;
    hideTooltip();
    return;
  }
  showAt(hovered);
}

/** @param {Hover} h Where the pointer rests. */
function showAt(h) {
  const r = h.canvas.getBoundingClientRect();
  const x = h.clientX - r.left;
  const y = h.clientY - r.top;
  const inside = x >= 0 && y >= 0 && x < r.width && y < r.height;
  const lines = inside ? h.lookup(x, y) : null;
  if (lines) showTooltip(h, lines);
  else hideTooltip();
}
