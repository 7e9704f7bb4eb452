"""Script mode: command lines in, one JSON line out per step (for automated test rigs).

>>> import io, tempfile, pathlib
>>> from stsvend_keypad.profiles import SAMPLE_PROFILE
>>> from stsvend_keypad.session import Session
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "m.toml").write_text(SAMPLE_PROFILE)
>>> out = io.StringIO()
>>> run_script(Session.open(folder / "m.toml"), ["# a rig", "PING", "bye", "PING"], out)
2
>>> out.getvalue().count("\\n")
2
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from stsvend_keypad.session import Session

__all__ = ["run_script"]


def run_script(session: Session, lines: Iterable[str], out: TextIO) -> int:
    """Run lines until they end or BYE; write one JSON line per step; return the step count."""
    steps = 0
    for line in lines:
        answer = session.execute(line.rstrip("\r\n"))
        if answer is None:
            continue
        out.write(json.dumps(answer, ensure_ascii=False, separators=(",", ":")) + "\n")
        out.flush()
        steps += 1
        if answer.get("command") == "bye":
            break
    return steps
