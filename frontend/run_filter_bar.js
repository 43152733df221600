/**
 * Above the run list: the run filter (a regular expression; an invalid one is said
 * so, and hides nothing), "All" / "None" for the runs it matches, and the switch to
 * the compare view. Hides the list's runs the filter does not match. DOM view; the
 * filter's logic is run_filter.js.
 * @module run_filter_bar
 */
import { el } from "./dom.js";
import { compileFilter, filterSummary, matchingRuns, selectMatching } from "./run_filter.js";

/**
 * @param {(patch: object) => void} onChange Called with {runFilter}, {runs} or {compare}.
 * @returns {{element: HTMLElement, update: Function}}
 */
export function createRunFilterBar(onChange) {
  /** What the All / None buttons apply to: the runs, the selected ones, the filter. */
  let model = { runs: /** @type {string[]} */ ([]), selected: /** @type {string[]} */ ([]), text: "" };
  const input = el("input", {
    id: "rg-run-filter",
    class: "rg-run-filter",
    type: "search",
    placeholder: "Filter runs (regex)",
    "aria-label": "filter runs by regular expression",
    spellcheck: false,
  });
  input.addEventListener("input", () => onChange({ runFilter: input.value }));
  const pick = (/** @type {boolean} */ on) => () =>
    onChange({ runs: selectMatching(model.runs, model.selected, model.text, on) });
  const all = el("button", {
    type: "button",
    id: "rg-runs-all",
    text: "All",
    title: "select every run the filter matches",
    on: { click: pick(true) },
  });
  const none = el("button", {
    type: "button",
    id: "rg-runs-none",
    text: "None",
    title: "unselect every run the filter matches",
    on: { click: pick(false) },
  });
  const compare = el("input", { id: "rg-compare-toggle", type: "checkbox" });
  compare.addEventListener("change", () => onChange({ compare: compare.checked }));
  const summary = el("div", { id: "rg-run-filter-note", class: "rg-run-filter-note", role: "status" });
  const element = el(
    "div",
    { class: "rg-run-filter-bar" },
    input,
    " ",
    all,
    none,
    " ",
    el(
      "label",
      { class: "rg-check", title: "one chart and a table of the selected runs" },
      compare,
      el("span", { class: "rg-check-text", text: "compare runs" }),
    ),
    summary,
  );

  /**
   * Shows the filter and hides the list's runs it does not match.
   * @param {HTMLElement} list The run list (labels holding a checkbox each).
   * @param {string[]} runs Every run.
   * @param {import("./state.js").State} s State.
   */
  function update(list, runs, s) {
    model = { runs, selected: s.runs, text: s.runFilter };
    if (document.activeElement !== input) input.value = s.runFilter;
    const { error } = compileFilter(s.runFilter);
    input.classList.toggle("rg-invalid", Boolean(error));
    input.setAttribute("aria-invalid", error ? "true" : "false");
    summary.classList.toggle("rg-bad", Boolean(error));
    summary.textContent = filterSummary(runs, s.runs, s.runFilter);
    all.disabled = none.disabled = Boolean(error);
    compare.checked = s.compare;
    const shown = new Set(matchingRuns(runs, s.runFilter));
    for (const box of list.querySelectorAll("input")) {
      const label = box.closest("label");
      if (label) label.hidden = !shown.has(box.value);
    }
  }

  return { element, update };
}
