// Prints, as JSON, the colours and log ranges the tab draws, for
// tests/test_palette.py to compare with tb_rnngrad.viz.colors. Reads from stdin a
// JSON list of value lists for the flow view's log range (numbers as strings, so
// that "NaN" and "Infinity" pass).
import { readFileSync } from "node:fs";

import { SPECIAL, interpolate, sampleColor, sequentialLut, unpack } from "../../frontend/colormap.js";
import { makeScale, positiveLogRange } from "../../frontend/normalize.js";
import { PALETTE } from "../../frontend/palette.js";

const flowCases = JSON.parse(readFileSync(0, "utf8"));
const positions = Array.from({ length: 257 }, (_, k) => -1 + (2 * k) / 256);
const probe = {
  diverging: positions.map((x) => interpolate(PALETTE.diverging, x)),
  sequential: [...sequentialLut()].map((p) => unpack(p).slice(0, 3)),
  special: SPECIAL,
  samples: Array.from({ length: 2 * PALETTE.samples.length }, (_, i) => sampleColor(i)),
  signedLoLog: makeScale("log", { stepMaxAbs: 1 }).loLog,
  flowRanges: flowCases.map((values) => positiveLogRange(values.map(Number))),
};
process.stdout.write(JSON.stringify(probe));
