"""One simulator session: a profile, its meter, a clock and the state file.

:meth:`Session.execute` runs one command line and returns its JSON answer (a dict); script mode
prints it, serial mode sends it, the interactive panel calls the same methods directly.  Every
command first lets the clock's time pass on the meter, then acts, then saves the state.

An answer is ``{"step", "input", "ok", "command", …}``; ``ok`` is false only when the line could
not be carried out (unknown command, emergency credit refused …), with ``error`` = ``{"code",
"message"}``.  A token the meter refuses is still ``ok``: its ``result`` says what the meter
showed.

>>> import tempfile, pathlib
>>> from stsvend_keypad.profiles import SAMPLE_PROFILE
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "m.toml").write_text(SAMPLE_PROFILE)
>>> session = Session.open(folder / "m.toml")
>>> answer = session.execute("advance 1h")
>>> answer["ok"], answer["meter"]["credit"]
(True, '20.0 kWh')
>>> session.execute("1234")["result"]["label"]
'Format error'
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stsvend.errors import StsError
from stsvend.meter import Meter, Result
from stsvend_keypad.clock import ClockMode, SimClock
from stsvend_keypad.commands import HELP, Command, parse_line
from stsvend_keypad.profiles import ProfileFile, load_profile, state_path_for
from stsvend_keypad.store import StateStore

__all__ = ["Session", "summary"]


def summary(status: dict[str, Any]) -> dict[str, Any]:
    """The short meter view sent with every answer (READ sends the full one)."""
    return {
        "time": status["time"],
        "credit": status["credit"]["display"],
        "credit_value": status["credit"]["value"],
        "register": status["credit"]["register"],
        "relay": status["relay"],
        "relay_reason": status["relay_reason"],
        "load_watts": status["load_watts"],
        "emergency_active": status["emergency"]["active"],
        "lockout_seconds": status["lockout"]["seconds_left"],
        "pending_key_change": status["pending_key_change"],
    }


class Session:
    """A running simulator over one meter."""

    def __init__(
        self, loaded: ProfileFile, meter: Meter, clock: SimClock, store: StateStore | None
    ) -> None:
        self.loaded = loaded
        self.meter = meter
        self.clock = clock
        self.store = store
        self.steps = 0
        self.last_result: Result | None = meter.state.last_result
        self.last_message = "ready"

    @classmethod
    def open(
        cls,
        profile_path: Path,
        *,
        clock_mode: ClockMode = "manual",
        state_path: Path | None = None,
        reset: bool = False,
        start: datetime | None = None,
    ) -> Session:
        """Load the profile and the saved meter (or make a new one)."""
        loaded = load_profile(profile_path)
        store = StateStore(state_path or state_path_for(profile_path))
        saved = None if reset else store.load()
        if saved is not None:
            meter = Meter.restore(loaded.profile, saved.get("meter"))
        else:
            # The shell may read the real clock: a new meter is built "now" unless told when.
            at = start or loaded.manufactured or datetime.now(UTC).replace(microsecond=0)
            meter = Meter.manufacture(loaded.profile, at, loaded.start_credit)
        session = cls(loaded, meter, SimClock(meter.state.clock, clock_mode), store)
        session.save()
        return session

    # --- actions (the interactive panel calls these directly) --------------------------------

    def save(self) -> None:
        if self.store is not None:
            self.store.save(self.meter.snapshot())

    def tick(self) -> None:
        """Let the clock's time pass on the meter (no save: the caller decides when)."""
        self.meter.advance(self.clock.now())

    def status(self) -> dict[str, Any]:
        self.tick()
        return self.meter.status(self.clock.now())

    def enter(self, digits: str) -> Result:
        result = self.meter.enter(digits, self.clock.now())
        self.last_result = result
        shown = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
        self.last_message = f"entered {shown}: {result.display}"
        self.save()
        return result

    def set_load(self, watts: int) -> None:
        self.meter.set_load(watts, self.clock.now())
        self.last_message = f"load {watts} W"
        self.save()

    def advance(self, seconds: int) -> dict[str, Any]:
        self.tick()
        self.clock.advance(seconds)
        report = self.meter.advance(self.clock.now())
        self.last_message = f"{seconds} s passed"
        self.save()
        return {
            "seconds": report.seconds,
            "energy_wh": report.energy_wus // 3_600_000_000,
            "debited": report.debited,
            "relay_opened_at": None
            if report.relay_opened_at is None
            else report.relay_opened_at.isoformat(),
        }

    def emergency(self) -> None:
        self.meter.activate_emergency_credit(self.clock.now())
        self.last_message = "emergency credit on"
        self.save()

    def tamper(self) -> None:
        self.meter.report_tamper(self.clock.now())
        self.last_message = "tamper reported"
        self.save()

    # --- the line protocol ------------------------------------------------------------------

    def execute(self, line: str) -> dict[str, Any] | None:
        """Run one line; its JSON answer, or None for a blank line or comment."""
        try:
            command = parse_line(line)
        except StsError as err:
            return self._answer(line, None, self._error(err))
        if command is None:
            return None
        try:
            answer = self._run(command)
        except StsError as err:
            answer = self._error(err)
        return self._answer(line, command, answer)

    def _error(self, err: StsError) -> dict[str, Any]:
        self.last_message = f"{err.code}: {err.message}"
        return {"ok": False, "error": {"code": err.code, "message": err.message}}

    def _answer(self, line: str, command: Command | None, answer: dict[str, Any]) -> dict[str, Any]:
        self.steps += 1
        head = {
            "step": self.steps,
            "input": line.strip()[:80],
            "ok": answer.pop("ok", True),
            "command": None if command is None else command.verb,
        }
        return {**head, **answer}

    def _run(self, command: Command) -> dict[str, Any]:
        verb, arg = command.verb, command.argument
        if verb == "token":
            assert arg is not None
            result = self.enter(arg)
            return {"result": result.as_dict(), "meter": summary(self.status())}
        if verb == "load":
            assert arg is not None
            self.set_load(int(arg))
            return {"meter": summary(self.status())}
        if verb == "advance":
            assert arg is not None
            supply = self.advance(int(arg))
            return {"supply": supply, "meter": summary(self.status())}
        if verb == "emergency":
            self.emergency()
            return {"meter": summary(self.status())}
        if verb == "tamper":
            self.tamper()
            return {"meter": summary(self.status())}
        if verb == "read":
            status = self.status()
            self.save()
            return {"meter": status}
        if verb == "ping":
            return {"pong": True, "time": self.clock.now().isoformat()}
        if verb == "help":
            return {"commands": HELP}
        return {"bye": True}
