"""Starts TensorBoard on 127.0.0.1 over the demo logs and prints the URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from demo import quiet


def free_port(preferred: int = 6006) -> int:
    """`preferred` if it is free on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free TCP port on 127.0.0.1")


def serve(logdir: str, port: int | None = None) -> int:
    """Runs `tensorboard` in the foreground until interrupted; returns its code."""
    port = port or free_port()
    executable = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    command = [
        executable,
        "--logdir",
        logdir,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    print(f"Starting TensorBoard on 127.0.0.1:{port} ...", flush=True)
    # TensorBoard imports TensorFlow: its start-up lines are filtered out.
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    quiet.forward(process.stderr)
    try:
        if answers(port, process):
            url = f"http://127.0.0.1:{port}/#rnngrad"
            print(f"\nRNN Gradients tab: {url}  (Ctrl-C stops it)\n", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()


def answers(port: int, process: subprocess.Popen, timeout: float = 120.0) -> bool:
    """Waits until TensorBoard answers on `port`; False if it exits first."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/data/plugins_listing"
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except OSError:
            time.sleep(0.5)
    return process.poll() is None
