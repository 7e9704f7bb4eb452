"""The utility's calendar: days and months in its time zone, from an injected instant.

Vend limits count a *local* day and inclining blocks a *local* calendar month, while TIDs count
UTC minutes.  Nothing here reads a clock: every function takes the aware ``now`` it works on,
and returns half-open UTC windows ``[start, end)`` that a store can query.

>>> from datetime import datetime, timezone
>>> cal = LocalCalendar("Africa/Johannesburg")
>>> now = datetime(2025, 3, 31, 22, 30, tzinfo=timezone.utc)   # 00:30 on 1 April in SAST
>>> cal.month_key(now), cal.day_key(now)
('2025-04', '2025-04-01')
>>> [t.isoformat() for t in cal.day_bounds(now)]
['2025-03-31T22:00:00+00:00', '2025-04-01T22:00:00+00:00']
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import field, frozen

from stsvend.vending.errors import TimeZoneError

__all__ = ["LocalCalendar"]


def _zone_name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TimeZoneError(f"a time zone is an IANA name like 'Africa/Nairobi', got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(f"unknown time zone {value!r}") from None
    return value


def _aware(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise TimeZoneError("the instant must be a timezone-aware datetime")
    return now


@frozen
class LocalCalendar:
    """Days and months of the utility's time zone (an IANA name)."""

    zone: str = field(converter=_zone_name)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def local(self, now: datetime) -> datetime:
        """``now`` in the utility's time zone."""
        return _aware(now).astimezone(self.tz)

    def _midnight_utc(self, day: date) -> datetime:
        # Local 00:00 with fold=0.  Where clocks jump forward at midnight, zoneinfo reads the
        # missing 00:00 with the offset before the jump, which is the instant of the jump: the
        # first instant of that local day either way.
        return datetime.combine(day, time.min, tzinfo=self.tz).astimezone(UTC)

    def day_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """UTC ``[start, end)`` of the local day holding ``now``."""
        day = self.local(now).date()
        return self._midnight_utc(day), self._midnight_utc(day + timedelta(days=1))

    def month_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """UTC ``[start, end)`` of the local calendar month holding ``now``."""
        local = self.local(now).date()
        first = local.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return self._midnight_utc(first), self._midnight_utc(following)

    def day_key(self, now: datetime) -> str:
        """The local date, ``YYYY-MM-DD``."""
        return self.local(now).date().isoformat()

    def month_key(self, now: datetime) -> str:
        """The local month, ``YYYY-MM`` (inclining blocks and free units count per month)."""
        return self.local(now).strftime("%Y-%m")
