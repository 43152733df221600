/**
 * What the Weights view shows for a weight-matrix series ("weights",
 * "weight_gradients") at one step: the matrix, its counterpart of the other kind when
 * the run logged it at that step, both split into gate blocks with their figures, and
 * each gate's logged histograms over training, all through the loader. Pure: no DOM.
 * @module weight_model
 */
/** @import { TagMeta } from "./api.js" */
import { blockStats, directionOf, gateSpans, rowMeaning, siblingTag } from "./gates.js";
import { parseHistograms, rebinStack } from "./histogram_stack.js";

/**
 * @typedef {object} Matrix
 * @property {string} kind "weights" or "weight_gradients".
 * @property {string} tag Its tag.
 * @property {Float32Array|Float64Array} array (rows, cols) values, C order.
 * @property {number} rows Rows.
 * @property {number} cols Columns.
 * @property {import("./gates.js").GateSpan[]} spans Gate blocks.
 * @property {Array<{maxAbs: number, nan: number, posInf: number, negInf: number}>}
 *   stats Per gate.
 */

/**
 * @typedef {object} WeightsView
 * @property {Matrix[]} matrices The tag's matrix, then its counterpart (if logged).
 * @property {string} weight The weight's name, e.g. "recurrent_kernel".
 * @property {string} rowName What a row is, e.g. "unit".
 * @property {string} direction "forward", "backward" or "".
 * @property {Array<{gate: string, stack: import("./histogram_stack.js").Stack|null,
 *   error: string|null}>} histograms Per gate of the tag, its distributions over
 *   training (null with the reason when they could not be loaded).
 * @property {string[]} notes Why the counterpart is not shown, if it was logged.
 */

/**
 * @param {import("./loader.js").Loader} loader The loader (loader.js): tags(),
 *   steps(), tensor(), histograms().
 * @returns {{view: Function}}
 */
export function createWeightModels(loader) {
  /**
   * @param {string} run Run.
   * @param {string} tag The weight-matrix tag shown.
   * @param {TagMeta} meta Its metadata.
   * @param {number[]} runSteps Its steps.
   * @param {number} step The step shown.
   * @returns {Promise<WeightsView>}
   * @throws {Error} When the tag's matrix cannot be loaded or split.
   */
  async function view(run, tag, meta, runSteps, step) {
    const tags = await loader.tags();
    const other = siblingTag(tags[run], tag, meta);
    const notes = [];
    let otherStep = null;
    if (other) {
      const steps = await loader.steps(run, other).catch(() => /** @type {number[]} */ ([]));
      otherStep = steps.includes(step) ? step : null;
      if (otherStep === null) notes.push(`"${other}" has no logged step ${step}.`);
    }
    const shown = otherStep === null || !other ? [tag] : [tag, other];
    const matrices = await Promise.all(
      shown.map(async (t) => matrixOf(tags[run][t].kind, t, await loader.tensor(run, t, step), meta)),
    );
    const newest = runSteps[runSteps.length - 1];
    const perGate = await Promise.all(
      matrices[0].spans.map(async ({ name }) => {
        try {
          const answer = await loader.histograms(run, `${tag}/${name}`, newest);
          return { gate: name, stack: rebinStack(parseHistograms(answer)), error: null };
        } catch (e) {
          return { gate: name, stack: null, error: e.message };
        }
      }),
    );
    const { weight, row } = rowMeaning(meta);
    return {
      matrices,
      weight,
      rowName: row,
      direction: directionOf(meta),
      histograms: perGate,
      notes,
    };
  }

  return { view };
}

/**
 * @param {string} kind "weights" or "weight_gradients".
 * @param {string} tag Its tag.
 * @param {import("./loader.js").TensorEntry} entry The fetched tensor.
 * @param {TagMeta} meta Its metadata.
 * @returns {Matrix} A fetched (rows, cols) tensor split into its gate blocks.
 */
function matrixOf(kind, tag, entry, meta) {
  if (entry.shape.length !== 2) {
    throw new Error(
      `"${tag}" should hold a (rows, columns) weight matrix; got shape ` +
        `(${entry.shape.join(", ")}).`,
    );
  }
  const [rows, cols] = entry.shape;
  const spans = gateSpans(meta, cols);
  const stats = spans.map((s) => blockStats(entry.data, rows, cols, s));
  return { kind, tag, array: entry.data, rows, cols, spans, stats };
}
