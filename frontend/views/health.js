/**
 * The health report in the DOM: a run panel's Health line with a link per finding,
 * and a badge per run in the run list. Text goes in as text only (run names, tags and
 * messages are untrusted). The words come from health_model.js.
 * @module views/health
 */
import { el, replaceChildren } from "../dom.js";
import { findingText, healthSummary, worst } from "../health_model.js";

/**
 * Fills a panel's Health line.
 * @param {HTMLElement} line The line's element.
 * @param {import("../health_model.js").Finding[]|undefined} findings The run's
 *   findings (undefined: no report; the line is hidden).
 * @param {(f: object) => void} onOpen A finding's link was clicked.
 */
export function showHealthLine(line, findings, onOpen) {
  line.hidden = !findings;
  if (!findings) return;
  line.dataset.status = findings.length ? worst(findings) : "healthy";
  const items = findings.map((f) =>
    el(
      "li",
      { class: `rg-finding rg-${f.severity}` },
      el("button", {
        type: "button",
        class: "rg-finding-link",
        text: findingText(f),
        title: f.hint,
        dataset: { code: f.code },
        on: { click: () => onOpen(f) },
      }),
    ),
  );
  replaceChildren(
    line,
    el("span", { class: "rg-health-summary", text: healthSummary(findings) }),
    items.length ? el("ul", { class: "rg-findings" }, ...items) : null,
  );
}

/**
 * Puts a status badge after each run of the run list: the label's `data-health`,
 * drawn by style.css (so a label's text stays the run's name).
 * @param {Element} runList The run list (labels holding a checkbox per run).
 * @param {Record<string, string>} status Status by run; a run without one gets none.
 */
export function markRuns(runList, status) {
  for (const label of runList.querySelectorAll("label")) {
    const box = label.querySelector("input");
    const s = box ? status[box.value] : undefined;
    if (s) label.dataset.health = s; // the title stays the run's full name
    else delete label.dataset.health;
  }
}
