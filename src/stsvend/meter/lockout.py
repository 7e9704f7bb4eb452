"""Keypad lockout after repeated wrong entries (``docs/sts.md`` §10 step 10).

Vendor behaviour reported publicly: after 3 wrong entries the keypad refuses meter-specific
tokens for 10 s; each further wrong entry doubles the wait, up to 1 280 s; any accepted
meter-specific token (class 0 or 2) resets the count; class 1 test tokens are always processed.
The numbers are a :class:`LockoutPolicy` so that a profile can model other meters.

Which results count as a "wrong entry" is not public either.  The default counts what a person
guessing or mistyping digits produces — format, CRC and function errors — and not the answers
a genuine token for this meter can get (used, old, key expired, overflow …).

>>> from datetime import datetime, timezone
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> policy = LockoutPolicy()
>>> [policy.duration(n) for n in (2, 3, 4, 10, 11)]
[0, 10, 20, 1280, 1280]
>>> lock = Lockout().after_failure(policy, t0).after_failure(policy, t0).after_failure(policy, t0)
>>> lock.active(t0), lock.seconds_left(t0)
(True, 10)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import field, frozen

from stsvend.meter.errors import MeterConfigError
from stsvend.meter.results import ResultCode

__all__ = ["DEFAULT_COUNTED", "Lockout", "LockoutPolicy"]

#: Results that count as a wrong entry by default.
DEFAULT_COUNTED = frozenset({ResultCode.FORMAT, ResultCode.CRC, ResultCode.FUNCTION})


def _codes(values: frozenset[ResultCode] | set[ResultCode]) -> frozenset[ResultCode]:
    return frozenset(ResultCode(v) for v in values)


@frozen
class LockoutPolicy:
    """How many wrong entries lock the keypad, and for how long."""

    threshold: int = 3
    first_seconds: int = 10
    max_seconds: int = 1280
    counted: frozenset[ResultCode] = field(default=DEFAULT_COUNTED, converter=_codes)

    def __attrs_post_init__(self) -> None:
        if self.threshold < 1 or self.first_seconds < 0 or self.max_seconds < self.first_seconds:
            raise MeterConfigError(
                "lockout needs threshold >= 1 and 0 <= first_seconds <= max_seconds, got "
                f"{self.threshold}, {self.first_seconds}, {self.max_seconds}"
            )

    def duration(self, failures: int) -> int:
        """Seconds of lockout after the ``failures``-th consecutive wrong entry."""
        if failures < self.threshold:
            return 0
        doublings = failures - self.threshold
        # Cap the exponent too: a long run of failures must not build a huge integer.
        if doublings >= 64:
            return self.max_seconds
        return min(self.first_seconds << doublings, self.max_seconds)


@frozen
class Lockout:
    """The keypad's lockout state: consecutive wrong entries and the end of the lockout."""

    failures: int = 0
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.until is not None and now < self.until

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until the keypad takes tokens again (rounded up), 0 when open."""
        if not self.active(now):
            return 0
        assert self.until is not None
        return -(-(self.until - now) // timedelta(seconds=1))

    def after_failure(self, policy: LockoutPolicy, now: datetime) -> Lockout:
        failures = self.failures + 1
        seconds = policy.duration(failures)
        until = now + timedelta(seconds=seconds) if seconds else self.until
        return Lockout(failures, until)

    def cleared(self) -> Lockout:
        return Lockout()
