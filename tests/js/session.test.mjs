// Tests of frontend/session.js.
import assert from "node:assert/strict";
import test from "node:test";

import { createSession } from "../../frontend/session.js";
import { defaultState } from "../../frontend/state.js";

const meta = (shape, extra = {}) => ({ kind: "gradients", shape, ...extra });
const TAGS = {
  b: { "g/x": meta([2, 5, 4]), "g/y": meta([8, 5, 4], { bidirectional: true, merge_mode: "concat", units: 2 }) },
  a: { "g/x": meta([4, 5, 4]), "g/bad": { error: "unreadable" } },
  empty: {},
};

function session(patch = {}) {
  const s = createSession({ ...defaultState(), ...patch });
  s.setTags(TAGS);
  return s;
}

test("runs with tags, sorted; unknown runs and tags fall back to the first", () => {
  const s = session({ runs: ["gone", "b"], tag: "nope" });
  assert.deepEqual(s.runs(), ["a", "b"]);
  assert.deepEqual(s.state().runs, ["b"]);
  assert.equal(s.state().tag, "g/x", "the first readable tag of the first run shown");
  const fresh = session();
  assert.deepEqual(fresh.state().runs, ["a", "b"], "no run named: every run with the tag");
  assert.equal(fresh.state().tag, "g/x", "g/bad cannot be read");
});

test("a page opened without runs shows every run that can read the tag", () => {
  const s = session({ tag: "g/y" });
  assert.deepEqual(s.state().runs, ["b"], "only b has g/y");
  s.replace({ ...defaultState(), runs: ["b"], tag: "g/x" });
  assert.deepEqual(s.state().runs, ["b"], "runs named in the address win");
  s.replace(defaultState());
  assert.deepEqual(s.state().runs, ["a", "b"], "an address without runs: all of them");
  s.apply({ runs: [] });
  assert.deepEqual(s.state().runs, [], "unchecking every run shows none");
  assert.equal(s.state().noRun, true);
  s.setTags(TAGS);
  assert.deepEqual(s.state().runs, [], "a reload of the listing keeps none");
  s.apply({ runs: ["b"] });
  assert.deepEqual([s.state().runs, s.state().noRun], [["b"], false]);
  s.replace({ ...defaultState(), noRun: true, tag: "g/x" });
  assert.deepEqual(s.state().runs, [], "an address saying no run: none");
});

test("a change of runs or tag is reconciled; the state handed out is a copy", () => {
  const s = session();
  assert.equal(s.apply({ runs: ["b"], tag: "g/y" }), true);
  assert.equal(s.state().tag, "g/y");
  s.apply({ runs: ["a"] });
  assert.equal(s.state().tag, "g/y", "another run has it: run a says it has not");
  s.apply({ tag: "nope" });
  assert.equal(s.state().tag, "g/x", "no run has it");
  s.state().runs.push("b");
  assert.deepEqual(s.state().runs, ["a"]);
  s.replace({ ...defaultState(), runs: ["zzz"], tag: "g/bad" });
  assert.deepEqual([s.state().runs, s.state().tag], [["a"], "g/bad"], "an unreadable tag stays");
});

test("a pass: metadata, readable runs and the controls' model", () => {
  const s = session({ runs: ["a", "b"], tag: "g/x" });
  const { st, metas } = s.begin();
  assert.deepEqual(st.runs, ["a", "b"]);
  assert.deepEqual(metas, [TAGS.a["g/x"], TAGS.b["g/x"]]);
  s.apply({ tag: "g/bad" });
  assert.deepEqual(s.readableRuns(), [], "a has it unreadable, b not at all");
  s.noteSteps(st, [[0, 10], new Error("down")]);
  const m = s.controls(st, metas, true);
  assert.deepEqual(m.runs, ["a", "b"]);
  assert.deepEqual(m.layers, [
    { label: "g/bad", tag: "g/bad", unreadable: true },
    { label: "g/x", tag: "g/x", unreadable: false },
    { label: "g/y", tag: "g/y", unreadable: false },
  ]);
  assert.deepEqual([m.steps, m.stepIndex, m.batch, m.canReflect, m.playing], [[0, 10], 1, 4, false, true]);
});

test("step moves on the slider of the last pass", () => {
  const s = session();
  assert.equal(s.apply({ stepBy: 1 }), false, "no steps yet: nothing to move");
  let { st } = s.begin();
  s.noteSteps(st, [[0, 10, 20]]);
  assert.deepEqual(s.position(), { index: 2, count: 3 }, "no step chosen: the latest");
  s.apply({ stepBy: -1 });
  assert.equal(s.state().step, 10);
  s.apply({ stepBy: -5 });
  assert.equal(s.state().step, 0, "clamped");
  s.apply({ stepIndex: 9 });
  assert.equal(s.state().step, 20);
  s.apply({ step: 10 });
  ({ st } = s.begin());
  s.noteSteps(st, [[0, 10, 20]]);
  assert.deepEqual(s.position(), { index: 1, count: 3 });
});

