"""The counter's terminal: prompts with an idle deadline, hidden entry, and how a session ends.

Every answer is read from the terminal through :meth:`Terminal.ask`, which waits at most the
idle time; past it, or when input ends (Ctrl-D, a closed pipe) or the terminal hangs up
(``SIGHUP``, also ``SIGTERM``), a :class:`SessionEnd` carries the reason out of whatever the
counter was doing; Ctrl-C is a :class:`KeyboardInterrupt` that abandons the sale being prepared.
A hang-up that arrives while a sale is being made waits for the sale to be written
(:meth:`Terminal.busy`), and Ctrl-C does nothing then: a half-made sale is never left behind.

Hidden entry (PIN, key-encryption key) turns the terminal's echo off while it is typed; what is
typed lives in this process's memory only.

>>> SessionEnd("idle").reason
'idle'
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["SessionEnd", "Terminal"]

_MAX_LINE = 4096


class SessionEnd(Exception):
    """The session ends: ``reason`` is ``idle``, ``eof`` or ``hangup`` (``quit`` and
    ``shift end`` are the clerk's own commands)."""

    def __init__(self, reason: str, *, mid_sale: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mid_sale = mid_sale


class Terminal:
    """Standard input and output of a counter session, with an idle time in seconds (the
    keys come from ``fd``, standard input by default)."""

    def __init__(self, idle_seconds: float, fd: int | None = None) -> None:
        self.idle_seconds = idle_seconds
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._busy = False
        self._hangup = False
        self._previous: dict[int, Any] = {}
        self._wake: tuple[int, int] | None = None
        self._previous_wake = -1

    # -- signals -----------------------------------------------------------------------------

    def install(self) -> None:
        """Take over SIGHUP and SIGTERM (the session ends cleanly, after a sale in progress)
        and Ctrl-C (it abandons the sale being prepared, never one being written)."""
        for sig in (signal.SIGHUP, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._on_hangup)
        self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_interrupt)
        # A signal that lands between the last Python step and the wait itself would not
        # interrupt the wait: the wake-up pipe is waited on too, so the wait always ends.
        self._wake = os.pipe()
        for end in self._wake:
            os.set_blocking(end, False)
        self._previous_wake = signal.set_wakeup_fd(self._wake[1], warn_on_full_buffer=False)

    def uninstall(self) -> None:
        if self._wake is not None:
            signal.set_wakeup_fd(self._previous_wake)
            for end in self._wake:
                os.close(end)
            self._wake = None
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def closing(self) -> None:
        """The session is ending: a hang-up from now on only stops the output."""
        self._busy = True

    def _on_hangup(self, signum: int, frame: FrameType | None) -> None:
        self._hangup = True
        if not self._busy:
            raise SessionEnd("hangup")

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if not self._busy:
            raise KeyboardInterrupt

    @contextmanager
    def busy(self) -> Iterator[None]:
        """A sale is being written: a hang-up now ends the session once it is done."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False
        if self._hangup:
            raise SessionEnd("hangup")

    @property
    def hung_up(self) -> bool:
        return self._hangup

    # -- output ------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        if self._hangup:
            return  # the terminal is gone: nothing can be shown
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except OSError:
            self._hangup = True

    # -- input -------------------------------------------------------------------------------

    def ask(self, prompt: str, *, hidden: bool = False, mid_sale: bool = False) -> str:
        """One line typed at the terminal (without its line end), within the idle time.

        ``mid_sale`` marks an answer that belongs to a sale being prepared: if input ends
        there, the session ends with nothing sold, and says so.
        """
        # Echo goes off before the prompt shows: nothing typed after it is ever echoed.
        with self._echo_off(hidden):
            try:
                sys.stdout.write(prompt)
                sys.stdout.flush()
            except OSError:
                raise SessionEnd("hangup", mid_sale=mid_sale) from None
            line = self._read_line(mid_sale)
        if hidden:
            self.say()
        return line

    @contextmanager
    def _echo_off(self, hidden: bool) -> Iterator[None]:
        if not hidden or not os.isatty(self.fd):
            yield
            return
        import termios

        saved = termios.tcgetattr(self.fd)
        quiet = list(saved)
        quiet[3] = quiet[3] & ~termios.ECHO
        termios.tcsetattr(self.fd, termios.TCSANOW, quiet)
        try:
            yield
        finally:
            with contextlib.suppress(termios.error):  # the terminal may have gone away
                termios.tcsetattr(self.fd, termios.TCSANOW, saved)

    def _read_line(self, mid_sale: bool) -> str:
        deadline = time.monotonic() + self.idle_seconds
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionEnd("idle", mid_sale=mid_sale)
            waited = [self.fd] if self._wake is None else [self.fd, self._wake[0]]
            try:
                ready, _, _ = select.select(waited, [], [], left)
            except InterruptedError:  # pragma: no cover - PEP 475 retries select itself
                continue
            if self._wake is not None and self._wake[0] in ready:
                # The signal's handler has run by now (or runs at the next step); one it
                # ignores (Ctrl-C while a sale is written) leaves the wait going on.
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake[0], 64)
            if self.fd not in ready:
                continue
            try:
                chunk = os.read(self.fd, _MAX_LINE)
            except OSError:  # the terminal closed under us
                raise SessionEnd("hangup", mid_sale=mid_sale) from None
            if not chunk:
                raise SessionEnd("eof", mid_sale=mid_sale)
            data += chunk
            if b"\n" in data or len(data) > _MAX_LINE:
                line = data.split(b"\n", 1)[0]
                return line.decode("utf-8", errors="replace").rstrip("\r")
