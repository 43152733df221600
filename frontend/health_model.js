/**
 * The health report (the `health` route) as the tab shows it: each run's status,
 * its Health line, a badge per run and a link per finding to the view, step and
 * sample that show its evidence. Pure: no DOM.
 * @module health_model
 */
import { VIEWS } from "./state.js";

/** Statuses, worst first. @type {Array<"problem"|"warning"|"healthy">} */
export const STATUSES = ["problem", "warning", "healthy"];

/**
 * @typedef {object} Finding
 * @property {string} code vanishing, exploding, nonfinite, dead_units, ...
 * @property {"problem"|"warning"} severity
 * @property {string} tag Full-tensor tag that shows it.
 * @property {string} layer Layer key.
 * @property {number} step Logged step that shows it.
 * @property {string} message One sentence with the numbers.
 * @property {string} hint What to try.
 * @property {number} [timestep]
 * @property {number} [sample]
 * @property {string} [gate]
 * @property {{view?: string} & Record<string, unknown>} [evidence] Figures, and
 *   `view`: the view that shows them.
 */

/**
 * The served report, checked: malformed parts are dropped, never trusted.
 * @param {{runs?: Record<string, unknown>}|null} answer The `health` route's JSON.
 * @returns {{runs: Record<string, Finding[]>, status: Record<string, string>}}
 */
export function normalizeHealth(answer) {
  /** @type {Record<string, Finding[]>} */
  const runs = {};
  /** @type {Record<string, string>} */
  const status = {};
  const given = answer && typeof answer.runs === "object" && answer.runs ? answer.runs : {};
  for (const [run, list] of Object.entries(given)) {
    const findings = (Array.isArray(list) ? list : []).filter(isFinding);
    runs[run] = findings;
    status[run] = worst(findings);
  }
  return { runs, status };
}

/**
 * @param {any} f An entry of the served report.
 * @returns {f is Finding} Whether it has a finding's fields.
 */
function isFinding(f) {
  return (
    f !== null &&
    typeof f === "object" &&
    typeof f.code === "string" &&
    (f.severity === "problem" || f.severity === "warning") &&
    typeof f.tag === "string" &&
    Number.isInteger(f.step) &&
    typeof f.message === "string"
  );
}

/**
 * @param {Finding[]} findings Findings of one run.
 * @returns {"problem"|"warning"|"healthy"} The worst severity.
 */
export function worst(findings) {
  for (const s of STATUSES.slice(0, 2)) if (findings.some((f) => f.severity === s)) return s;
  return "healthy";
}

/**
 * The Health line's first words, e.g. "Health: problem (vanishing, dead_units)".
 * @param {Finding[]|undefined} findings Findings of the run (undefined: not known).
 * @returns {string} Text ("" when the report is not known).
 */
export function healthSummary(findings) {
  if (!findings) return "";
  if (findings.length === 0) return "Health: healthy";
  return `Health: ${worst(findings)} (${findingCodes(findings)})`;
}

/**
 * @param {Finding[]|undefined} findings Findings of a run.
 * @returns {string} Distinct codes in order, e.g. "vanishing, dead_units"; "–" for
 *   none, "" when unknown (the compare view's findings column).
 */
export function findingCodes(findings) {
  if (!findings) return "";
  if (findings.length === 0) return "–";
  return [...new Set(findings.map((f) => f.code))].join(", ");
}

/**
 * The text of a finding's link: what, where, and the message.
 * @param {Finding} f Finding.
 * @returns {string} E.g. "vanishing in rnn, step 2000, timestep 91: Gradient ...".
 */
export function findingText(f) {
  const where = [`step ${f.step}`];
  for (const key of /** @type {const} */ (["timestep", "sample", "gate"])) {
    if (f[key] !== undefined && f[key] !== null) where.push(`${key} ${f[key]}`);
  }
  return `${f.code} in ${f.layer}, ${where.join(", ")}: ${f.message}`;
}

/**
 * The state change that opens a finding's evidence: its run alone, its tag and
 * step, its view switched on, its timestep marked and its sample shown when it
 * names them.
 * @param {string} run Run of the finding.
 * @param {Finding} f Finding.
 * @param {import("./state.js").State} state Current state.
 * @returns {Partial<import("./state.js").State>} Patch for app.set().
 */
export function findingPatch(run, f, state) {
  const shows = f.evidence?.view;
  const view = shows !== undefined && VIEWS.includes(shows) ? shows : null;
  const mark = Number.isInteger(f.timestep) ? /** @type {number} */ (f.timestep) : null;
  /** @type {Partial<import("./state.js").State>} */
  const patch = { runs: [run], tag: f.tag, step: f.step, mark, compare: false };
  if (view && !state.views.includes(view)) patch.views = [...state.views, view];
  if (f.sample !== undefined && Number.isInteger(f.sample)) {
    patch.sampleMode = "one";
    patch.sample = f.sample;
  }
  return patch;
}
