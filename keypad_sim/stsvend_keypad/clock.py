"""The simulator's clock: the only place the app reads real time.

The meter model never reads a clock; the app hands it ``now`` from a :class:`SimClock`.  A
*manual* clock moves only when told to (script and serial rigs get repeatable runs); a *wall*
clock also follows real elapsed time (the interactive meter's lockout counts down on its own).
Both start from where the meter's saved state stopped, so time does not pass while the app is
closed, and both move forward only.

>>> from datetime import datetime, timezone
>>> clock = SimClock(datetime(2026, 1, 1, tzinfo=timezone.utc), mode="manual")
>>> clock.advance(90)
>>> clock.now().isoformat()
'2026-01-01T00:01:30+00:00'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from stsvend.errors import InputError

__all__ = ["ClockMode", "SimClock"]

ClockMode = Literal["manual", "wall"]

_LAST = datetime(9999, 12, 1)


class SimClock:
    """Simulated time from ``start``: manual steps, plus real elapsed time in wall mode."""

    def __init__(
        self,
        start: datetime,
        mode: ClockMode = "manual",
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._start = start
        self._mode: ClockMode = mode
        self._monotonic_ns = monotonic_ns
        self._origin = monotonic_ns()
        self._offset = timedelta(0)

    @property
    def mode(self) -> ClockMode:
        return self._mode

    def now(self) -> datetime:
        elapsed = timedelta(0)
        if self._mode == "wall":
            # Whole microseconds (integers throughout): the meter counts energy in W·µs.
            elapsed = timedelta(microseconds=(self._monotonic_ns() - self._origin) // 1000)
        return self._start + self._offset + elapsed

    def advance(self, seconds: int) -> None:
        """Jump forward (the "time" key, the ADVANCE command)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        step = timedelta(seconds=seconds)
        # Stop a month short of datetime's end, so that a wall clock's real time still fits.
        if step > _LAST.replace(tzinfo=self._start.tzinfo) - (self._start + self._offset):
            raise InputError("the meter's clock cannot pass the end of year 9999")
        self._offset += step
