"""Which readings of a meter's cumulative register may be used, and why the others may not.

A reading is judged against the meter's last *good* reading before it (a flagged reading never
becomes the reference, so one spike does not condemn the good readings after it):

* ``backwards``: the register is below the last good reading's (a register only counts up;
  a replaced meter starts a new meter, not a new register);
* ``jump``: the register rose faster than ``limit_wh_per_hour`` allows over the time between
  the two readings (with at least one hour's allowance, so that two readings a second apart
  are not judged on a second's worth);
* no flag: good; it becomes the reference for the next one.

Readings arrive out of order: :func:`judge` takes them sorted by time, from the last good
reading before the earliest of them, so the same readings always get the same flags whatever
order they came in.

>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
>>> seq = [Reading(t0 + timedelta(hours=h), wh) for h, wh in
...        enumerate([1_000, 1_400, 999_999, 1_900, 1_800])]
>>> [f for _, f in judge(None, seq, limit_wh_per_hour=50_000)]
[None, None, 'jump', None, 'backwards']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from attrs import frozen

__all__ = ["BACKWARDS", "DEFAULT_LIMIT_WH_PER_HOUR", "FLAGS", "JUMP", "Reading", "judge"]

BACKWARDS = "backwards"
JUMP = "jump"
FLAGS = (BACKWARDS, JUMP)
#: 50 kW sustained: above what a domestic or small commercial supply can draw.
DEFAULT_LIMIT_WH_PER_HOUR = 50_000


@frozen
class Reading:
    """One reading of a meter's cumulative active-energy register (Wh), at ``read_at`` (UTC)."""

    read_at: datetime
    energy_wh: int


def judge(
    reference: Reading | None, readings: Iterable[Reading], *, limit_wh_per_hour: int
) -> Iterator[tuple[Reading, str | None]]:
    """Each of ``readings`` (sorted by time, all after ``reference``) with its flag or None."""
    good = reference
    for reading in readings:
        flag: str | None = None
        if good is not None:
            rise = reading.energy_wh - good.energy_wh
            hours = max((reading.read_at - good.read_at).total_seconds() / 3600, 1.0)
            if rise < 0:
                flag = BACKWARDS
            elif rise > limit_wh_per_hour * hours:
                flag = JUMP
        if flag is None:
            good = reading
        yield reading, flag
