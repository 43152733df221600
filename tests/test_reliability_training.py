"""Readers during training: concurrent clients of live `tensorboard` processes.

A subprocess (`reliability.train_and_record`) trains a tiny LSTM/GRU model
for `TRAIN_SECONDS` with `GradientLogger(every_n_steps=1,
kinds=("gradients",))`, and saves its own copy of every logged gradient
(`rnn_gradients` at the same weights, as `.npy`). Meanwhile two `tensorboard`
processes (`--load_fast=true` and `false`, `--reload_interval 1`,
`--samples_per_plugin rnngrad=0` so that no listed step is evicted) serve the
growing log directory to `CLIENTS` threads
that read `tags`, `steps`, `tensor` and `profile` in a loop.

Every answer must be a 200, and every tensor served must equal, byte for byte,
the training process's copy of that step.
"""

from __future__ import annotations

import collections
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from reliability.tb_http import ROOT, get, strict_json

from tb_rnngrad.format import stats
from testkit.tensorboard_server import start_tensorboard, wait_for_json

TESTS = Path(__file__).resolve().parent
TRAIN_SECONDS = 60
CLIENTS = 8
LAYERS = ("l1", "g2")
RUN = "rnngrad"


class Clients:
    """`CLIENTS` threads reading the plugin's routes until stopped."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        #: (server index, tag, step) -> set of tensor bodies served.
        self.tensors: dict[tuple[int, str, int], set[bytes]] = collections.defaultdict(
            set
        )
        self.tensor_answers = 0
        self.tensor_bytes = 0
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True)
            for i in range(CLIENTS)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _get(self, base: str, route: str, **params):
        with self.lock:
            self.requests[route] += 1
        try:
            answer = get(base, route, params, timeout=60)
        except OSError as error:
            self._error(f"GET {route} {params}: {error!r}")
            return None
        if answer.status != 200:
            self._error(repr(answer))
            return None
        return answer

    def _error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def _run(self, index: int) -> None:
        rng = random.Random(index)
        server = index % len(self.urls)
        base = self.urls[server]
        while not self.stop.is_set():
            time.sleep(0.02)
            tags = self._get(base, "tags")
            if tags is None:
                continue
            listed = sorted(strict_json(tags.body).get(RUN, {}))
            if not listed:
                continue
            tag = rng.choice(listed)
            if rng.random() < 0.25:
                if (
                    profile := self._get(base, "profile", run=RUN, tag=tag)
                ) is not None:
                    strict_json(profile.body)
                continue
            steps = self._get(base, "steps", run=RUN, tag=tag)
            if steps is None:
                continue
            steps = [s["step"] for s in strict_json(steps.body)]
            if not steps:
                continue
            step = steps[-1] if rng.random() < 0.5 else rng.choice(steps)
            tensor = self._get(base, "tensor", run=RUN, tag=tag, step=step)
            if tensor is not None:
                with self.lock:
                    self.tensors[(server, tag, step)].add(tensor.body)
                    self.tensor_answers += 1
                    self.tensor_bytes += len(tensor.body)


def _start_servers(logdir: str):
    def start(load_fast: bool):
        return start_tensorboard(
            logdir,
            load_fast=load_fast,
            samples_per_plugin={"rnngrad": 0},
            extra_args=["--reload_interval", "1"],
        )

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(start, (True, False)))


def _reference(refdir: Path, tag: str, step: int) -> bytes:
    return (refdir / tag.split("/")[1] / f"{step}.npy").read_bytes()


def test_readers_during_training_see_exactly_what_was_logged(tmp_path):
    logdir, refdir = tmp_path / "logs", tmp_path / "ref"
    logdir.mkdir()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(TESTS), *filter(None, [env.get("PYTHONPATH")])]
    )
    log = tempfile.TemporaryFile()
    started = time.monotonic()
    trainer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reliability.train_and_record",
            str(logdir),
            str(refdir),
            str(TRAIN_SECONDS),
        ],
        cwd=TESTS,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    servers = []
    clients = None
    try:
        servers = _start_servers(str(logdir))
        clients = Clients([s.url for s in servers])
        clients.start()
        trainer.wait(timeout=TRAIN_SECONDS + 240)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
        assert trainer.returncode == 0, output[-3000:]
        done = json.loads((refdir / "done.json").read_text())
        logged = done["logged_steps"]
        assert logged == done["saved_steps"] == list(range(len(logged)))
        # Let the servers catch up with the last steps while clients read on.
        for server in servers:
            for layer in LAYERS:
                wait_for_json(
                    f"{server.url}{ROOT}/steps?"
                    + urllib.parse.urlencode({"run": RUN, "tag": f"gradients/{layer}"}),
                    lambda body: len(body) == len(logged),
                    timeout=90,
                )
        clients.join()
        # The servers end with every step: steps, profiles and tensors agree.
        for server in servers:
            for layer in LAYERS:
                _check_final_state(server.url, refdir, f"gradients/{layer}", logged)
        wall = _wall_times(servers[0].url, "gradients/l1")
    finally:
        if clients is not None:
            clients.join()
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
        for server in servers:
            server.stop()
        log.close()

    # Every answer was a 200.
    assert clients.errors == [], clients.errors[:10]
    # Every tensor served is the training process's own copy, byte for byte.
    compared = 0
    for (_, tag, step), bodies in sorted(clients.tensors.items()):
        reference = _reference(refdir, tag, step)
        for body in bodies:
            assert body == reference, (tag, step)
            served = np.load(io.BytesIO(body))
            expected = np.load(io.BytesIO(reference))
            np.testing.assert_array_equal(
                served.view(np.uint32), expected.view(np.uint32)
            )
            compared += 1
    assert wall[-1] - wall[0] >= TRAIN_SECONDS - 1, "logged for too short a time"
    steps_served = {(tag, step) for _, tag, step in clients.tensors}
    print(
        f"\n[reliability] training: {len(logged)} steps logged over "
        f"{wall[-1] - wall[0]:.1f} s; {CLIENTS} clients made "
        f"{sum(clients.requests.values())} requests {dict(clients.requests)}, "
        f"{len(clients.errors)} errors; {clients.tensor_answers} tensors served "
        f"({clients.tensor_bytes} bytes), all equal byte for byte to the "
        f"training process's copy ({compared} distinct answers, "
        f"{len(steps_served)} of {2 * len(logged)} layer-steps); "
        f"total {time.monotonic() - started:.0f} s"
    )
    assert clients.tensor_answers >= 100 and len(steps_served) >= 50


def _wall_times(base: str, tag: str) -> list[float]:
    answer = get(base, "steps", {"run": RUN, "tag": tag})
    return [s["wall_time"] for s in strict_json(answer.body)]


def _check_final_state(base: str, refdir: Path, tag: str, logged: list[int]) -> None:
    answer = get(base, "steps", {"run": RUN, "tag": tag})
    assert [s["step"] for s in strict_json(answer.body)] == logged
    profile = strict_json(get(base, "profile", {"run": RUN, "tag": tag}).body)
    assert profile["steps"] == logged
    for row, step in enumerate(logged):
        expected = stats.profile(np.load(io.BytesIO(_reference(refdir, tag, step))))
        np.testing.assert_allclose(profile["values"][row], expected[0], rtol=1e-6)
        assert profile["nan_counts"][row] == expected[1].astype(int).tolist()
    for step in (logged[0], logged[len(logged) // 2], logged[-1]):
        answer = get(base, "tensor", {"run": RUN, "tag": tag, "step": step})
        assert answer.body == _reference(refdir, tag, step)
