"""Serial mode end to end over real pyserial transports: a loopback TCP socket and a pty pair.

The simulator runs as a subprocess (``python -m stsvend_keypad serial``); the test plays the
vending station / test rig on the other end of the link.  Everything binds to 127.0.0.1 and every
wait is bounded.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import tty
from pathlib import Path
from typing import Any

import pytest

from stsvend_keypad.serial_link import serve
from stsvend_keypad.session import Session
from tests.keypad.keypad_support import app_env, credit_token, write_profile

DEADLINE = 30.0


class LineLink:
    """Read and write lines on a raw file descriptor (the rig's end of the link)."""

    def __init__(self, fd_read: int, fd_write: int) -> None:
        self.fd_read, self.fd_write = fd_read, fd_write
        self.buffer = b""

    def send(self, line: str) -> None:
        os.write(self.fd_write, line.encode("ascii") + b"\r\n")

    def receive(self, timeout: float = DEADLINE) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line from the simulator; got {self.buffer!r}")
            ready, _, _ = select.select([self.fd_read], [], [], left)
            if ready:
                chunk = os.read(self.fd_read, 4096)
                if not chunk:
                    raise EOFError(f"link closed; got {self.buffer!r}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        assert line.endswith(b"\r"), "answers end in CR LF"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, line: str) -> dict[str, Any]:
        self.send(line)
        return self.receive()


def start_simulator(profile: Path, port: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stsvend_keypad", "serial", str(profile), "--port", port,
         "--idle-timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=app_env(),
    )  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> str:
    try:
        _, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    return err


def rig_session(link: LineLink) -> None:
    """What a vending station does: push tokens, read registers, say goodbye."""
    hello = link.receive()
    assert hello["hello"] == "stsvend-keypad" and hello["protocol"] == 1
    assert hello["drn"] == "00000000000"
    assert link.ask("PING")["pong"] is True
    assert link.ask("ADVANCE 1h")["supply"]["seconds"] == 3600
    token = credit_token(123, 30)
    first = link.ask(f"TOKEN {token}")
    assert first["result"]["name"] == "accept"
    assert first["meter"]["credit"] == "32.3 kWh"
    assert link.ask(token)["result"]["code"] == 10
    read = link.ask("READ")
    assert read["meter"]["registers"]["electricity"]["value"] == 323
    assert read["meter"]["tid_memory"]["count"] == 2
    assert link.ask("frobnicate")["error"]["code"] == "input"
    assert link.ask("BYE")["bye"] is True


def test_serial_mode_over_a_loopback_socket(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(DEADLINE)
        port = server.getsockname()[1]
        proc = start_simulator(profile, f"socket://127.0.0.1:{port}")
        try:
            conn, _ = server.accept()  # pyserial's socket:// connects to the rig
        except TimeoutError:
            proc.kill()
            pytest.fail(f"the simulator did not connect: {proc.communicate()[1]}")
        with conn:
            rig_session(LineLink(conn.fileno(), conn.fileno()))
        assert "ended: bye" in finish(proc)


def test_serial_mode_over_a_pty(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    master, slave = os.openpty()
    tty.setraw(master)
    try:
        proc = start_simulator(profile, os.ttyname(slave))
        rig_session(LineLink(master, master))
        assert "ended: bye" in finish(proc)
    finally:
        os.close(master)
        os.close(slave)


def test_serial_session_ends_when_the_rig_hangs_up(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(DEADLINE)
        proc = start_simulator(profile, f"socket://127.0.0.1:{server.getsockname()[1]}")
        conn, _ = server.accept()
        link = LineLink(conn.fileno(), conn.fileno())
        link.receive()
        assert link.ask("LOAD 100")["meter"]["load_watts"] == 100
        conn.close()
        assert "ended: disconnected" in finish(proc)


def test_serial_port_that_cannot_open_is_an_error_message(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as server:
        unused = server.getsockname()[1]
    proc = start_simulator(profile, f"socket://127.0.0.1:{unused}")
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 1
    assert "cannot open the serial port" in err and "Traceback" not in err


class ScriptedPort:
    """An in-memory port: feeds chunks, records what was written."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.written = b""

    def read(self, size: int = 1) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def write(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_serve_handles_split_overlong_and_blank_lines(tmp_path: Path) -> None:
    session = Session.open(write_profile(tmp_path))
    port = ScriptedPort([b"PI", b"NG\r\n\r\n# note\n", b"x" * 300, b"y" * 10 + b"\nREAD\n"])
    clock = iter(range(100))
    assert serve(session, port, idle_timeout=3, monotonic=lambda: next(clock)) == "idle"
    answers = [json.loads(line) for line in port.written.splitlines()]
    assert answers[1]["command"] == "ping"
    assert answers[2]["error"]["message"] == "line longer than 256 bytes"
    assert answers[3]["command"] == "read"
    assert len(answers) == 4
