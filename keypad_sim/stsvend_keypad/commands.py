"""The simulator's command language: one line in, one command (script mode and serial mode).

========================  =====================================================================
line                      meaning
========================  =====================================================================
``<20 digits>``           enter a token (spaces and dashes between digit groups are fine)
``TOKEN <digits>``        the same, explicitly
``LOAD <watts>``          the load from now on, in whole watts
``ADVANCE <duration>``    let time pass: seconds, or with a unit: ``90s``, ``15m``, ``2h``, ``1d``
``EMERGENCY``             switch meter-side emergency credit on
``TAMPER``                report a tamper event (latched until a clear tamper token)
``READ``                  the full meter view (registers, key data, TID memory, …)
``PING``                  liveness check
``HELP``                  the list of commands
``BYE``                   end the session (serial mode stops; script mode stops reading)
``# …`` / blank           ignored (comment)
========================  =====================================================================

Verbs are case-insensitive; ``WAIT`` = ``ADVANCE``, ``STATUS`` = ``READ``, ``QUIT`` = ``BYE``.

>>> parse_line("1234 5678 9012 3456 7890")
Command(verb='token', argument='12345678901234567890')
>>> parse_line("advance 15m")
Command(verb='advance', argument='900')
>>> parse_line("  # a comment") is None
True
"""

from __future__ import annotations

import re

from attrs import frozen

from stsvend.errors import InputError

__all__ = ["HELP", "MAX_ADVANCE", "MAX_LINE", "VERBS", "Command", "parse_line"]

#: The longest line the simulator reads (anything longer is refused).
MAX_LINE = 256
#: The longest single time step (ten years): beyond it, base dates run out anyway.
MAX_ADVANCE = 3650 * 86400

VERBS = ("token", "load", "advance", "emergency", "tamper", "read", "ping", "help", "bye")
_ALIASES = {"wait": "advance", "status": "read", "quit": "bye", "exit": "bye"}
_NEEDS_ARGUMENT = {"token", "load", "advance"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TOKENISH = re.compile(r"[0-9][0-9 \-]*")
_DURATION = re.compile(r"([0-9]+)([smhd]?)")  # [0-9]: ASCII digits only, unlike \d

HELP = [
    "<20 digits> | TOKEN <digits>  enter a token",
    "LOAD <watts>                  set the load",
    "ADVANCE <n>[s|m|h|d]          let time pass",
    "EMERGENCY                     switch emergency credit on",
    "TAMPER                        report a tamper event",
    "READ                          full meter view",
    "PING | HELP | BYE",
]


@frozen
class Command:
    verb: str
    argument: str | None = None


def _digits(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def parse_line(line: str) -> Command | None:
    """Parse one line; None for blank lines and comments; :class:`InputError` if malformed."""
    if len(line) > MAX_LINE:
        raise InputError(f"line longer than {MAX_LINE} characters")
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if _TOKENISH.fullmatch(text):
        return Command("token", _digits(text))
    word, _, rest = text.partition(" ")
    verb = _ALIASES.get(word.lower(), word.lower())
    rest = rest.strip()
    if verb not in VERBS:
        raise InputError(f"unknown command {word!r} (HELP lists the commands)")
    if verb in _NEEDS_ARGUMENT and not rest:
        raise InputError(f"{verb.upper()} needs an argument")
    if verb not in _NEEDS_ARGUMENT and rest:
        raise InputError(f"{verb.upper()} takes no argument")
    if verb == "token":
        return Command(verb, _digits(rest))
    if verb == "load":
        if not rest.isascii() or not rest.isdigit():
            raise InputError(f"LOAD takes whole watts, got {rest!r}")
        return Command(verb, str(int(rest)))
    if verb == "advance":
        match = _DURATION.fullmatch(rest.lower())
        if match is None:
            raise InputError(f"ADVANCE takes a duration like 90, 90s, 15m, 2h or 1d, got {rest!r}")
        seconds = int(match[1]) * _UNITS[match[2] or "s"]
        if seconds > MAX_ADVANCE:
            raise InputError(f"ADVANCE is at most {MAX_ADVANCE // 86400} days at a time")
        return Command(verb, str(seconds))
    return Command(verb)
