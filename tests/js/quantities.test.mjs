// Tests of frontend/quantities.js (layers and quantities) and how the session and
// the address use them.
import assert from "node:assert/strict";
import test from "node:test";

import {
  choices,
  firstTag,
  groupLayers,
  groupOf,
  layerKey,
  seriesOf,
  tagFor,
} from "../../frontend/quantities.js";
import { createSession } from "../../frontend/session.js";
import { decodeState, defaultState, encodeState } from "../../frontend/state.js";

const meta = (kind, extra = {}) => ({ kind, shape: [2, 6, 4], layer_name: "", direction: "", ...extra });

// What the Keras callback writes for an LSTM, a Bidirectional(merge_mode=None) GRU
// and a nested layer, plus an input.
const CALLBACK = {
  "gradients/lstm": meta("gradients", { layer_name: "lstm" }),
  "state_gradients/lstm": meta("state_gradients", { layer_name: "lstm" }),
  "state_gradients/lstm/cell": meta("cell_state_gradients", { layer_name: "lstm" }),
  "weight_contributions/lstm": meta("weight_contributions", { layer_name: "lstm", shape: [3, 6, 4] }),
  "activations/lstm": meta("activations", { layer_name: "lstm" }),
  "gradients/bi/forward": meta("gradients", { layer_name: "bi", direction: "forward" }),
  "state_gradients/bi/backward": meta("state_gradients", { layer_name: "bi", direction: "backward" }),
  "gradients/outer/lstm": meta("gradients", { layer_name: "lstm" }),
  "input_gradients/x": meta("input_gradients"),
};

test("layer key: the callback's tag without its kind's prefix, else the layer's name", () => {
  assert.equal(layerKey("gradients/lstm", CALLBACK["gradients/lstm"]), "lstm");
  assert.equal(layerKey("state_gradients/lstm/cell", meta("cell_state_gradients")), "lstm");
  assert.equal(layerKey("state_gradients/lstm/cell", meta("state_gradients")), "lstm/cell");
  assert.equal(layerKey("gradients/outer/lstm", meta("gradients", { layer_name: "lstm" })), "outer/lstm");
  assert.equal(layerKey("gradients/bi/forward", meta("gradients")), "bi/forward");
  // Tags of the summary ops: the layer recorded with layer=.
  assert.equal(layerKey("my/h", meta("state_gradients", { layer_name: "gru" })), "gru");
  assert.equal(layerKey("h_bwd", meta("gradients", { layer_name: "bi", direction: "backward" })), "bi/backward");
  // Another kind's prefix, or nothing left after it, does not count.
  assert.equal(layerKey("gradients/lstm", meta("activations", { layer_name: "rnn" })), "rnn");
  assert.equal(layerKey("state_gradients/cell", meta("cell_state_gradients")), null);
  assert.equal(layerKey("gradients/", meta("gradients")), null);
  assert.equal(layerKey("lstm", meta("gradients")), null);
});

test("the callback's tags group into layers, quantities in the selector's order", () => {
  const groups = groupLayers(seriesOf({ run: CALLBACK }, ["run"]));
  const summary = groups.map((g) => [g.label, g.entries.map((e) => e.kind)]);
  assert.deepEqual(summary, [
    ["bi/backward", ["state_gradients"]],
    ["bi/forward", ["gradients"]],
    ["lstm", ["gradients", "state_gradients", "cell_state_gradients", "weight_contributions", "activations"]],
    ["outer/lstm", ["gradients"]],
    ["x", ["input_gradients"]],
  ]);
  const lstm = groupOf(groups, "state_gradients/lstm/cell");
  assert.equal(lstm.label, "lstm");
  assert.equal(tagFor(lstm, "cell_state_gradients"), "state_gradients/lstm/cell");
  assert.equal(tagFor(lstm, "input_gradients"), "gradients/lstm", "absent: the first quantity");
  const of = (kind) => (e) => e.kind === kind;
  assert.equal(firstTag(groups, of("state_gradients")), "state_gradients/bi/backward");
  assert.equal(firstTag(groups, of("nope")), null);
});

test("summary-op tags group by layer; a second series of one quantity is its own group", () => {
  const listing = {
    a: {
      lstm_out: meta("gradients", { layer_name: "lstm" }),
      lstm_h: meta("state_gradients", { layer_name: "lstm" }),
      "gradients/lstm": meta("gradients", { layer_name: "lstm" }),
      loose: meta("gradients"),
    },
    b: { lstm_h: { error: "unreadable: version 3" }, future: { error: "unreadable: version 3" } },
  };
  const groups = groupLayers(seriesOf(listing, ["a", "b"]));
  const summary = groups.map((g) => [g.label, g.entries.map((e) => [e.kind, e.tag, e.unreadable])]);
  assert.deepEqual(summary, [
    ["future", [[null, "future", true]]],
    ["loose", [["gradients", "loose", false]]],
    ["lstm", [["gradients", "gradients/lstm", false], ["state_gradients", "lstm_h", true]]],
    ["lstm_out", [["gradients", "lstm_out", false]]],
  ]);
});

