"""The interactive meter driven as a user drives it: keys typed into a terminal, screen read back.

Two drivers: tmux (a real terminal emulator: ``send-keys`` and ``capture-pane``), and a bare pty
whose output is stripped of escape sequences.  Each waits for what the screen shows, with a
deadline; nothing here measures time.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.keypad.keypad_support import app_env, credit_token, key_change_tokens, write_profile

DEADLINE = 30.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>78]|\x1b\][^\x07]*\x07")


class Tmux:
    """One private tmux server (own socket name) running the app in a 110×32 window."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.socket = f"stsvend-test-{uuid.uuid4().hex[:10]}"
        env_prefix = "env -u COLUMNS -u LINES "
        self._tmux("new-session", "-d", "-s", "meter", "-x", "110", "-y", "32", "-c", str(cwd),
                   env_prefix + shlex.join(command))  # fmt: skip
        self._tmux("set-option", "-t", "meter", "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True, timeout=DEADLINE)  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "meter", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "meter", "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "meter")

    def wait_for(self, *texts: str) -> str:
        end = time.monotonic() + DEADLINE
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"screen never showed {texts!r}:\n{screen}")

    def dead(self) -> bool:
        return self._tmux("display-message", "-p", "-t", "meter", "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=DEADLINE)  # fmt: skip


@pytest.fixture
def tmux_meter(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (the pty test still drives the panel)")
    profile = write_profile(tmp_path)
    command = [sys.executable, "-m", "stsvend_keypad", "run", str(profile), "--clock", "manual"]
    session = Tmux(command, tmp_path)
    try:
        yield session, profile
    finally:
        session.close()


def entry_line(screen: str) -> str:
    match = re.search(r"TOKEN > ([0-9_ ]+)", screen)
    assert match, screen
    return match[1].strip()


def test_typing_a_token_on_the_keypad(tmux_meter: tuple[Tmux, Path]) -> None:
    tmux, _ = tmux_meter
    tmux.wait_for("CREDIT", "20.0 kWh", "TOKEN >")
    token = credit_token(250, 30)
    tmux.type(token[:8])
    assert entry_line(tmux.wait_for(f"{token[:4]} {token[4:8]}")).startswith(
        f"{token[:4]} {token[4:8]} ____"
    )
    # A slip of the finger, corrected with Backspace.
    wrong = str((int(token[8]) + 1) % 10)
    tmux.type(wrong)
    tmux.wait_for(f"{token[4:8]} {wrong}___")
    tmux.keys("BSpace")
    tmux.wait_for(f"{token[4:8]} ____")
    tmux.type(token[8:])
    tmux.wait_for(" ".join(token[i : i + 4] for i in range(0, 20, 4)))
    tmux.keys("Enter")
    screen = tmux.wait_for("Accept (1)", "45.0 kWh")
    assert entry_line(screen) == "____ ____ ____ ____ ____"
    assert "● CLOSED" in screen
    # The same token again: the meter says used.
    tmux.type(token)
    tmux.keys("Enter")
    tmux.wait_for("Used (10)", "has been used")


def test_load_time_and_key_change_keys(tmux_meter: tuple[Tmux, Path]) -> None:
    tmux, profile = tmux_meter
    tmux.wait_for("20.0 kWh")
    tmux.type("l")
    tmux.wait_for("LOAD W > _")
    tmux.type("2000")
    tmux.keys("Enter")
    tmux.wait_for("2000 W   limit none")
    tmux.type("h")  # one hour at 2 kW
    tmux.wait_for("18.0 kWh", "2024-06-01 09:00:00")
    tmux.type("t")
    tmux.type("1800")
    tmux.wait_for("ADVANCE s > 1800_")
    tmux.keys("Enter")
    tmux.wait_for("17.0 kWh", "09:30:00")
    first, second = key_change_tokens()
    tmux.type(first)
    tmux.keys("Enter")
    tmux.wait_for("1st KCT entered (2)", "1st entered — waiting for 2nd (10:00 left)")
    tmux.type(second)
    tmux.keys("Enter")
    screen = tmux.wait_for("Accept (1)", "KRN 2")
    assert "waiting for" not in screen
    tmux.type("x")
    tmux.wait_for("○ OPEN", "TAMPER")
    tmux.type("q")
    end = time.monotonic() + DEADLINE
    while not tmux.dead() and time.monotonic() < end:
        time.sleep(0.1)
    assert tmux.dead(), "q did not quit"
    saved = json.loads(profile.with_name("meter.state.json").read_text())
    assert saved["meter"]["key_data"]["krn"] == 2
    assert saved["meter"]["tamper"] is True


def test_emergency_key_on_a_meter_that_refuses(tmux_meter: tuple[Tmux, Path]) -> None:
    tmux, _ = tmux_meter
    tmux.wait_for("20.0 kWh")
    tmux.type("e")
    tmux.wait_for("above the emergency threshold (20.0 kWh > 2.0 kWh)")


def _read_until(fd: int, want: Callable[[str], bool], sink: list[str]) -> str:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        text = ANSI.sub("", "".join(sink))
        if want(text):
            return text
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                sink.append(os.read(fd, 65536).decode("utf-8", errors="replace"))
            except OSError:  # the app closed the terminal
                break
    text = ANSI.sub("", "".join(sink))
    raise AssertionError(f"the terminal never showed what was expected:\n{text[-3000:]}")


def test_keypad_over_a_bare_pty(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    profile = write_profile(tmp_path)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 110, 0, 0))
    env = app_env() | {"TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stsvend_keypad", "run", str(profile), "--clock", "manual"],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    sink: list[str] = []
    try:
        _read_until(master, lambda t: "TOKEN >" in t and "20.0 kWh" in t, sink)
        token = credit_token(100, 10)
        for digit in token:
            os.write(master, digit.encode())
        grouped = " ".join(token[i : i + 4] for i in range(0, 20, 4))
        _read_until(master, lambda t: grouped in t, sink)
        os.write(master, b"\r")
        _read_until(master, lambda t: "Accept (1)" in t and "30.0 kWh" in t, sink)
        os.write(master, b"q")
        assert proc.wait(timeout=DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
