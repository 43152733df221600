"""Runs a real `tensorboard` process for tests and benchmarks.

    with tensorboard_server(logdir, load_fast=True) as url:
        urllib.request.urlopen(url + "/data/plugin/rnngrad/tags")

The process is the venv's own TensorBoard (`sys.executable -m tensorboard.main`:
the interpreter running the tests, whatever the shebang of a copied venv's
`tensorboard` script says) unless a `command` says otherwise, bound to 127.0.0.1 on a
free port, in its own process group so that stopping it also stops its data
server child (`--load_fast=true`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

TENSORBOARD = Path(sys.executable).parent / "tensorboard"
#: How `start_tensorboard` runs TensorBoard: with this very interpreter.
TENSORBOARD_COMMAND = (sys.executable, "-m", "tensorboard.main")
READY_ROUTE = "/data/plugins_listing"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 60.0
) -> tuple[int, Any, bytes]:
    """GET `url`; returns (status, headers, body) also for 4xx/5xx answers."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def fetch_json(url: str, timeout: float = 60.0) -> Any:
    """GET `url` and decode its JSON body; raises unless the status is 200."""
    status, _, body = fetch(url, timeout=timeout)
    if status != 200:
        raise AssertionError(f"GET {url} answered {status}: {body[:500]!r}")
    return json.loads(body)


def wait_for_json(
    url: str, predicate: Callable[[Any], Any], timeout: float = 60.0
) -> Any:
    """Polls `url` until `predicate(json)` is truthy; returns that JSON."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        status, _, body = fetch(url)
        if status == 200:
            value = json.loads(body)
            if predicate(value):
                return value
        time.sleep(0.2)
    raise AssertionError(f"{url} did not reach the expected state: {value!r}")


class TensorBoardServer:
    """A running `tensorboard` process; see `start_tensorboard`.

    Attributes:
      url: Base URL, including any path prefix, without a trailing slash.
      process: The `subprocess.Popen` of `tensorboard`.
    """

    def __init__(self, url: str, process: subprocess.Popen, log: Any) -> None:
        self.url = url
        self.process = process
        self._log = log
        self._final_output: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What the process wrote to stdout and stderr (so far)."""
        if self._final_output is not None:
            return self._final_output
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """Stops the process and its children (its process group)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        else:
            # TensorBoard exited; its data server may still be running.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self._final_output is None:
            self._final_output = self.output()
            self._log.close()


def tensorboard_args(
    logdir: str | None,
    port: int,
    *,
    load_fast: bool,
    path_prefix: str = "",
    samples_per_plugin: Mapping[str, int] | None = None,
    extra_args: Sequence[str] = (),
    command: Sequence[str] = TENSORBOARD_COMMAND,
) -> list[str]:
    """Command line of `tensorboard` for `start_tensorboard` (no `--logdir`
    when `logdir` is None, as with `--grpc_data_provider`)."""
    args = [
        *command,
        *(() if logdir is None else ("--logdir", str(logdir))),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        f"--load_fast={'true' if load_fast else 'false'}",
    ]
    if path_prefix:
        args.append(f"--path_prefix={path_prefix}")
    if samples_per_plugin:
        spec = ",".join(f"{k}={v}" for k, v in samples_per_plugin.items())
        args.append(f"--samples_per_plugin={spec}")
    return args + list(extra_args)


def start_tensorboard(
    logdir: str | None,
    *,
    load_fast: bool = True,
    path_prefix: str = "",
    samples_per_plugin: Mapping[str, int] | None = None,
    extra_args: Sequence[str] = (),
    command: Sequence[str] = TENSORBOARD_COMMAND,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    attempts: int = 3,
) -> TensorBoardServer:
    """Starts `tensorboard` and waits until it answers `/data/plugins_listing`.

    Args:
      logdir: The `--logdir`, or None (then pass `--grpc_data_provider`).
      load_fast: `--load_fast=true` (Rust data server) or `false` (Python).
      path_prefix: `--path_prefix`, e.g. "/foo"; part of the returned URL.
      samples_per_plugin: `--samples_per_plugin`, e.g. {"rnngrad": 0}.
      extra_args: Further command-line arguments.
      command: What runs TensorBoard, e.g. `[python, "-I", "-m",
        "tensorboard.main"]` for another environment's TensorBoard.
      env: Further environment variables for the process.
      timeout: Seconds to wait for each attempt to answer.
      attempts: Tries with a fresh port if the process exits early (e.g.
        another process took the port).

    Returns:
      The running server; call `stop()` when done.

    Raises:
      RuntimeError: TensorBoard did not answer in time or kept exiting.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    failures = []
    for _ in range(attempts):
        port = free_port()
        args = tensorboard_args(
            logdir,
            port,
            load_fast=load_fast,
            path_prefix=path_prefix,
            samples_per_plugin=samples_per_plugin,
            extra_args=extra_args,
            command=command,
        )
        log = tempfile.TemporaryFile()
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        server = TensorBoardServer(
            f"http://127.0.0.1:{port}{path_prefix}", process, log
        )
        if _wait_until_up(server, timeout):
            return server
        output = server.output()
        server.stop()
        failures.append(f"$ {' '.join(args)}\n{output[-3000:]}")
    raise RuntimeError("tensorboard did not start:\n" + "\n\n".join(failures))


