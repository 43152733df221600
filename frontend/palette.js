/**
 * The palette of every view, read from palette.json: the one file the tab and the
 * matplotlib exports (tb_rnngrad.viz.colors) both read, so they draw alike. Pure: no
 * DOM.
 *
 * palette.json holds the diverging map (signed values; an odd number of evenly
 * spaced stops with white in the middle), the sequential map (gradient norms,
 * evenly spaced stops), the colours of NaN, +Inf, -Inf, masked timesteps and the
 * background, the per-sample colours, and how many decades the log scales span.
 * @module palette
 */
import spec from "./palette.json" with { type: "json" };

/**
 * palette.json as written (snake_case keys, "#rrggbb" colours).
 * @typedef {object} PaletteSpec
 * @property {string[]} diverging Evenly spaced stops, white in the middle.
 * @property {string[]} sequential Evenly spaced stops.
 * @property {{nan: string, pos_inf: string, neg_inf: string, masked: string,
 *   background: string}} special Colours of values off the scale.
 * @property {string[]} samples Per-sample colours.
 * @property {{signed: number, flow_min: number, flow_max: number}} log_decades
 * @property {Record<string, string|null>} ui Page and canvas colours (light theme).
 * @property {{ui?: Record<string, string|null>, special?: {background?: string}}} [dark]
 *   What differs in the dark theme.
 */

/**
 * @typedef {object} Palette
 * @property {Array<[number, number[]]>} diverging Stops [position in -1..1, rgb].
 * @property {Array<[number, number[]]>} sequential Stops [position in 0..1, rgb].
 * @property {{nan: number[], posInf: number[], negInf: number[], masked: number[],
 *   background: number[]}} special Colours of values off the scale, as rgb.
 * @property {string[]} samples Per-sample colours, "#rrggbb", used in turn.
 * @property {number} signedLogDecades Decades below max|g| the signed log scale shows.
 * @property {{min: number, max: number}} flowLogDecades Bounds of the decades the
 *   flow view's log scale spans (from its smallest positive value to its largest).
 */

/**
 * @param {string} hex "#rrggbb".
 * @returns {number[]} [r, g, b].
 */
export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * @param {PaletteSpec} s A palette in the form of palette.json.
 * @returns {Palette}
 */
export function paletteFrom(s) {
  const c = s.special;
  return {
    diverging: evenStops(s.diverging, -1, 1),
    sequential: evenStops(s.sequential, 0, 1),
    special: {
      nan: hexToRgb(c.nan),
      posInf: hexToRgb(c.pos_inf),
      negInf: hexToRgb(c.neg_inf),
      masked: hexToRgb(c.masked),
      background: hexToRgb(c.background),
    },
    samples: s.samples.slice(),
    signedLogDecades: s.log_decades.signed,
    flowLogDecades: { min: s.log_decades.flow_min, max: s.log_decades.flow_max },
  };
}

/**
 * Colours spread evenly from `lo` to `hi`, as [position, rgb] stops.
 * @param {string[]} colours "#rrggbb" colours.
 * @param {number} lo Position of the first.
 * @param {number} hi Position of the last.
 * @returns {Array<[number, number[]]>}
 */
function evenStops(colours, lo, hi) {
  const last = colours.length - 1;
  const at = (/** @type {number} */ i) => (i === last ? hi : lo + ((hi - lo) * i) / last);
  return colours.map((hex, i) => [at(i), hexToRgb(hex)]);
}

/** The palette of palette.json. */
export const PALETTE = paletteFrom(spec);
