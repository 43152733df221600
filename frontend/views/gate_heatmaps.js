/**
 * The Weights view's heatmaps: one per gate of each matrix shown (rows: input
 * features, units or the bias row; columns: the gate's units), titled with the
 * matrix, the gate, the direction and the colour scale's range. drawGateHeatmaps is
 * importable on its own for benchmarks.
 * @module views/gate_heatmaps
 */
import { AXIS_FONT, blit, scratchImage, sizeCanvas } from "../canvas_util.js";
import { divergingLut } from "../colormap.js";
import { fillGateBlock, gateGeometry } from "../gates.js";
import { formatValue, indexTicks } from "../layout.js";
import { colors } from "../theme.js";

const LUT = divergingLut();
/** @type {Record<string, string>} */
const SHORT_DIRECTION = { forward: "fwd", backward: "bwd" };

/**
 * @param {HTMLCanvasElement} canvas Target; resized to fit.
 * @param {Array<{array: ArrayLike<number>, rows: number, cols: number, spans:
 *   import("../gates.js").GateSpan[], stats: Array<{nan: number, posInf: number,
 *   negInf: number}>}>} matrices Matrices (all of one shape).
 * @param {object} opts
 * @param {string[]} opts.names What each matrix holds, e.g. "weights".
 * @param {import("../normalize.js").Scale[][]} opts.scales Per matrix, per gate.
 * @param {string} opts.direction "forward", "backward" or "".
 * @param {number} opts.availWidth Width available, CSS px.
 * @returns {import("../gates.js").GateGeometry & {titles: string[][]}} For hit
 *   testing; `titles` are the two title lines of each tile.
 */
export function drawGateHeatmaps(canvas, matrices, opts) {
  const { rows, spans } = matrices[0];
  const width = spans[0].stop - spans[0].start;
  const geom = gateGeometry(matrices.length, spans.length, rows, width, opts.availWidth);
  const { g } = geom;
  const ctx = sizeCanvas(canvas, geom.width, geom.height);
  const s = scratchImage(width, rows);
  const c = colors();
  /** @type {string[][]} */
  const titles = [];
  ctx.font = AXIS_FONT;
  geom.tiles.forEach(({ matrix, gate }, i) => {
    const m = matrices[matrix];
    const scale = opts.scales[matrix][gate];
    fillGateBlock(s.pixels, m.array, m.rows, m.cols, m.spans[gate], scale, LUT);
    const [ox, oy] = geom.origins[i];
    blit(ctx, s, ox + g.x, oy + g.y, width * g.cellW, rows * g.cellH);
    const lines = tileTitle(opts.names[matrix], m.spans[gate].name, opts.direction, scale, m.stats[gate]);
    titles.push(lines);
    ctx.fillStyle = c.axis;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(lines[0], ox + g.x, oy);
    ctx.fillStyle = m.stats[gate].nan + m.stats[gate].posInf + m.stats[gate].negInf ? c.bad : c.axis;
    ctx.fillText(lines[1], ox + g.x, oy + 13);
    drawAxes(ctx, g, ox, oy);
  });
  return { ...geom, titles };
}

/**
 * The two title lines of a gate's heatmap.
 * @param {string} name What the matrix holds.
 * @param {string} gate Gate name.
 * @param {string|undefined} direction "forward"/"backward" for one half of a layer.
 * @param {{hi: number}} scale Its colour scale.
 * @param {{nan: number, posInf: number, negInf: number}} stats Its non-finite counts.
 * @returns {string[]}
 */
function tileTitle(name, gate, direction, scale, stats) {
  const dir = direction ? ` (${SHORT_DIRECTION[direction]})` : "";
  const bad = /** @type {Array<[number, string]>} */ ([
    [stats.nan, "NaN"],
    [stats.posInf, "+Inf"],
    [stats.negInf, "−Inf"],
  ])
    .filter(([n]) => n > 0)
    .map(([n, what]) => ` ${what} ${n}`)
    .join("");
  return [name, `gate ${gate}${dir} ±${formatValue(scale.hi)}${bad}`];
}

/**
 * @param {CanvasRenderingContext2D} ctx Context.
 * @param {import("../layout.js").CellGeometry} g One gate's geometry.
 * @param {number} ox Tile origin x, CSS px.
 * @param {number} oy Tile origin y.
 */
function drawAxes(ctx, g, ox, oy) {
  const x0 = ox + g.x;
  const y0 = oy + g.y;
  const plotW = g.cols * g.cellW;
  const plotH = g.rows * g.cellH;
  ctx.fillStyle = colors().axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const i of indexTicks(g.cols, g.cellW, 28)) {
    ctx.fillText(String(i), x0 + (i + 0.5) * g.cellW, y0 + plotH + 3);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const j of indexTicks(g.rows, g.cellH, 14)) {
    ctx.fillText(String(j), x0 - 4, y0 + (j + 0.5) * g.cellH);
  }
  ctx.strokeStyle = colors().frame;
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 - 0.5, y0 - 0.5, plotW + 1, plotH + 1);
}
