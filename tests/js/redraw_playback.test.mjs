// Tests of frontend/redraw.js and frontend/playback.js.
import assert from "node:assert/strict";
import test from "node:test";
import { setImmediate as settle } from "node:timers/promises";

import { createPlayback, PLAY_INTERVAL_MS } from "../../frontend/playback.js";
import { createRedraw } from "../../frontend/redraw.js";

/** A pass that waits until released, recording whether it found itself stale. */
function gatedPasses() {
  const log = [];
  const gates = [];
  let redraw;
  const pass = async () => {
    const n = log.length;
    log.push({ n, stale: null });
    await new Promise((resolve) => gates.push(resolve));
    log[n].stale = redraw.stale();
  };
  const release = async () => {
    gates.shift()();
    await settle();
  };
  return { log, pass, release, bind: (r) => (redraw = r) };
}

test("requests during a pass collapse into one more pass, which sees no staleness", async () => {
  const g = gatedPasses();
  const starts = [];
  const r = g.bind(createRedraw(g.pass, { onStart: () => starts.push(1) }));
  assert.equal(r.busy(), false);
  const first = r.request();
  assert.equal(r.busy(), true);
  assert.equal(r.stale(), false);
  const second = r.request();
  const third = r.request();
  assert.equal(second, first, "one promise for the passes running and queued");
  assert.equal(third, first);
  assert.equal(r.stale(), true, "the pass running is stale");
  await g.release();
  assert.deepEqual(g.log, [{ n: 0, stale: true }, { n: 1, stale: null }]);
  await g.release();
  await first;
  assert.deepEqual(g.log[1], { n: 1, stale: false });
  assert.equal(starts.length, 2, "two passes for three requests");
  assert.equal(r.busy(), false);
});

test("a pass that throws is reported and the next request runs", async () => {
  const errors = [];
  let calls = 0;
  const r = createRedraw(
    async () => {
      calls++;
      if (calls === 1) throw new Error("bug");
    },
    { onError: (e) => errors.push(e.message) },
  );
  await r.request();
  assert.deepEqual(errors, ["bug"]);
  await r.request();
  assert.equal(calls, 2);
  assert.deepEqual(errors, ["bug"]);
});

/** Manual timers and a player whose position moves when it is told to. */
function fakePlayer(count, index = 0) {
  const timers = new Map();
  let ids = 0;
  const player = {
    index,
    busy: false,
    moves: [],
    position: () => ({ index: player.index, count }),
    busyNow: () => player.busy,
    go(patch) {
      player.moves.push(patch);
      if ("stepIndex" in patch) player.index = patch.stepIndex;
      if ("stepBy" in patch) player.index += patch.stepBy;
      if ("play" in patch) playback.play(patch.play);
    },
  };
  const fake = {
    setInterval: (fn, ms) => (timers.set(++ids, { fn, ms }), ids),
    clearInterval: (id) => timers.delete(id),
  };
  const playback = createPlayback(
    { position: player.position, busy: player.busyNow, go: player.go },
    { timers: fake },
  );
  const tick = () => [...timers.values()].forEach((t) => t.fn());
  return { player, playback, timers, tick };
}

test("playback steps on every tick, waits for a draw and stops at the end", () => {
  const { player, playback, timers, tick } = fakePlayer(3);
  playback.play(true);
  assert.equal(playback.playing(), true);
  assert.equal([...timers.values()][0].ms, PLAY_INTERVAL_MS);
  tick();
  assert.equal(player.index, 1);
  player.busy = true;
  tick();
  assert.equal(player.index, 1, "a draw runs: the tick waits");
  player.busy = false;
  tick();
  assert.equal(player.index, 2);
  tick();
  assert.deepEqual(player.moves.at(-1), { play: false });
  assert.equal(playback.playing(), false);
  assert.equal(timers.size, 0);
});

test("playback from the last step starts over; one step cannot play", () => {
  const { player, playback } = fakePlayer(3, 2);
  playback.play(true);
  assert.deepEqual(player.moves, [{ stepIndex: 0 }]);
  assert.equal(playback.playing(), true, "already playing while the first step is drawn");
  playback.play(false);
  assert.equal(playback.playing(), false);
  const single = fakePlayer(1);
  single.playback.play(true);
  assert.equal(single.playback.playing(), false);
  assert.equal(single.timers.size, 0);
});
