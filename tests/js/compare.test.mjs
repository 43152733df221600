// Tests of the sweep modules: frontend/run_filter.js, compare_model.js and their
// state in the address (state.js).
import assert from "node:assert/strict";
import test from "node:test";

import {
  chartExtent,
  chartPoint,
  compareRows,
  nextSort,
  niceTicks,
  sortRows,
} from "../../frontend/compare_model.js";
import {
  compileFilter,
  filterSummary,
  matchingRuns,
  selectMatching,
} from "../../frontend/run_filter.js";
import { decodeState, defaultState, encodeState, stateFromUrlData, stateToUrlData } from "../../frontend/state.js";

const RUNS = ["gru-u8", "gru-u32", "LSTM-u8", "lstm-u32", "simplernn-u8"];

test("the filter is a case-insensitive regular expression matched anywhere", () => {
  assert.deepEqual(matchingRuns(RUNS, "lstm"), ["LSTM-u8", "lstm-u32"]);
  assert.deepEqual(matchingRuns(RUNS, "^gru|u32$"), ["gru-u8", "gru-u32", "lstm-u32"]);
  assert.deepEqual(matchingRuns(RUNS, ""), RUNS);
});

test("an invalid regular expression is reported and hides nothing", () => {
  const f = compileFilter("lstm(");
  assert.equal(f.regex, null);
  assert.match(f.error, /^invalid regular expression: /);
  assert.deepEqual(matchingRuns(RUNS, "lstm("), RUNS);
  assert.match(filterSummary(RUNS, [], "[a-"), /^invalid regular expression/);
});

test("all / none change only the runs the filter matches", () => {
  const selected = ["gru-u8", "simplernn-u8"];
  assert.deepEqual(selectMatching(RUNS, selected, "lstm", true), [
    "gru-u8",
    "LSTM-u8",
    "lstm-u32",
    "simplernn-u8",
  ]);
  assert.deepEqual(selectMatching(RUNS, RUNS, "u8$", false), ["gru-u32", "lstm-u32"]);
  assert.deepEqual(selectMatching(RUNS, [], "", true), RUNS);
  assert.deepEqual(selectMatching(RUNS, RUNS, "", false), []);
});

test("the summary counts matches, the selection and selected runs hidden", () => {
  assert.equal(filterSummary(RUNS, ["gru-u8"], ""), "5 runs; 1 selected");
  assert.equal(
    filterSummary(RUNS, ["gru-u8", "lstm-u32"], "lstm"),
    "2 of 5 runs match; 2 selected, 1 of them hidden by the filter",
  );
});

const ANSWER = {
  tag: "state/rnn",
  runs: {
    a: { kind: "state_gradients", steps: [0, 10], reach: [3, 5], latest_reach: 5, max_abs: 2.5, max_abs_step: 10, nonfinite: 0, last_step: 10 },
    b: { kind: "state_gradients", steps: [0, 10, 20], reach: [9, 7, 7], latest_reach: 7, max_abs: 0.5, max_abs_step: 20, nonfinite: 4, last_step: 20 },
    c: { kind: "state_gradients", steps: [], reach: [], latest_reach: null, max_abs: null, max_abs_step: null, nonfinite: 0, last_step: 0 },
    d: { kind: "state_gradients", steps: [0], reach: [5], latest_reach: 5, max_abs: 9, max_abs_step: 0, nonfinite: 0, last_step: 0 },
    bad: { error: "unreadable: corrupt" },
  },
};

test("rows are the selected runs that have the tag, in selection order", () => {
  const rows = compareRows(ANSWER, ["d", "nope", "a", "bad"]);
  assert.deepEqual(rows.map((r) => r.run), ["d", "a", "bad"]);
  assert.equal(rows[1].reach_latest, 5);
  assert.equal(rows[1].max_abs, 2.5);
  assert.equal(rows[2].error, "unreadable: corrupt");
  assert.equal(rows[2].reach_latest, null);
});

test("sorting: largest first by default, ties by run, missing values last", () => {
  const rows = compareRows(ANSWER, ["a", "b", "c", "d", "bad"]);
  const order = (key, dir) => sortRows(rows, key, dir).map((r) => r.run);
  assert.deepEqual(order("reach"), ["b", "a", "d", "bad", "c"]);
  assert.deepEqual(order("reach", "asc"), ["a", "d", "b", "bad", "c"]);
  assert.deepEqual(order("max_abs"), ["d", "a", "b", "bad", "c"]);
  assert.deepEqual(order("nonfinite"), ["b", "a", "c", "d", "bad"]);
  assert.deepEqual(order("last_step"), ["b", "a", "c", "d", "bad"]);
  assert.deepEqual(order("run"), ["a", "b", "bad", "c", "d"]);
  assert.deepEqual(order("run", "desc"), ["d", "c", "bad", "b", "a"]);
});

test("a header click flips its own order or starts another key its own way", () => {
  assert.deepEqual(nextSort({ sort: "reach", order: "desc" }, "reach"), { sort: "reach", order: "asc" });
  assert.deepEqual(nextSort({ sort: "reach", order: "asc" }, "run"), { sort: "run", order: "asc" });
  assert.deepEqual(nextSort({ sort: "run", order: "asc" }, "max_abs"), { sort: "max_abs", order: "desc" });
});

test("chart extent, ticks and points", () => {
  const rows = compareRows(ANSWER, ["a", "b", "c"]);
  const e = chartExtent(rows);
  assert.deepEqual(e, { x: [0, 20], y: [0, 9], lines: 2 });
  assert.deepEqual(chartExtent([]), { x: [0, 1], y: [0, 1], lines: 0 });
  assert.deepEqual(niceTicks(0, 20, 5), [0, 5, 10, 15, 20]);
  assert.deepEqual(niceTicks(0, 9, 5), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(0, 990, 6), [0, 200, 400, 600, 800]);
  const box = { left: 10, top: 5, width: 200, height: 90 };
  assert.deepEqual(chartPoint(box, e, 0, 0), [10, 95]);
  assert.deepEqual(chartPoint(box, e, 20, 9), [210, 5]);
  assert.deepEqual(chartPoint(box, e, 10, 4.5), [110, 50]);
});

test("filter, compare view and sort live in the address (p.rnngrad.*)", () => {
  assert.equal(encodeState(defaultState()), "");
  const s = { ...defaultState(), runs: ["a"], runFilter: "lstm.*u(8|32)", compare: true, sort: "max_abs", order: "asc" };
  assert.deepEqual(decodeState(encodeState(s)), s);
  const data = stateToUrlData(s);
  assert.equal(data.runFilter, "lstm.*u(8|32)");
  assert.equal(data.compare, "1");
  assert.equal(data.sort, "max_abs");
  assert.equal(data.order, "asc");
  assert.deepEqual(stateFromUrlData(data), s);
  // The key's own direction is left out; unknown values fall back.
  assert.equal(encodeState({ ...defaultState(), sort: "run", order: "asc" }), "sort=run");
  const odd = decodeState("#sort=nope&order=up&compare=yes");
  assert.equal(odd.sort, "reach");
  assert.equal(odd.order, "desc");
  assert.equal(odd.compare, false);
});
