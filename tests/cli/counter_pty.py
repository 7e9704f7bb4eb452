"""``stsvend counter`` driven as a clerk drives it: keys typed into a terminal, screen read back.

:class:`CounterPty` runs the real program on a pseudo-terminal of its own (80×40), types lines
into it and waits, with a deadline, for what the screen shows (escape sequences stripped).  The
tests and ``benchmarks/bench_counter.py`` both use it.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

__all__ = ["ANSI", "DEADLINE", "CounterPty"]

DEADLINE = 60.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>78]|\x1b\][^\x07]*\x07")


def _controlling_terminal() -> None:
    # In the child, after setsid(): the pty becomes its controlling terminal, so Ctrl-C is a
    # SIGINT and closing the terminal a SIGHUP, as in a terminal window.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class CounterPty:
    """One ``stsvend counter`` (or other ``command``) process on a pty; ``seen`` is everything
    it printed so far."""

    def __init__(self, env: dict[str, str], *args: str, command: str = "counter") -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stsvend_cli", command, *args],
            stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm-256color"},
            close_fds=True, start_new_session=True, preexec_fn=_controlling_terminal,
        )  # fmt: skip
        os.close(slave)
        self._raw: list[str] = []
        self.mark = 0

    @property
    def seen(self) -> str:
        return ANSI.sub("", "".join(self._raw)).replace("\r", "")

    def _pump(self, timeout: float) -> bool:
        if self.master < 0:
            return False
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the program closed the terminal
            return False
        if not data:
            return False
        self._raw.append(data.decode("utf-8", errors="replace"))
        return True

    def wait_for(self, *texts: str, deadline: float = DEADLINE) -> str:
        """Wait until every text shows after the mark; the output since the mark."""
        end = time.monotonic() + deadline
        alive = True
        while True:
            fresh = self.seen[self.mark :]
            if all(t in fresh for t in texts):
                return fresh
            if not alive or time.monotonic() > end:
                raise AssertionError(f"the counter never showed {texts!r}:\n{fresh[-3000:]}")
            alive = self._pump(max(0.0, min(0.2, end - time.monotonic())))

    def line(self, text: str) -> None:
        """Type ``text`` and press Enter; what follows is looked for after this point."""
        self.mark = len(self.seen)
        os.write(self.master, text.encode() + b"\r")

    def eof(self) -> None:
        """Ctrl-D at the start of a line."""
        self.mark = len(self.seen)
        os.write(self.master, b"\x04")

    def interrupt(self) -> None:
        """Ctrl-C."""
        self.mark = len(self.seen)
        os.write(self.master, b"\x03")

    def hang_up(self) -> None:
        """The terminal window closes: the kernel sends the program SIGHUP."""
        os.close(self.master)
        self.master = -1

    def wait(self, timeout: float = DEADLINE) -> int:
        """The exit code, reading the output to the end."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._pump(0.1)
        while self.master >= 0 and select.select([self.master], [], [], 0.05)[0]:
            if not self._pump(0):
                break  # what it printed last is read
        return self.proc.wait(timeout=max(0.1, end - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