test("a move onto a step found gone goes on in its direction; a chosen one stays", () => {
  const s = session();
  let { st } = s.begin();
  s.noteSteps(st, [[0, 10, 15, 20]]);
  s.apply({ stepIndex: 0 });
  s.drawn();
  s.apply({ stepBy: 1 }); // onto 10
  s.apply({ stepBy: 1 }); // onto 15, which the next pass finds gone
  ({ st } = s.begin());
  assert.equal(s.noteSteps(st, [[0, 10, 20]]), true);
  assert.equal(st.step, 20);
  assert.equal(s.state().step, 20);
  s.drawn();
  s.apply({ step: 5 }); // chosen, not moved onto: shown as "no longer kept"
  ({ st } = s.begin());
  assert.equal(s.noteSteps(st, [[0, 10, 20]]), false);
  assert.equal(s.state().step, 5);
  assert.deepEqual(s.position(), { index: 0, count: 3 });
});

test("a failed request is remembered until the next pass begins", () => {
  const s = session();
  assert.equal(s.failed(), false);
  s.noteFailure();
  assert.equal(s.failed(), true);
  s.begin();
  assert.equal(s.failed(), false);
});

test("a pass shows the selected runs the run filter matches, as TensorBoard's charts", () => {
  const s = session({ runs: ["a", "b"], tag: "g/x", runFilter: "^b" });
  const { st, shown, metas } = s.begin();
  assert.deepEqual(st.runs, ["a", "b"], "the selection is kept");
  assert.deepEqual(shown, ["b"]);
  assert.deepEqual(metas, [TAGS.b["g/x"]]);
  assert.deepEqual(s.readableRuns(), ["b"], "a reload fetches the shown runs' steps");
  s.apply({ runFilter: "(" });
  assert.deepEqual(s.begin().shown, ["a", "b"], "an invalid filter hides nothing");
});

test("a page opened without a tag shows a series over time first", () => {
  const last = { kind: "gradients", shape: [4, 8] }; // return_sequences=False
  const state = { kind: "state_gradients", shape: [4, 5, 8] };
  const s = createSession(defaultState());
  s.setTags({ r: { "gradients/rnn": last, "state_gradients/rnn": state } });
  assert.equal(s.state().tag, "state_gradients/rnn");
  const only = createSession(defaultState());
  only.setTags({ r: { "gradients/rnn": last } });
  assert.equal(only.state().tag, "gradients/rnn", "none over time: the first readable");
});

test("a finding's mark stays with its tag; another tag clears it", () => {
  const s = session();
  s.apply({ runs: ["b"], tag: "g/y", step: 3, mark: 4 });
  assert.equal(s.state().mark, 4);
  s.apply({ step: 5, sample: 1 });
  assert.equal(s.state().mark, 4, "other steps and samples keep it");
  s.apply({ tag: "g/x" });
  assert.equal(s.state().mark, null);
});

test("why a run lacks the chosen series: its layer's class says it, neutrally", () => {
  const s = createSession(defaultState());
  const lstm = { kind: "state_gradients", layer_name: "rnn", layer_class: "LSTM", shape: [2, 5, 3] };
  s.setTags({
    lstm: { "state_gradients/rnn": lstm, "state_gradients/rnn/cell": { ...lstm, kind: "cell_state_gradients" } },
    simple: { "state_gradients/rnn": { ...lstm, layer_class: "SimpleRNN" } },
    gru: { "state_gradients/rnn": { ...lstm, layer_class: "GRU" }, "gate_activations/rnn": { ...lstm, kind: "gate_activations" } },
    other: { "gradients/dense": { ...lstm, kind: "gradients", layer_name: "dense" } },
  });
  assert.equal(
    s.absence("simple", "state_gradients/rnn/cell"),
    'SimpleRNN has no cell state: run "simple" logs no "d loss / d cell state".',
  );
  assert.equal(
    s.absence("simple", "gate_activations/rnn"),
    'SimpleRNN has no gates: run "simple" logs no "gate saturation (units near 0 / near 1)".',
  );
  assert.equal(
    s.absence("lstm", "gate_activations/rnn"),
    'Run "lstm" did not log "gate saturation (units near 0 / near 1)" for this LSTM layer.',
  );
  assert.equal(s.absence("other", "state_gradients/rnn"), 'Run "other" has no tag "state_gradients/rnn".');
});
