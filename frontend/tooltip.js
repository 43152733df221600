/**
 * Hover read-out: one floating box that follows the pointer over a canvas.
 * @module tooltip
 */
import { el } from "./dom.js";

let box = null;

function tooltipBox() {
  if (!box || !box.isConnected) {
    box = el("div", { class: "rg-tooltip", role: "status", hidden: true });
    document.body.append(box);
  }
  return box;
}

/**
 * Shows `lines` near the pointer.
 * @param {MouseEvent} ev Pointer event (for its page position).
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
    const r = canvas.getBoundingClientRect();
    const lines = lookup(ev.clientX - r.left, ev.clientY - r.top);
    if (lines) showTooltip(ev, lines);
    else hideTooltip();
  });
  canvas.addEventListener("mouseleave", hideTooltip);
}
