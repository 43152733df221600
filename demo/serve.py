"""Starts TensorBoard on 127.0.0.1 over the demo logs and prints the URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


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
    print(f"\nRNN Gradients tab: http://127.0.0.1:{port}/#rnngrad\n", flush=True)
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
