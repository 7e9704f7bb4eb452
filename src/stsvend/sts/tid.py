"""Token identifier (TID) and base dates (IEC 62055-41 clause 6.3.5, ``docs/sts.md`` §3).

A TID is the number of whole minutes from the meter's base date (00:00 UTC, 1 January of 1993,
2014 or 2035) to the issue time, in 24 bits.  The minute 00:01 of each day (TID mod 1440 == 1)
is reserved (the SpecialReservedTokenIdentifier): a vending system moves to 00:02.

>>> from datetime import datetime, timezone
>>> tid_at(datetime(2024, 11, 24, 20, 15, tzinfo=timezone.utc), BaseDate.Y1993)
16777215
>>> is_reserved_tid(1441)
True
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from stsvend.errors import KeyExpiredError, TidError

__all__ = [
    "TID_MAX",
    "BaseDate",
    "check_key_expiry",
    "datetime_of_tid",
    "is_reserved_tid",
    "key_expired",
    "tid_at",
    "vendable_tid",
]

TID_MAX = (1 << 24) - 1
_MINUTES_PER_DAY = 1440


class BaseDate(enum.IntEnum):
    """The three STS base dates; the value is the year."""

    Y1993 = 1993
    Y2014 = 2014
    Y2035 = 2035

    @property
    def start(self) -> datetime:
        return datetime(int(self), 1, 1, tzinfo=UTC)

    @property
    def code(self) -> str:
        """The two-digit code used by DKGA04 ("93", "14", "35")."""
        return f"{int(self) % 100:02d}"

    @property
    def last_minute(self) -> datetime:
        """The issue time of TID 0xFFFFFF under this base date."""
        return self.start + timedelta(minutes=TID_MAX)

    @property
    def next(self) -> BaseDate:
        """The base date a rollover key change moves to."""
        if self is BaseDate.Y2035:
            raise TidError("there is no base date after 2035")
        return BaseDate(int(self) + 21)

    @classmethod
    def parse(cls, value: int | str | BaseDate) -> BaseDate:
        try:
            if (not isinstance(value, int) or isinstance(value, bool)) and not (
                isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4
            ):
                raise TypeError  # a float, a bool or "+2014" is not a year
            year = int(value)
        except (TypeError, ValueError):
            raise TidError(f"base date must be 1993, 2014 or 2035, got {value!r}") from None
        if year in (93, 14, 35):
            year += 1900 if year == 93 else 2000
        try:
            return cls(year)
        except ValueError:
            raise TidError(f"base date must be 1993, 2014 or 2035, got {value!r}") from None


def tid_at(when: datetime, base_date: BaseDate) -> int:
    """TID of an issue time (a timezone-aware datetime) under a base date; seconds are dropped."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise TidError("the issue time must be timezone-aware (TIDs count UTC minutes)")
    minutes = (when - base_date.start) // timedelta(minutes=1)
    if minutes < 0:
        raise TidError(f"{when.isoformat()} is before the base date {int(base_date)}")
    if minutes > TID_MAX:
        raise TidError(
            f"{when.isoformat()} is past the last TID of base date {int(base_date)} "
            f"({base_date.last_minute.isoformat()}); the meter needs a rollover key change"
        )
    return minutes


def datetime_of_tid(tid: int, base_date: BaseDate) -> datetime:
    """The UTC minute a TID stands for."""
    if not 0 <= tid <= TID_MAX:
        raise TidError(f"tid is outside 24 bits ({tid})")
    return base_date.start + timedelta(minutes=tid)


def is_reserved_tid(tid: int) -> bool:
    """True for the SpecialReservedTokenIdentifier minute (00:01 of a day)."""
    return tid % _MINUTES_PER_DAY == 1


def vendable_tid(candidate: int, last_issued: int | None = None) -> int:
    """The TID to issue: at least ``candidate``, after ``last_issued``, never the reserved minute.

    >>> vendable_tid(1441)
    1442
    >>> vendable_tid(100, last_issued=100)
    101
    """
    tid = candidate if last_issued is None else max(candidate, last_issued + 1)
    if is_reserved_tid(tid):
        tid += 1
    if tid > TID_MAX:
        raise TidError("no TID is left under this base date; the meter needs a rollover")
    return tid


def key_expired(tid: int, ken: int) -> bool:
    """KEN rule: a token whose TID's top 8 bits exceed the key expiry number is refused.

    >>> key_expired(0x5A0000, 85), key_expired(0x550000, 85)
    (True, False)
    """
    return (tid >> 16) > ken


def check_key_expiry(tid: int, ken: int) -> None:
    """Raise :class:`KeyExpiredError` if ``tid`` is past ``ken``."""
    if not 0 <= ken <= 255:
        raise KeyExpiredError(f"ken must be 0-255, got {ken}")
    if key_expired(tid, ken):
        raise KeyExpiredError(
            f"the key has expired: TID {tid} (high byte {tid >> 16}) is past KEN {ken}"
        )
