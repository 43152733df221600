"""Benchmark: the plugin's HTTP routes in a real `tensorboard` process.

Run from the repository root:

    python -m bench.bench_routes                 # about 10 minutes on 2 cores
    python -m bench.bench_routes --quick         # a smoke run (small memory test)
    python -m bench.bench_routes --skip-memory   # routes only
    python -m bench.bench_routes --reps 9 --memory-steps 300 --json out.json

Every figure is measured over HTTP (urllib, 127.0.0.1) against `tensorboard`
started with the venv's executable, with `--load_fast=true` (Rust data server)
and `--load_fast=false` (Python multiplexer). Comparisons alternate A and B
(A, B, A, B, ...) after a warm-up and report the median of each and the
median of the per-pair ratios A/B:

  (a) `tensor` for one 16x512x256 float32 step (8 MB) vs the data provider's
      own `read_blob` of that step, in this process (target <= 1.5x), and the
      body size vs the logged `.npy` (target <= 1.01x); also vs TensorBoard's
      own images plugin serving the same bytes as a blob over HTTP
      (`individualImage`), vs a bare werkzeug server sending the same bytes
      from memory (`bench.blob_server`, the transport floor), and
      `tensor_impl` vs `read_blob` in-process;
  (b) `profile` of 1,000 steps x 512 timesteps, warm (target <= 200 ms), vs
      the provider's `read_tensors` of that series;
  (c) `tags` with 50 runs x 8 tags (target <= 200 ms) vs the provider's
      `list_blob_sequences`;
  (d) resident memory (RSS, and its data server child for load_fast=true)
      of a `tensorboard` holding 1,000 logged steps of a 16x200x64 float32
      layer, with the default retention (50 full tensors) and with
      `--samples_per_plugin rnngrad=0` (all 1,000), against an empty logdir;
      logged by the TF op, and (default retention only) as the NumPy twin's
      one-event-per-step `Summary`.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent

import numpy as np  # noqa: E402
from tensorboard import context  # noqa: E402
from tensorboard.backend import application  # noqa: E402
from tensorboard.data import provider as dp  # noqa: E402
from tensorboard.plugins import base_plugin  # noqa: E402
from tensorboard.plugins.core import core_plugin  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from bench.timing import check  # noqa: E402
from tb_rnngrad.format import npy_format  # noqa: E402
from tb_rnngrad.server.loader import RnnGradLoader  # noqa: E402
from tb_rnngrad.server.plugin import RnnGradPlugin  # noqa: E402
from tb_rnngrad.summary import pb as summary_pb  # noqa: E402
from testkit.data import write_run  # noqa: E402
from testkit.providers import start_provider, tensorboard_flags, wait_for  # noqa: E402
from testkit.tensorboard_server import (  # noqa: E402
    fetch,
    free_port,
    start_tensorboard,
    wait_for_json,
)

ROOT = "/data/plugin/rnngrad"
MODES = {True: "load_fast=true", False: "load_fast=false"}
#: The data providers measured (`--modes`).
ACTIVE_MODES = list(MODES)
MB = 2**20
#: Every figure printed, by section and mode, for `--json` (see `record`).
RESULTS: dict = {}


def record(section: str, mode: str, **values) -> None:
    RESULTS.setdefault(section, {}).setdefault(mode, {}).update(values)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(
    a: Callable[[], object], b: Callable[[], object], reps: int, warmup: int = 2
) -> tuple[float, float, float]:
    """(median seconds of a, of b, median of the per-pair ratios a/b)."""
    for _ in range(warmup):
        a()
        b()
    times_a, times_b, ratios = [], [], []
    for _ in range(reps):
        ta, tb = timed(a), timed(b)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    return (
        statistics.median(times_a),
        statistics.median(times_b),
        statistics.median(ratios),
    )


def route(base: str, name: str, **params) -> str:
    query = urllib.parse.urlencode(params)
    return f"{base}{ROOT}/{name}" + (f"?{query}" if query else "")


def get_ok(url: str, headers=None) -> bytes:
    status, _, body = fetch(url, headers=headers)
    if status != 200:
        raise RuntimeError(f"GET {url} answered {status}: {body[:300]!r}")
    return body


def write_series(run_dir: Path, tag: str, steps, make: Callable[[int], np.ndarray]):
    """Writes `tag` at `steps` with the NumPy twin (tensor, profile, reach)."""
    write_run(run_dir, ((s, summary_pb.gradients_pb(tag, make(s))) for s in steps))


def ctx():
    return context.RequestContext()


def provider_for(load_fast: bool, logdir: str):
    """The same kind of data provider `tensorboard` uses, in this process."""
    kind = "data_server" if load_fast else "multiplexer"
    return start_provider(kind, logdir)


# (a) tensor


def write_image_blob(run_dir: Path, tag: str, step: int, blob: bytes) -> None:
    """`blob` as a one-image summary of TensorBoard's own images plugin."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.image import metadata as image_metadata
    from tensorboard.util import tensor_util

    summary_metadata = image_metadata.create_summary_metadata(tag, "")
    summary_metadata.data_class = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=tag,
        metadata=summary_metadata,
        tensor=tensor_util.make_tensor_proto([b"1", b"1", blob], dtype=np.object_),
    )
    write_run(run_dir, [(step, summary)])


