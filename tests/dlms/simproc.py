"""The DLMS meter simulator as a process of its own, on a free port, as a user starts it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

START = "2026-11-01T00:00:00+00:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def simulator(drn: str, *args: str) -> Iterator[str]:
    """``python -m stsvend.adapters.dlms_sim --port P --drn DRN ARGS``; yields host:port."""
    with simulator_process(drn, *args) as (_proc, address):
        yield address


@contextmanager
def simulator_process(drn: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The same, yielding the process too (a test signals it)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stsvend.adapters.dlms_sim", "--port", str(port), "--drn", drn,
         *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on"), (line, proc.stderr and proc.stderr.read())
        yield proc, f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck simulator
            proc.kill()
            proc.communicate()


def wait_closed(address: str) -> None:
    """Wait until nothing listens on ``address`` (a stopped simulator's port)."""
    host, port = address.rsplit(":", 1)
    for _ in range(50):
        try:
            socket.create_connection((host, int(port)), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.1)