test("choices: each layer offers the tag of the quantity shown, else its first", () => {
  const groups = groupLayers(seriesOf({ run: CALLBACK }, ["run"]));
  const c = choices(groups, "state_gradients/lstm", "state_gradients");
  assert.deepEqual(c.layers, [
    { label: "bi/backward", tag: "state_gradients/bi/backward", unreadable: false },
    { label: "bi/forward", tag: "gradients/bi/forward", unreadable: false },
    { label: "lstm", tag: "state_gradients/lstm", unreadable: false },
    { label: "outer/lstm", tag: "gradients/outer/lstm", unreadable: false },
    { label: "x", tag: "input_gradients/x", unreadable: false },
  ]);
  assert.deepEqual(
    c.quantities.map((q) => q.kind),
    ["gradients", "state_gradients", "cell_state_gradients", "weight_contributions", "activations"],
  );
  assert.deepEqual(choices(groups, "input_gradients/x", "input_gradients").quantities, [
    { kind: "input_gradients", tag: "input_gradients/x", unreadable: false },
  ]);
  assert.deepEqual(choices(groups, "gone", "gradients").quantities, []);
});

test("session: a quantity picks the layer's tag; the quantity follows the tag", () => {
  const s = createSession({ ...defaultState(), runs: ["run"], tag: "gradients/lstm" });
  s.setTags({ run: CALLBACK });
  assert.equal(s.state().quantity, "gradients");
  s.apply({ quantity: "cell_state_gradients" });
  assert.deepEqual([s.state().tag, s.state().quantity], ["state_gradients/lstm/cell", "cell_state_gradients"]);
  s.apply({ tag: "input_gradients/x" }); // another layer, without that quantity
  assert.deepEqual([s.state().tag, s.state().quantity], ["input_gradients/x", "input_gradients"]);
  s.apply({ quantity: "state_gradients" }); // not a quantity of x: stays
  assert.equal(s.state().tag, "input_gradients/x");
  const { st, metas } = s.begin();
  const m = s.controls(st, metas, false);
  assert.equal(m.layers.find((l) => l.label === "lstm").tag, "gradients/lstm");
  assert.deepEqual(m.quantities.map((q) => q.kind), ["input_gradients"]);
});

test("session: an address with a quantity and no known tag shows the first layer with it", () => {
  const s = createSession({ ...defaultState(), quantity: "weight_contributions", tag: "gone" });
  s.setTags({ other: { "g/x": meta("gradients") }, run: CALLBACK });
  assert.equal(s.state().tag, "weight_contributions/lstm");
  assert.deepEqual(s.state().runs, ["run"], "no run asked for: the first run that has it");
  const known = createSession({ ...defaultState(), quantity: "activations", tag: "gradients/bi/forward" });
  known.setTags({ run: CALLBACK });
  assert.deepEqual([known.state().tag, known.state().quantity], ["gradients/bi/forward", "gradients"]);
  const none = createSession({ ...defaultState(), quantity: "nope" });
  none.setTags({ run: CALLBACK });
  assert.equal(none.state().tag, "state_gradients/bi/backward", "the first layer's first quantity");
});

test("session: the samples control is off when every series shown is weights", () => {
  const s = createSession({ ...defaultState(), runs: ["run"], tag: "weight_contributions/lstm" });
  s.setTags({ run: CALLBACK });
  let { st, metas } = s.begin();
  let m = s.controls(st, metas, false);
  assert.deepEqual([m.hasBatch, m.batch], [false, 1], "3 weights are not 3 samples");
  s.apply({ quantity: "gradients" });
  ({ st, metas } = s.begin());
  m = s.controls(st, metas, false);
  assert.deepEqual([m.hasBatch, m.batch], [true, 2]);
  assert.equal(m.matrix, false);
});

test("session: a weight matrix's controls model says so (the Weights view)", () => {
  const meta = { kind: "weights", layer: "lstm", shape: [8, 16], weights: [], gates: ["i"] };
  const s = createSession({ ...defaultState(), runs: ["run"], tag: "weights/lstm/kernel" });
  s.setTags({ run: { ...CALLBACK, "weights/lstm/kernel": meta } });
  const { st, metas } = s.begin();
  assert.equal(s.controls(st, metas, false).matrix, true);
});

test("the address carries the quantity; old addresses without it still read", () => {
  const s = { ...defaultState(), runs: ["a"], tag: "state_gradients/lstm", quantity: "state_gradients" };
  const h = encodeState(s);
  assert.match(h, /quantity=state_gradients/);
  assert.deepEqual(decodeState(h), s);
  const old = decodeState("#run=a&tag=grads%2Flstm");
  assert.equal(old.tag, "grads/lstm");
  assert.equal("quantity" in old, false, "none asked: the tag's own kind is shown");
});
