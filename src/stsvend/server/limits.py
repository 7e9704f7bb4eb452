"""The sale-point server's rate limits: a token bucket per terminal key, and a throttle on failed
authentication per client address.

Sans-IO: every call is given ``now``, seconds on a monotonic clock, so a test drives them with
plain numbers.  Their state lives in one worker process: with N uvicorn workers a terminal may
get up to N times its rate in all, and an address N times its failures (docs/server.md).

>>> limiter = RateLimiter(rate=2, burst=2)
>>> limiter.wait("0123456789ab", 0.0), limiter.wait("0123456789ab", 0.0)
(0.0, 0.0)
>>> limiter.wait("0123456789ab", 0.0)   # the burst is spent: a token comes in half a second
0.5
>>> limiter.wait("0123456789ab", 0.5)
0.0
>>> throttle = AuthThrottle(limit=2, window=60)
>>> throttle.failed("192.0.2.7", 0.0, None); throttle.failed("192.0.2.7", 1.0, "0123456789ab")
>>> throttle.check("192.0.2.7", 10.0)  # two failures: refused until the window ends
50.0
>>> [(w.address, w.failures, w.throttled, w.prefixes) for w in throttle.closed(60.0)]
[('192.0.2.7', 2, 1, ('0123456789ab',))]
>>> throttle.check("192.0.2.7", 60.0)
0.0
"""

from __future__ import annotations

import math

from attrs import define, field, frozen

from stsvend.errors import StsError

__all__ = ["AuthThrottle", "FailureWindow", "RateLimited", "RateLimiter", "retry_after"]

#: At most this many distinct key prefixes a failure window remembers (for the operation log).
MAX_PREFIXES = 5


def retry_after(seconds: float) -> int:
    """What a ``Retry-After`` header says for a wait of ``seconds``: whole seconds, at least 1.

    >>> retry_after(0.01), retry_after(1.0), retry_after(1.2)
    (1, 1, 2)
    """
    return max(1, math.ceil(seconds))


class RateLimited(StsError):
    """Too many requests from one terminal key or one address: ask again after ``retry_after``
    seconds (the ``Retry-After`` header)."""

    code = "rate_limited"
    default_message = "too many requests: ask again after the Retry-After header's seconds"

    def __init__(self, message: str | None = None, *, wait: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after(wait)


@define
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per key: ``rate`` tokens a second, at most ``burst`` saved up.

    A ``rate`` of 0 turns the limit off.  Buckets of keys not seen for long are dropped when
    there are more than ``max_keys`` of them (a dropped bucket comes back full, as it would
    have refilled).
    """

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("a rate limit needs rate >= 0 and burst >= 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def wait(self, key: str, now: float) -> float:
        """0.0 if a request may go now (it takes a token); else the seconds until one can."""
        if self.rate <= 0:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._drop_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            # A clock that steps back refills nothing rather than draining the bucket.
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.at = max(bucket.at, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _drop_full(self, now: float) -> None:
        full = [key for key, b in self._buckets.items()
                if b.tokens + max(0.0, now - b.at) * self.rate >= self.burst]  # fmt: skip
        for key in full:
            del self._buckets[key]
        while len(self._buckets) >= self.max_keys:  # none is full: drop the oldest seen
            del self._buckets[next(iter(self._buckets))]


@frozen
class FailureWindow:
    """One address's failed authentications in one window: one row of the operation log."""

    address: str
    #: When the window began, on the throttle's clock.
    started: float
    failures: int
    #: Attempts refused without looking at the key, once ``failures`` reached the limit.
    throttled: int
    #: Well-formed key prefixes that were tried (at most :data:`MAX_PREFIXES`), never a key.
    prefixes: tuple[str, ...]


@define
class _Window:
    started: float
    failures: int = 0
    throttled: int = 0
    prefixes: list[str] = field(factory=list)


class AuthThrottle:
    """Counts failed authentications per address in fixed windows of ``window`` seconds; once
    an address has ``limit`` of them, its further attempts wait for the window's end.

    Each window that had a failure is handed out once, by :meth:`closed`, after it ends (or
    earlier, when more than ``max_open`` addresses are counted at once: the oldest goes).
    """

    def __init__(self, limit: int, window: float, *, max_open: int = 10_000) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("an authentication throttle needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = float(window)
        self.max_open = max_open
        self._open: dict[str, _Window] = {}
        self._done: list[FailureWindow] = []

    def check(self, address: str, now: float) -> float:
        """0.0 if ``address`` may try a key now; else the seconds until it may (the attempt is
        counted as throttled)."""
        current = self._current(address, now)
        if current is None or current.failures < self.limit:
            return 0.0
        current.throttled += 1
        return current.started + self.window - now

    def failed(self, address: str, now: float, prefix: str | None) -> None:
        """Count a failed authentication from ``address`` (``prefix``: the key's public part,
        if the key was well formed)."""
        current = self._current(address, now)
        if current is None:
            if len(self._open) >= self.max_open:
                oldest = next(iter(self._open))
                self._close(oldest, self._open.pop(oldest))
            current = self._open[address] = _Window(now)
        current.failures += 1
        if prefix and prefix not in current.prefixes and len(current.prefixes) < MAX_PREFIXES:
            current.prefixes.append(prefix)

    def closed(self, now: float) -> list[FailureWindow]:
        """The windows that have ended since the last call, each once."""
        for address, window in list(self._open.items()):
            if now >= window.started + self.window:
                self._close(address, self._open.pop(address))
        done, self._done = self._done, []
        return done

    def _current(self, address: str, now: float) -> _Window | None:
        window = self._open.get(address)
        if window is not None and now >= window.started + self.window:
            self._close(address, self._open.pop(address))
            return None
        return window

    def _close(self, address: str, window: _Window) -> None:
        self._done.append(FailureWindow(address, window.started, window.failures,
                                        window.throttled, tuple(window.prefixes)))  # fmt: skip
