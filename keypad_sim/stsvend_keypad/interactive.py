"""The interactive terminal meter: a display panel and a keypad.

:class:`KeypadUI` turns key presses into session actions and knows what to draw; it does no
terminal I/O, so it is tested directly.  :func:`run_interactive` is the terminal shell around it:
cbreak mode, a rich ``Live`` display on the alternate screen, and a key-reading loop that also
redraws once a second so that clocks and countdowns move.

Keys: digits type a token; Backspace or ``*`` deletes; Enter or ``#`` submits; Esc clears;
``l`` sets the load (type watts, Enter); ``t`` lets time pass (type seconds, Enter); ``h`` lets
one hour pass; ``e`` switches emergency credit on; ``x`` reports a tamper event; ``q`` quits.

>>> import tempfile, pathlib
>>> from stsvend_keypad.profiles import SAMPLE_PROFILE
>>> from stsvend_keypad.session import Session
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "m.toml").write_text(SAMPLE_PROFILE)
>>> ui = KeypadUI(Session.open(folder / "m.toml"))
>>> for key in "l1500\\r":
...     _ = ui.handle_key(key)
>>> ui.session.meter.state.load_watts, ui.mode
(1500, 'token')
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from collections.abc import Iterator

from rich.console import Console, RenderableType
from rich.live import Live

from stsvend.errors import StsError
from stsvend.meter import MeterError
from stsvend_keypad.panel import EntryMode, render_panel
from stsvend_keypad.session import Session

__all__ = ["KeypadUI", "run_interactive", "split_keys"]

_LIMITS: dict[EntryMode, int] = {"token": 20, "load": 8, "advance": 9}
_SUBMIT = {"\r", "\n", "#"}
_DELETE = {"\x7f", "\x08", "*"}
_QUIT = {"q", "Q", "\x03", "\x04"}


def split_keys(data: str) -> Iterator[str]:
    """Single keys from what the terminal sent; escape sequences (arrows …) come out whole.

    >>> list(split_keys("12\\x1b[A3\\x1b"))
    ['1', '2', '\\x1b[A', '3', '\\x1b']
    """
    i = 0
    while i < len(data):
        if data[i] == "\x1b" and i + 1 < len(data) and data[i + 1] in "[O":
            j = i + 2
            while j < len(data) and not ("@" <= data[j] <= "~"):
                j += 1
            yield data[i : j + 1]
            i = j + 1
        else:
            yield data[i]
            i += 1


class KeypadUI:
    """The keypad's logic: what each key does, and the panel to draw."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.mode: EntryMode = "token"
        self.entry = ""

    def handle_key(self, key: str) -> bool:
        """Act on one key; False when the user quits."""
        if key in _QUIT:
            return False
        if key.isascii() and key.isdigit():
            if len(self.entry) < _LIMITS[self.mode]:
                self.entry += key
        elif key in _DELETE:
            self.entry = self.entry[:-1]
        elif key == "\x1b":
            self.entry, self.mode = "", "token"
        elif key in _SUBMIT:
            self._submit()
        elif key in ("l", "L"):
            self.entry, self.mode = "", "load"
        elif key in ("t", "T"):
            self.entry, self.mode = "", "advance"
        else:
            self._action(key)
        return True

    def _action(self, key: str) -> None:
        try:
            if key in ("h", "H"):
                self.session.advance(3600)
            elif key in ("e", "E"):
                self.session.emergency()
            elif key in ("x", "X"):
                self.session.tamper()
        except StsError as err:
            self.session.last_message = err.message

    def _submit(self) -> None:
        entry, mode = self.entry, self.mode
        self.entry, self.mode = "", "token"
        if not entry:
            return
        try:
            if mode == "token":
                self.session.enter(entry)
            elif mode == "load":
                self.session.set_load(int(entry))
            else:
                self.session.advance(int(entry))
        except MeterError as err:
            self.session.last_message = err.message

    def render(self) -> RenderableType:
        return render_panel(
            self.session.status(),
            entry=self.entry,
            mode=self.mode,
            message=self.session.last_message,
            title=f"{self.session.loaded.name} · DRN {self.session.loaded.profile.identity.drn}",
        )


def run_interactive(session: Session, console: Console | None = None) -> None:
    """Run the keypad on this terminal until the user quits."""
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        raise MeterError("the interactive meter needs a terminal; use 'script' for pipes")
    ui = KeypadUI(session)
    console = console or Console()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        with Live(ui.render(), console=console, screen=True, auto_refresh=False) as live:
            running = True
            while running:
                ready, _, _ = select.select([fd], [], [], 1.0)
                if ready:
                    data = os.read(fd, 64).decode("utf-8", errors="replace")
                    if not data:
                        break
                    for key in split_keys(data):
                        running = ui.handle_key(key)
                        if not running:
                            break
                live.update(ui.render(), refresh=True)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        session.tick()
        session.save()
