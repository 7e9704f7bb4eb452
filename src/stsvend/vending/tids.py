"""TID allocation and key-expiry health, from an injected UTC instant.

Rules (``docs/architecture.md``, "Rules that hold everywhere"; ``docs/sts.md`` §3, §7.7):

* TIDs are allocated per (meter, base date): each strictly greater than the last one issued
  under that base date, from the UTC minute of issue, skipping the reserved minute (00:01 of a
  day, TID mod 1440 == 1); several tokens in one minute take consecutive minutes.
* A TID the base date cannot hold (before its start, past 0xFFFFFF) is refused with
  :class:`~stsvend.errors.TidError`: the meter needs a rollover key change first; a meter whose
  base date has run out (:func:`require_base_date`) with
  :class:`~stsvend.vending.errors.RolloverRequiredError`, naming the command to run.
* A TID past the key expiry number, ``(tid >> 16) > ken``, is refused with
  :class:`~stsvend.errors.KeyExpiredError`: the meter would reject the token.

>>> from datetime import datetime, timezone
>>> now = datetime(2025, 3, 1, 0, 1, 30, tzinfo=timezone.utc)   # the reserved minute
>>> first, second = allocate_tids(now, sts.BaseDate.Y2014, last_issued=None, count=2)
>>> second - first, sts.is_reserved_tid(first - 1)
(1, True)
>>> allocate_tids(now, sts.BaseDate.Y2014, last_issued=first + 10)[0] == first + 11
True
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import frozen

from stsvend import sts
from stsvend.errors import TidError
from stsvend.vending.errors import RolloverRequiredError

__all__ = ["KeyHealth", "KeyStatus", "allocate_tids", "key_health", "require_base_date"]


def allocate_tids(
    now: datetime,
    base_date: sts.BaseDate,
    last_issued: int | None,
    count: int = 1,
    *,
    ken: int = 255,
) -> tuple[int, ...]:
    """``count`` TIDs for tokens issued at ``now`` to a meter whose last TID was ``last_issued``.

    ``last_issued`` is the last TID issued to this meter under ``base_date`` (None: none yet).
    """
    if type(count) is not int or count < 1:
        raise ValueError("count is a positive integer")
    tids: list[int] = []
    previous = last_issued
    candidate = sts.tid_at(now, base_date)
    for _ in range(count):
        tid = sts.vendable_tid(candidate, previous)
        sts.check_key_expiry(tid, ken)
        tids.append(tid)
        previous = tid
        candidate = tid + 1
    return tuple(tids)


class KeyStatus(enum.Enum):
    """What the key-expiry report says about a meter."""

    OK = "ok"
    NEAR_KEY_EXPIRY = "near_key_expiry"  #: the KEN is reached within the warning period
    KEY_EXPIRED = "key_expired"  #: tokens issued now would be refused (KEN)
    ROLLOVER_DUE = "rollover_due"  #: the base date's TID range ends within the warning period
    NOT_ROLLED_OVER = "not_rolled_over"  #: the base date's range has ended: rollover needed
    BASE_DATE_NOT_STARTED = "base_date_not_started"  #: the meter's base date lies in the future


@frozen
class KeyHealth:
    """When a meter's key data stops working, seen from ``now``."""

    now: datetime
    key_data: sts.KeyData
    #: First minute whose TID the meter refuses under its KEN (None: KEN 255, never).
    key_expires_at: datetime | None
    #: First minute past the base date's last TID.
    base_date_ends_at: datetime
    statuses: frozenset[KeyStatus]

    @property
    def ok(self) -> bool:
        return self.statuses == frozenset({KeyStatus.OK})

    @property
    def needs_rollover(self) -> bool:
        return bool(self.statuses & {KeyStatus.ROLLOVER_DUE, KeyStatus.NOT_ROLLED_OVER})

    @property
    def near_key_expiry(self) -> bool:
        return bool(self.statuses & {KeyStatus.NEAR_KEY_EXPIRY, KeyStatus.KEY_EXPIRED})


def require_base_date(now: datetime, key_data: sts.KeyData, drn: str) -> None:
    """Refuse to issue for meter ``drn`` once its base date's TIDs have run out.

    The meter takes no TID-bearing token until a rollover key change (RO set) moves it to the
    next base date (clause 6.3.5); the error says which command does that.

    >>> from datetime import datetime, timezone
    >>> old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
    >>> require_base_date(datetime(2025, 1, 1, tzinfo=timezone.utc), old, "01234567897")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    stsvend.vending.errors.RolloverRequiredError: rollover key change required: meter ...
    """
    base = key_data.base_date
    if now < base.start + timedelta(minutes=sts.TID_MAX + 1):
        return
    raise RolloverRequiredError(
        f"rollover key change required: meter {drn} is on base date {int(base)}, whose last "
        f"TID was {base.last_minute:%Y-%m-%d %H:%M} UTC; run `stsvend key-change group "
        f"{key_data.sgc:06d} --rollover` (its supply group) or `stsvend key-change meter "
        f"{drn} --rollover`"
    )


def key_health(
    now: datetime, key_data: sts.KeyData, *, warn_within: timedelta = timedelta(days=90)
) -> KeyHealth:
    """Classify a meter for the "near key expiry" and "not yet rolled over" reports.

    >>> from datetime import datetime, timezone
    >>> data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=1993)
    >>> health = key_health(datetime(2025, 1, 1, tzinfo=timezone.utc), data)
    >>> sorted(s.value for s in health.statuses), health.base_date_ends_at.isoformat()
    (['not_rolled_over'], '2024-11-24T20:16:00+00:00')
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise TidError("the instant must be timezone-aware (TIDs count UTC minutes)")
    base = key_data.base_date
    ends_at = base.start + timedelta(minutes=sts.TID_MAX + 1)
    first_expired = (key_data.ken + 1) << 16
    expires_at = (
        None if first_expired > sts.TID_MAX else base.start + timedelta(minutes=first_expired)
    )
    statuses: set[KeyStatus] = set()
    if now < base.start:
        statuses.add(KeyStatus.BASE_DATE_NOT_STARTED)
    elif now >= ends_at:
        statuses.add(KeyStatus.NOT_ROLLED_OVER)
    elif now + warn_within >= ends_at:
        statuses.add(KeyStatus.ROLLOVER_DUE)
    if expires_at is not None and now >= base.start:
        if now >= expires_at:
            statuses.add(KeyStatus.KEY_EXPIRED)
        elif now + warn_within >= expires_at:
            statuses.add(KeyStatus.NEAR_KEY_EXPIRY)
    return KeyHealth(now, key_data, expires_at, ends_at, frozenset(statuses or {KeyStatus.OK}))
