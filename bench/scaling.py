"""How cost grows with the logged tensor: timesteps 100 to 4,000, channels 16
to 1,024.

    python -m bench.scaling [--quick] [--json OUT]

For each (timesteps, channels) of the grid, batch 16, one model: input
(16, timesteps, 8) -> LSTM(channels, return_sequences=True) -> Dense(1) per
timestep, mse. Measured:

- capture: `GradientLogger.log` (capture + write + flush), interleaved with the
  bare forward+backward (gradient w.r.t. the LSTM output, copied to NumPy) and
  with `summary.gradients` of the same NumPy array alone (the write);
- event bytes per logged step;
- `GET tensor` of that step from a real `tensorboard` on 127.0.0.1 (both
  data providers, `--load_fast=true` and `false`), interleaved across sizes;
- browser draw of all 16 samples (heatmap + channel grid) in headless Chromium,
  interleaved across sizes;
- issue 12's through-time kinds ("bptt" stage, 1,000 and 4,000 timesteps, 64
  channels): `capture.capture` with kinds gradients, state_gradients and
  weight_contributions against the bare forward+backward of the same model
  (gradients of its weights), all four sides in one rotation, so that each
  repetition gives both the capture's growth from the shorter to the longer
  sequence and the bare step's. Target, in process CPU time: the capture
  grows at most linearly (4x), or, where TensorFlow's own backward pass grows
  faster, no faster than the bare step.

Each stage records its own error, so one failing stage keeps the others.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import traceback
import urllib.parse
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.bench_capture import BPTT_KINDS, bare_forward_backward  # noqa: E402
from bench.timing import (  # noqa: E402
    Recorder,
    interleave,
    ratio,
    reps_within,
    spread,
    timed,
)
from tb_rnngrad import summary  # noqa: E402
from tb_rnngrad.callback import GradientLogger  # noqa: E402
from tb_rnngrad.capture import capture  # noqa: E402

BATCH, FEATURES = 16, 8
FULL_TIMESTEPS = (100, 500, 1000, 2000, 4000)
FULL_CHANNELS = (16, 64, 256, 1024)
QUICK_TIMESTEPS = (100, 1000, 4000)
QUICK_CHANNELS = (16, 256)
BASE_TIMESTEPS, BASE_CHANNELS = 200, 64
TAG = "gradients/lstm"
BPTT_TIMESTEPS = (1000, 4000)
"""The bptt stage's lengths, quick or not. Both above 448, the timesteps per
chunk of weight terms for LSTM(64) on 8 features: a shorter one would compare
the one-pass path with the chunked one."""


def grid(quick: bool) -> list[tuple[int, int]]:
    """(timesteps, channels) pairs: a timesteps sweep, then a channels sweep."""
    steps = QUICK_TIMESTEPS if quick else FULL_TIMESTEPS
    chans = QUICK_CHANNELS if quick else FULL_CHANNELS
    pairs = [(t, BASE_CHANNELS) for t in steps]
    pairs += [(BASE_TIMESTEPS, c) for c in chans if (BASE_TIMESTEPS, c) not in pairs]
    return pairs


def run_name(timesteps: int, channels: int) -> str:
    return f"t{timesteps}_c{channels}"


def build(timesteps: int, channels: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((timesteps, FEATURES))
    hidden = keras.layers.LSTM(channels, return_sequences=True, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer="adam", loss="mse")
    return model


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def capture_one(
    timesteps: int,
    channels: int,
    reps: tuple[float, int, int],
    scratch: Path,
    logdir: Path,
) -> dict:
    """Times capture+write, the floor and the write alone for one size.

    `reps` is (seconds, fewest, most): as many repetitions as fit in about
    that many seconds, within those bounds (small sizes are noisier).

    Also writes one step of the captured gradient to `logdir/<run>` for the
    route stage, and returns that array under "array".
    """
    model = build(timesteps, channels)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, timesteps, FEATURES)).astype(np.float32)
    y = rng.standard_normal((BATCH, timesteps, 1)).astype(np.float32)
    logger = GradientLogger(
        str(scratch / "logger"), data=(x, y), kinds=("gradients",), subdir=""
    )
    logger.set_model(model)
    logger.on_train_begin()
    probe = keras.Model(model.inputs, [model.get_layer("lstm").output, model.output])
    x_t, y_t = tf.constant(x), tf.constant(y)

    @tf.function
    def floor_fn(x, y):
        with tf.GradientTape() as tape:
            hidden, y_pred = probe(x, training=False)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred)
        return tape.gradient(loss, hidden)

    array = floor_fn(x_t, y_t).numpy()
    writer = tf.summary.create_file_writer(str(scratch / "write"))
    step = {"log": 0, "write": 0}

    def capture_write() -> None:
        step["log"] += 1
        logger.log(step["log"])

    def write_only() -> None:
        with writer.as_default(step=step["write"]):
            summary.gradients(TAG, array)
        writer.flush()
        step["write"] += 1

    sides = {
        "capture_write": capture_write,
        "floor": lambda: floor_fn(x_t, y_t).numpy(),
        "write": write_only,
    }
    warm = sum(timed(side)[0] for side in sides.values())  # the warm-up round
    reps = reps_within(warm, *reps)
    raw = interleave(sides, reps, warmup=0)
    logger.on_train_end()
    writer.close()
    per_step = dir_bytes(scratch / "logger") / len(logger.logged_steps)
    with tf.summary.create_file_writer(
        str(logdir / run_name(timesteps, channels))
    ).as_default():
        summary.gradients(TAG, array, step=0)
    shutil.rmtree(scratch / "logger")
    shutil.rmtree(scratch / "write")
    walls = {k: v["wall"] for k, v in raw.items()}
    return {
        "timesteps": timesteps,
        "channels": channels,
        "values": int(array.size),
        "reps": reps,
        "ms": {k: spread(v, 1e3) for k, v in walls.items()},
        "capture_write/floor": ratio(walls["capture_write"], walls["floor"]),
        "event_bytes_per_step": per_step,
        "array": array,
    }


def capture_stage(pairs, reps: tuple, workdir: Path, logdir: Path) -> tuple:
    rows, arrays = [], {}
    for timesteps, channels in pairs:
        scratch = workdir / f"scratch_{run_name(timesteps, channels)}"
        row = capture_one(timesteps, channels, reps, scratch, logdir)
        arrays[run_name(timesteps, channels)] = row.pop("array")
        rows.append(row)
        print(f"capture {timesteps}x{channels}: {row['ms']}", flush=True)
    return rows, arrays


def bptt_stage(timesteps: tuple[int, int], reps: int) -> dict:
    """Capture with `BPTT_KINDS` vs the bare step at two lengths, rotated.

    Returns:
        {"timesteps", "kinds", "reps", "sides": {"capture_t<T>" / "bare_t<T>":
        wall and CPU ms}, "ratio": {"t<T>": capture / bare per repetition},
        "growth": {"capture" / "bare": long / short per repetition,
        "capture/bare": the capture's growth over the bare step's}}, each
        ratio as {"wall": spread, "cpu": spread}.
    """
    sides = {}
    for steps in timesteps:
        model = build(steps, BASE_CHANNELS)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((BATCH, steps, FEATURES)).astype(np.float32)
        y = rng.standard_normal((BATCH, steps, 1)).astype(np.float32)
        bare = bare_forward_backward(model)
        x_t, y_t = tf.constant(x), tf.constant(y)
        sides[f"capture_t{steps}"] = lambda m=model, x=x, y=y: capture(
            m, x, y, kinds=BPTT_KINDS
        )
        sides[f"bare_t{steps}"] = lambda b=bare, x=x_t, y=y_t: [
            g.numpy() for g in b(x, y)
        ]
    raw = interleave(sides, reps, warmup=1)

    def ratios(a: str, b: str) -> dict:
        return {clock: ratio(raw[a][clock], raw[b][clock]) for clock in ("wall", "cpu")}

    short, long = timesteps
    growth = {
        side: ratios(f"{side}_t{long}", f"{side}_t{short}")
        for side in ("capture", "bare")
    }
    relative = {
        clock: spread(
            [
                (c1 / c0) / (b1 / b0)
                for c0, c1, b0, b1 in zip(
                    raw[f"capture_t{short}"][clock],
                    raw[f"capture_t{long}"][clock],
                    raw[f"bare_t{short}"][clock],
                    raw[f"bare_t{long}"][clock],
                    strict=True,
                )
            ]
        )
        for clock in ("wall", "cpu")
    }
    return {
        "timesteps": list(timesteps),
        "channels": BASE_CHANNELS,
        "batch": BATCH,
        "kinds": list(BPTT_KINDS),
        "reps": reps,
        "sides": {
            name: {
                "ms": spread(got["wall"], 1e3),
                "cpu_ms": spread(got["cpu"], 1e3),
            }
            for name, got in raw.items()
        },
        "ratio": {
            f"t{steps}": ratios(f"capture_t{steps}", f"bare_t{steps}")
            for steps in timesteps
        },
        "growth": growth | {"capture/bare": relative},
    }


def bptt_check(rec: Recorder, bptt: dict) -> None:
    """The target: the capture's growth at most linear, or the bare step's.

    In process CPU time: on a shared machine the wall clock's spread over
    repetitions (IQR of several x at load 5-8) is larger than the effect,
    while CPU time, the work done, varies by a few percent.
    """
    short, long = bptt["timesteps"]
    growth = bptt["growth"]
    linear = long / short
    rec.check(
        f"`capture` (kinds {' + '.join(bptt['kinds'])}) CPU time growth "
        f"{short:,} -> {long:,} timesteps, at most the larger of linear "
        f"({linear:g}x) and the bare fwd+bwd's growth",
        growth["capture"]["cpu"]["median"],
        "<=",
        max(linear, growth["bare"]["cpu"]["median"]),
        "x",
    )


def route_stage(pairs, reps: int, logdir: Path, load_fast: bool) -> dict:
    """Median `GET tensor` ms per run, from one `tensorboard` process."""
    from testkit.tensorboard_server import fetch, start_tensorboard, wait_for_json

    server = start_tensorboard(str(logdir), load_fast=load_fast, timeout=300)
    names = [run_name(t, c) for t, c in pairs]
    try:
        wait_for_json(
            f"{server.url}/data/plugin/rnngrad/tags",
            lambda tags: all(TAG in tags.get(n, {}) for n in names),
            timeout=300,
        )
        urls = {
            n: f"{server.url}/data/plugin/rnngrad/tensor?"
            + urllib.parse.urlencode({"run": n, "tag": TAG, "step": 0})
            for n in names
        }
        sizes = {}

        def getter(name):
            def get() -> None:
                status, _, body = fetch(urls[name], timeout=120)
                if status != 200:
                    raise RuntimeError(f"GET {urls[name]}: {status} {body[:200]!r}")
                sizes[name] = len(body)

            return get

        raw = interleave({n: getter(n) for n in names}, reps, warmup=1)
    finally:
        server.stop()
    return {
        n: {"ms": spread(raw[n]["wall"], 1e3), "body_bytes": sizes[n]} for n in names
    }


def browser_stage(arrays: dict, reps: int) -> dict:
    from bench.browser import DrawPage

    with DrawPage() as page:
        for name, array in arrays.items():
            page.load(name, array)
        sides = {}
        for name in arrays:
            for what in ("heatmap", "grid"):
                sides[f"{name}/{what}"] = lambda n=name, w=what: page.draw(n, w)
        raw = interleave(sides, reps, warmup=1)
        version = page.version()
    out = {"chromium": version}
    for name in arrays:
        heat, grid_ = raw[f"{name}/heatmap"]["wall"], raw[f"{name}/grid"]["wall"]
        out[name] = {
            "heatmap_ms": spread(heat, 1e3),
            "grid_ms": spread(grid_, 1e3),
            "both_ms": spread([a + b for a, b in zip(heat, grid_, strict=True)], 1e3),
        }
    return out


def stage(rec: Recorder, key: str, fn, *args):
    """Runs one stage; on failure records the error under `errors` and goes on."""
    try:
        value = fn(*args)
    except Exception as error:
        rec.data["results"].setdefault("errors", {})[key] = (
            f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"
        )
        print(f"stage {key} failed: {error}", file=sys.stderr, flush=True)
        return None
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grid")
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args(argv)
    pairs = grid(args.quick)
    reps = (
        {"capture": (0.5, 2, 5), "bptt": 2, "route": 3, "draw": 2}
        if args.quick
        else {"capture": (3.0, 5, 15), "bptt": 11, "route": 7, "draw": 5}
    )
    modes = (False,) if args.quick else (True, False)
    rec = Recorder(
        "scaling",
        args.quick,
        {
            "batch": BATCH,
            "features": FEATURES,
            "grid": pairs,
            "bptt_timesteps": list(BPTT_TIMESTEPS),
            "reps": reps,
            "model": "LSTM(channels, return_sequences=True) -> Dense(1), mse",
        },
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench_scaling_"))
    logdir = workdir / "logs"
    try:
        captured = stage(
            rec, "capture", capture_stage, pairs, reps["capture"], workdir, logdir
        )
        bptt = stage(rec, "bptt", bptt_stage, BPTT_TIMESTEPS, reps["bptt"])
        if bptt is not None:
            rec["bptt"] = bptt
            bptt_check(rec, bptt)
            print(f"bptt: {bptt['growth']}", flush=True)
        if captured is not None:
            rows, arrays = captured
            rec["capture"] = rows
            rec["draw"] = stage(rec, "draw", browser_stage, arrays, reps["draw"])
            del arrays
            routes = {}
            for load_fast in modes:
                mode = f"load_fast={'true' if load_fast else 'false'}"
                routes[mode] = stage(
                    rec,
                    f"route {mode}",
                    route_stage,
                    pairs,
                    reps["route"],
                    logdir,
                    load_fast,
                )
            rec["route"] = routes
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        rec.write(args.json)
    return 1 if rec.data["results"].get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
