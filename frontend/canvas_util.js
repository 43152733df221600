/**
 * Canvas helpers shared by the views: HiDPI sizing and a reused scratch image.
 * @module canvas_util
 */

/**
 * Sizes a canvas for CSS size w x h at the device pixel ratio and clears it.
 * @param {HTMLCanvasElement} canvas Canvas.
 * @param {number} w CSS width, px.
 * @param {number} h CSS height, px.
 * @returns {CanvasRenderingContext2D} Context scaled so that 1 unit = 1 CSS px.
 */
export function sizeCanvas(canvas, w, h) {
  const dpr = globalThis.devicePixelRatio || 1;
  const W = Math.max(1, Math.round(w * dpr));
  const H = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const cw = `${Math.max(1, Math.round(w))}px`;
  const ch = `${Math.max(1, Math.round(h))}px`;
  if (canvas.style.width !== cw) canvas.style.width = cw;
  if (canvas.style.height !== ch) canvas.style.height = ch;
  // Never null: these canvases get no other kind of context.
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/**
 * @typedef {{canvas: HTMLCanvasElement|OffscreenCanvas,
 *   ctx: CanvasRenderingContext2D|OffscreenCanvasRenderingContext2D,
 *   image: ImageData, pixels: Uint32Array}} Scratch
 */

/** @type {Map<string, Scratch>} */
const scratches = new Map();

/**
 * A reused off-screen image of w x h pixels.
 * @param {number} w Width.
 * @param {number} h Height.
 * @returns {Scratch}
 */
export function scratchImage(w, h) {
  const key = `${w}x${h}`;
  let s = scratches.get(key);
  if (!s) {
    const canvas =
      typeof OffscreenCanvas === "function"
        ? new OffscreenCanvas(w, h)
        : Object.assign(document.createElement("canvas"), { width: w, height: h });
    const ctx = /** @type {Scratch["ctx"]} */ (canvas.getContext("2d"));
    const image = ctx.createImageData(w, h);
    s = { canvas, ctx, image, pixels: new Uint32Array(image.data.buffer) };
    if (scratches.size > 8) scratches.clear();
    scratches.set(key, s);
  }
  return s;
}

/**
 * Blits pixels to a canvas region, one pixel per cell, without smoothing.
 * @param {CanvasRenderingContext2D} ctx Target.
 * @param {ReturnType<typeof scratchImage>} s Filled scratch image.
 * @param {number} x Target x, CSS px.
 * @param {number} y Target y.
 * @param {number} w Target width.
 * @param {number} h Target height.
 */
export function blit(ctx, s, x, y, w, h) {
  s.ctx.putImageData(s.image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(s.canvas, x, y, w, h);
}

/** Font used for axis labels (their colour: theme.colors().axis). */
export const AXIS_FONT = "10px Roboto, system-ui, sans-serif";