def _wait_until_up(server: TensorBoardServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            status, _, _ = fetch(server.url + READY_ROUTE, timeout=5)
        except OSError:
            status = None
        if status == 200:
            return True
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def tensorboard_server(logdir: str, **options: Any) -> Iterator[str]:
    """Context manager of `start_tensorboard(logdir, **options)`; yields its URL."""
    server = start_tensorboard(logdir, **options)
    try:
        yield server.url
    finally:
        server.stop()


class DataServer:
    """A `tensorboard-data-server` process started on its own; see
    `start_data_server`.

    Attributes:
      address: `127.0.0.1:PORT`, for `tensorboard --grpc_data_provider`.
      process: The `subprocess.Popen` of the server.
    """

    def __init__(self, address: str, process: subprocess.Popen) -> None:
        self.address = address
        self.process = process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_data_server(
    logdir: str, samples_per_plugin: str, timeout: float = 60.0
) -> DataServer:
    """Starts the `tensorboard_data_server` package's binary on 127.0.0.1.

    Flags as TensorBoard gives its own child (`--port 0 --port-file`), minus
    `--die-after-stdin`: this server outlives no parent.

    Args:
      logdir: The `--logdir`.
      samples_per_plugin: The `--samples-per-plugin` value, e.g.
        `tb_rnngrad.server.loader.data_server_samples_per_plugin()`.
      timeout: Seconds to wait for the port file.

    Raises:
      RuntimeError: The server exited or wrote no port in time.
    """
    from tensorboard_data_server import server_binary

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        args = [
            server_binary(),
            f"--logdir={logdir}",
            "--host=127.0.0.1",
            "--port=0",
            f"--port-file={port_file}",
            f"--samples-per-plugin={samples_per_plugin}",
            "--reload=1",
        ]
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            text = port_file.read_text() if port_file.exists() else ""
            if text.endswith("\n"):
                return DataServer(f"127.0.0.1:{int(text)}", process)
            time.sleep(0.05)
    DataServer("", process).stop()
    raise RuntimeError(f"{' '.join(args)} wrote no port (exit {process.poll()})")


@contextlib.contextmanager
def split_tensorboard_server(
    logdir: str, samples_per_plugin: str, **options: Any
) -> Iterator[str]:
    """`tensorboard --grpc_data_provider` over a data server started on its
    own (`start_data_server`); yields TensorBoard's URL."""
    data_server = start_data_server(logdir, samples_per_plugin)
    try:
        extra = ["--grpc_data_provider", data_server.address]
        with tensorboard_server(None, extra_args=extra, **options) as url:
            yield url
    finally:
        data_server.stop()