@contextlib.contextmanager
def blob_server(path: Path):
    """URL of `bench.blob_server` serving the bytes of `path` (the floor)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.blob_server", str(path), str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("bench.blob_server did not start")
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.kill()
        process.wait()


def first_touch_ms(size: int, reps: int) -> tuple[float, float]:
    """Median ms to write `size` bytes into fresh memory, and into the same again.

    Every new buffer of a large answer (the client's, the provider's) pays the
    first; on a virtual machine it is several times the second.
    """
    fresh, again = [], []
    zeros = bytes(size)
    for _ in range(reps):
        with mmap.mmap(-1, size) as buffer:
            fresh.append(timed(lambda: buffer.write(zeros)))
            buffer.seek(0)
            again.append(timed(lambda: buffer.write(zeros)))
    return statistics.median(fresh) * 1e3, statistics.median(again) * 1e3


#: glibc malloc settings that keep freed large buffers for reuse: one arena
#: (not one per request thread), no mmap for buffers under 64 MiB, no trimming.
TUNED_MALLOC = {
    "MALLOC_ARENA_MAX": "1",
    "MALLOC_MMAP_THRESHOLD_": str(64 * MB),
    "MALLOC_TRIM_THRESHOLD_": str(256 * MB),
    "MALLOC_TOP_PAD_": str(64 * MB),
}
TUNED_MALLOC_TEXT = " ".join(f"{k}={v}" for k, v in TUNED_MALLOC.items())


def tuned_allocator_lines(
    logdir: str, raw: bytes, read_blob: Callable[[], bytes], reps: int
) -> dict:
    """`GET tensor` from a `tensorboard` (load_fast=true) with `TUNED_MALLOC`."""
    server = start_tensorboard(logdir, load_fast=True, env=TUNED_MALLOC)
    try:
        url = route(server.url, "tensor", run="run", tag="lstm", step=1)
        wait_for_json(route(server.url, "steps", run="run", tag="lstm"), len)
        assert get_ok(url) == raw
        get, _, ratio = alternate(lambda: get_ok(url), read_blob, reps)
    finally:
        server.stop()
    return {
        "tuned_get_ms": get * 1e3,
        "tuned_ratio": ratio,
        "tuned_env": TUNED_MALLOC_TEXT,
    }


def bench_tensor(workdir: Path, reps: int) -> list[str]:
    shape = (16, 512, 256)
    logdir = workdir / "tensor"
    data = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    write_series(logdir / "run", "lstm", range(2), lambda s: data + s)
    raw = npy_format.encode(data + 1)
    write_image_blob(logdir / "run", "img", 1, raw)
    raw_path = workdir / "step1.npy"
    raw_path.write_bytes(raw)
    dims = "x".join(map(str, shape))
    fresh, again = first_touch_ms(len(raw), reps)
    record("tensor_machine", "any", first_touch_ms=fresh, retouch_ms=again)
    lines = [
        f"(a) tensor: one {dims} float32 step, {len(raw) / MB:.1f} MiB",
        f"  writing {len(raw) / MB:.1f} MiB into fresh memory {fresh:.2f} ms, "
        f"into the same memory again {again:.2f} ms",
    ]
    for load_fast in ACTIVE_MODES:
        lines += tensor_lines(str(logdir), load_fast, raw, raw_path, reps)
    return lines


def tensor_lines(
    logdir: str, load_fast: bool, raw: bytes, raw_path: Path, reps: int
) -> list[str]:
    provider, ingester = provider_for(load_fast, logdir)
    run_tag = dp.RunTagFilter(runs=["run"], tags=["lstm"])

    def blob_key():
        result = provider.read_blob_sequences(
            ctx(),
            experiment_id="",
            plugin_name="rnngrad",
            downsample=100,
            run_tag_filter=run_tag,
        )
        data = result.get("run", {}).get("lstm", [])
        return next((d.values[0].blob_key for d in data if d.step == 1), None)

    key = wait_for(blob_key, timeout=300)

    blob_seconds = []  # every read_blob timed, for the fastest one

    def read_blob():
        start = time.perf_counter()
        blob = provider.read_blob(ctx(), blob_key=key)
        blob_seconds.append(time.perf_counter() - start)
        return blob

    plugin = RnnGradPlugin(base_plugin.TBContext(data_provider=provider))
    impl, _, impl_ratio = alternate(
        lambda: plugin.tensor_impl(ctx(), "", "run", "lstm", 1), read_blob, reps
    )
    app = Client(
        application.TensorBoardWSGIApp(
            tensorboard_flags(logdir),
            [core_plugin.CorePluginLoader, RnnGradLoader],
            provider,
            None,
            None,
        )
    )
    path = route("", "tensor", run="run", tag="lstm", step=1)
    assert app.get(path).data == raw
    wsgi, _, wsgi_ratio = alternate(lambda: app.get(path).data, read_blob, reps)
    server = start_tensorboard(logdir, load_fast=load_fast)
    try:
        url = route(server.url, "tensor", run="run", tag="lstm", step=1)
        steps = route(server.url, "steps", run="run", tag="lstm")
        wait_for_json(steps, lambda s: len(s) == 2)
        images = wait_for_json(
            f"{server.url}/data/plugin/images/images?run=run&tag=img&sample=0",
            lambda entries: len(entries) == 1,
        )
        image_url = (
            f"{server.url}/data/plugin/images/individualImage?{images[0]['query']}"
        )
        body = get_ok(url)
        assert body == raw, "served bytes differ from the logged .npy"
        assert get_ok(image_url) == raw
        assert read_blob() == raw
        http, own, ratio = alternate(lambda: get_ok(url), read_blob, reps)
        _, image, image_ratio = alternate(
            lambda: get_ok(url), lambda: get_ok(image_url), reps
        )
        sample, _, sample_ratio = alternate(
            lambda: get_ok(url + "&sample=3"), read_blob, reps
        )
        with blob_server(raw_path) as floor_url:
            assert get_ok(floor_url) == raw
            _, floor, floor_ratio = alternate(
                lambda: get_ok(url), lambda: get_ok(floor_url), reps
            )
            _, _, floor_vs_read_blob = alternate(
                lambda: get_ok(floor_url), read_blob, reps
            )
    finally:
        server.stop()
    tuned = tuned_allocator_lines(logdir, raw, read_blob, reps) if load_fast else {}
    del ingester
    mode = MODES[load_fast]
    record(
        "tensor",
        mode,
        get_ms=http * 1e3,
        read_blob_ms=own * 1e3,
        ratio=ratio,
        read_blob_best_ms=min(blob_seconds) * 1e3,
        best_ratio=http / min(blob_seconds),
        body_ratio=len(body) / len(raw),
        body_mib=len(raw) / MB,
        image_ms=image * 1e3,
        image_ratio=image_ratio,
        impl_ms=impl * 1e3,
        impl_ratio=impl_ratio,
        wsgi_ms=wsgi * 1e3,
        wsgi_ratio=wsgi_ratio,
        sample_ms=sample * 1e3,
        sample_ratio=sample_ratio,
        floor_ms=floor * 1e3,
        floor_ratio=floor_ratio,
        floor_vs_read_blob=floor_vs_read_blob,
        **tuned,
    )
    return [
        f"  {mode:16s} GET tensor {http * 1e3:6.1f} ms | provider read_blob in "
        f"this process {own * 1e3:6.1f} ms | ratio {ratio:.2f}x (target <= 1.5x) "
        f"| body {len(body) / len(raw):.4f}x of the .npy (target <= 1.01x)",
        f"  {mode:16s} GET tensor vs GET images/individualImage of the same bytes "
        f"({image * 1e3:.1f} ms): {image_ratio:.2f}x",
        f"  {mode:16s} tensor_impl in this process {impl * 1e3:6.1f} ms: "
        f"{impl_ratio:.2f}x read_blob (the plugin's own overhead)",
        f"  {mode:16s} GET tensor through TensorBoard's WSGI app in this process "
        f"{wsgi * 1e3:6.1f} ms: {wsgi_ratio:.2f}x read_blob (the route, no socket)",
        f"  {mode:16s} GET tensor&sample=3 {sample * 1e3:6.1f} ms "
        f"({sample_ratio:.2f}x read_blob of the whole step)",
        f"  {mode:16s} the same bytes from memory by a bare werkzeug server "
        f"{floor * 1e3:6.1f} ms: GET tensor {floor_ratio:.2f}x it; it is "
        f"{floor_vs_read_blob:.2f}x read_blob (the transport floor)",
    ] + (
        [
            f"  {mode:16s} GET tensor from a tensorboard with {TUNED_MALLOC_TEXT}: "
            f"{tuned['tuned_get_ms']:6.1f} ms, {tuned['tuned_ratio']:.2f}x read_blob"
        ]
        if tuned
        else []
    )


# (b) profile


def bench_profile(workdir: Path, reps: int, steps: int, timesteps: int) -> list[str]:
    logdir = workdir / "profile"
    rng = np.random.default_rng(1)
    base = rng.standard_normal((1, timesteps, 2)).astype(np.float32)
    write_series(logdir / "run", "flow", range(steps), lambda s: base * (1 + s % 7))
    lines = [f"(b) profile: {steps} steps x {timesteps} timesteps"]
    for load_fast in ACTIVE_MODES:
        lines.append(profile_line(str(logdir), load_fast, reps, steps, timesteps))
    return lines


def profile_line(
    logdir: str, load_fast: bool, reps: int, steps: int, timesteps: int
) -> str:
    provider, ingester = provider_for(load_fast, logdir)
    run_tag = dp.RunTagFilter(runs=["run"], tags=["flow/profile"])

    def read_tensors():
        return provider.read_tensors(
            ctx(),
            experiment_id="",
            plugin_name="rnngrad_profile",
            downsample=2**31 - 1,
            run_tag_filter=run_tag,
        )

    def provider_loaded():
        return len(read_tensors().get("run", {}).get("flow/profile", [])) == steps

    wait_for(provider_loaded, timeout=300)
    server = start_tensorboard(logdir, load_fast=load_fast)
    gz = {"Accept-Encoding": "gzip"}
    try:
        url = route(server.url, "profile", run="run", tag="flow")
        wait_for_json(
            route(server.url, "tags"),
            lambda t: t.get("run", {}).get("flow", {}).get("max_step") == steps - 1,
            timeout=300,
        )
        cold = timed(lambda: get_ok(url))
        plain_body = get_ok(url)
        gz_body = get_ok(url, headers=gz)
        assert gzip.decompress(gz_body) == plain_body
        profile = json.loads(plain_body)
        assert len(profile["steps"]) == steps
        assert len(profile["values"][0]) == timesteps
        warm_gz, own, ratio = alternate(
            lambda: get_ok(url, headers=gz), read_tensors, reps
        )
        warm_plain, _, _ = alternate(lambda: get_ok(url), read_tensors, reps)
    finally:
        server.stop()
        del ingester
    record(
        "profile",
        MODES[load_fast],
        gzip_ms=warm_gz * 1e3,
        gzip_mib=len(gz_body) / MB,
        plain_ms=warm_plain * 1e3,
        plain_mib=len(plain_body) / MB,
        cold_ms=cold * 1e3,
        read_tensors_ms=own * 1e3,
        ratio=ratio,
        steps=steps,
        timesteps=timesteps,
    )
    return (
        f"  {MODES[load_fast]:16s} warm GET profile {warm_gz * 1e3:6.1f} ms gzip "
        f"({len(gz_body) / MB:.1f} MiB), {warm_plain * 1e3:6.1f} ms plain "
        f"({len(plain_body) / MB:.1f} MiB) (target <= 200 ms) | first answer "
        f"{cold * 1e3:6.0f} ms | provider read_tensors {own * 1e3:6.1f} ms "
        f"(gzip route / read_tensors {ratio:.2f}x)"
    )


# (c) tags


def bench_tags(workdir: Path, reps: int, runs: int = 50, tags: int = 8) -> list[str]:
    logdir = workdir / "tags"
    small = np.ones((1, 4, 2), np.float32)
    layer = {"layer_class": "LSTM"}
    for r in range(runs):
        write_run(
            logdir / f"run_{r:02d}",
            [
                (0, summary_pb.gradients_pb(f"layer_{t}", small, layer=layer))
                for t in range(tags)
            ],
        )
    lines = [f"(c) tags: {runs} runs x {tags} tags"]
    for load_fast in ACTIVE_MODES:
        lines.append(tags_line(str(logdir), load_fast, reps, runs * tags))
    return lines


def tags_line(logdir: str, load_fast: bool, reps: int, series: int) -> str:
    provider, ingester = provider_for(load_fast, logdir)

    def listing():
        return provider.list_blob_sequences(
            ctx(), experiment_id="", plugin_name="rnngrad"
        )

    def count(mapping) -> int:
        return sum(len(tags) for tags in mapping.values())

    wait_for(lambda: count(listing()) == series, timeout=300)
    server = start_tensorboard(logdir, load_fast=load_fast)
    try:
        url = route(server.url, "tags")
        wait_for_json(url, lambda t: count(t) == series)
        http, own, ratio = alternate(lambda: get_ok(url), listing, reps)
    finally:
        server.stop()
        del ingester
    record(
        "tags",
        MODES[load_fast],
        get_ms=http * 1e3,
        listing_ms=own * 1e3,
        ratio=ratio,
        series=series,
    )
    return (
        f"  {MODES[load_fast]:16s} GET tags {http * 1e3:6.1f} ms (target <= 200 ms) "
        f"| provider list_blob_sequences {own * 1e3:6.1f} ms | ratio {ratio:.2f}x"
    )


# (d) memory


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB of a process."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return int(fields.get("VmRSS", "0 kB").split()[0]), int(
        fields.get("VmHWM", "0 kB").split()[0]
    )


def descendants(pid: int) -> list[int]:
    result = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            for child in children.read().split():
                result.append(int(child))
                result.extend(descendants(int(child)))
    except FileNotFoundError:
        pass
    return result


def memory_line(
    logdir: str, load_fast: bool, samples, wait_steps: int, label: str
) -> str:
    server = start_tensorboard(
        logdir, load_fast=load_fast, samples_per_plugin=samples, timeout=300
    )
    try:
        start = time.perf_counter()
        if wait_steps:
            wait_for_json(
                route(server.url, "steps", run="run", tag="lstm"),
                lambda s: s and s[-1]["step"] == wait_steps - 1,
                timeout=1800,
            )
            wait_for_json(
                route(server.url, "profile", run="run", tag="lstm"),
                lambda p: len(p["steps"]) == wait_steps,
                timeout=1800,
            )
            kept = len(
                json.loads(get_ok(route(server.url, "steps", run="run", tag="lstm")))
            )
        else:
            kept = 0
        loaded_after = time.perf_counter() - start
        time.sleep(3)
        main_rss, main_peak = rss_kib(server.pid)
        children = [rss_kib(pid) for pid in descendants(server.pid)]
    finally:
        server.stop()
    child_rss = sum(r for r, _ in children)
    mode = MODES[load_fast]
    RESULTS.setdefault("memory", {}).setdefault("rows", []).append(
        {
            "logdir": logdir.rsplit("/", 1)[-1],
            "mode": mode,
            "retention": label.strip(),
            "tensorboard_mib": main_rss / 1024,
            "data_server_mib": child_rss / 1024,
            "total_mib": (main_rss + child_rss) / 1024,
            "peak_mib": main_peak / 1024,
            "kept": kept,
            "loaded_s": loaded_after,
        }
    )
    child = f" + data server {child_rss / 1024:6.0f} MiB" if load_fast else ""
    return (
        f"  {mode:16s} {label:30s} tensorboard {main_rss / 1024:6.0f} MiB{child} "
        f"= {(main_rss + child_rss) / 1024:6.0f} MiB (peak of tensorboard "
        f"{main_peak / 1024:.0f} MiB; {kept} full tensors kept; loaded in "
        f"{loaded_after:.0f} s)"
    )


def write_memory_logs(run_dir: Path, steps: int, data: np.ndarray, op: bool) -> None:
    """`steps` steps of `data` (scaled) under tag "lstm", written by TensorFlow.

    With `op`, by `tb_rnngrad.summary.gradients` (one event per time series,
    as `GradientLogger` writes); else the NumPy twin's `Summary` as one event
    per step (`write_raw_pb`), as a tensorboardX user would write it.
    """
    import tensorflow as tf

    from tb_rnngrad import summary

    with tf.summary.create_file_writer(str(run_dir)).as_default():
        for step in range(steps):
            scaled = data * (1 + step % 5)
            if op:
                summary.gradients("lstm", scaled, step)
            else:
                pb = summary_pb.gradients_pb("lstm", scaled)
                tf.summary.experimental.write_raw_pb(pb.SerializeToString(), step)


def bench_memory(workdir: Path, steps: int) -> list[str]:
    shape = (16, 200, 64)
    dims = "x".join(map(str, shape))
    empty = workdir / "empty"
    empty.mkdir()
    data = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    lines = [f"(d) memory: {steps} logged steps of a {dims} float32 layer"]
    RESULTS.setdefault("memory", {})["steps"] = steps
    for load_fast in ACTIVE_MODES:
        lines.append(memory_line(str(empty), load_fast, None, 0, "empty logdir"))
    for op in (True, False):
        logdir = workdir / ("memory_op" if op else "memory_pb")
        start = time.perf_counter()
        write_memory_logs(logdir / "run", steps, data, op)
        size = sum(f.stat().st_size for f in (logdir / "run").iterdir())
        RESULTS.setdefault("memory", {}).setdefault("written_mib", {})[logdir.name] = (
            size / MB
        )
        writer = (
            "summary.gradients (one event per series)"
            if op
            else "gradients_pb Summary as one event per step"
        )
        lines.append(
            f"  written by {writer}: {size / MB:.0f} MiB of event files in "
            f"{time.perf_counter() - start:.0f} s"
        )
        for load_fast in ACTIVE_MODES:
            lines.append(
                memory_line(str(logdir), load_fast, None, steps, "default (rnngrad=50)")
            )
            if op:
                lines.append(
                    memory_line(
                        str(logdir),
                        load_fast,
                        {"rnngrad": 0},
                        steps,
                        "--samples_per_plugin rnngrad=0",
                    )
                )
        shutil.rmtree(logdir)
    return lines


#: Targets: (section, result key, what, op, limit, unit).
TARGETS = (
    ("tensor", "best_ratio", "`GET tensor` / fastest `read_blob`", "<=", 1.5, "x"),
    ("tensor", "impl_ratio", "`tensor_impl` / `read_blob`", "<=", 1.5, "x"),
    ("tensor", "body_ratio", "`tensor` body / logged `.npy`", "<=", 1.01, "x"),
    ("profile", "gzip_ms", "warm `GET profile`, gzip", "<=", 200, "ms"),
    ("profile", "plain_ms", "warm `GET profile`, no gzip", "<=", 200, "ms"),
    ("tags", "get_ms", "`GET tags`", "<=", 200, "ms"),
)


def checks() -> list[dict]:
    """Every target with what `RESULTS` measured for it, per data provider."""
    return [
        check(f"{what}, {mode}", values[key], op, limit, unit)
        for section, key, what, op, limit, unit in TARGETS
        for mode, values in RESULTS.get(section, {}).items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer reps, small memory test"
    )
    parser.add_argument("--skip-memory", action="store_true", help="skip (d)")
    parser.add_argument("--reps", type=int, default=None, help="pairs per figure")
    parser.add_argument(
        "--memory-steps", type=int, default=None, help="logged steps for (d)"
    )
    parser.add_argument(
        "--sections", default="abcd", help="which of (a) to (d) to run, e.g. 'ab'"
    )
    parser.add_argument(
        "--modes",
        choices=("both", "true", "false"),
        default="both",
        help="data providers: load_fast=true, false or both",
    )
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.modes != "both":
        ACTIVE_MODES[:] = [args.modes == "true"]
    reps = args.reps or (5 if args.quick else 9)
    memory_steps = args.memory_steps or (100 if args.quick else 300)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench_routes_"))
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, logs in {workdir}",
        flush=True,
    )
    sections = {
        "a": lambda: bench_tensor(workdir, reps),
        "b": lambda: bench_profile(workdir, reps, steps=1000, timesteps=512),
        "c": lambda: bench_tags(workdir, reps),
        "d": lambda: bench_memory(workdir, memory_steps),
    }
    if args.skip_memory:
        args.sections = args.sections.replace("d", "")
    load_start = os.getloadavg()
    try:
        for key in args.sections:
            print("\n".join(sections[key]()), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.json:
            document = {
                "name": "bench_routes",
                "quick": args.quick,
                "params": {
                    "reps": reps,
                    "sections": args.sections,
                    "modes": args.modes,
                },
                "load_start": [round(x, 2) for x in load_start],
                "load_end": [round(x, 2) for x in os.getloadavg()],
                "seconds": round(time.perf_counter() - started, 1),
                "results": RESULTS,
                "checks": checks(),
            }
            Path(args.json).write_text(json.dumps(document, indent=1))


if __name__ == "__main__":
    main()
