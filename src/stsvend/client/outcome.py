"""The outcome rules of a sale-point call, without any I/O: what an answer means and how long
to wait before the next try.

* 2xx: done;
* 500, 502, 503, 504, a timeout, a broken connection: **unknown** — the server may have done
  it; send the same request again (same purchase id), then ask;
* 429: **busy** — not done; wait ``Retry-After`` seconds and send it again;
* any other status (409 and the other 4xx): **refused** for good.

>>> classify(201).kind, classify(503).kind, classify(429).kind, classify(409).kind
('done', 'unknown', 'busy', 'refused')
>>> retry_after("2"), retry_after("soon"), retry_after(None)
(2.0, None, None)
>>> policy = RetryPolicy(base_delay=0.1, max_delay=0.5)
>>> [policy.backoff(n) for n in (1, 2, 3, 4)]
[0.1, 0.2, 0.4, 0.5]
"""

from __future__ import annotations

import email.utils
import time
from typing import Literal

from attrs import frozen

__all__ = ["UNKNOWN_STATUSES", "RetryPolicy", "Verdict", "classify", "retry_after"]

#: The statuses after which the request may or may not have been carried out.
UNKNOWN_STATUSES = frozenset({500, 502, 503, 504})

Kind = Literal["done", "unknown", "busy", "refused"]


@frozen
class Verdict:
    """What one answer (or its absence) means for the request."""

    kind: Kind
    #: The HTTP status (None: no answer — a timeout or a connection that failed).
    status: int | None = None
    #: Busy: the seconds the server asked to wait (None: it did not say).
    wait: float | None = None
    #: Unknown without an answer: whether the request may have reached the server (False only
    #: when the connection was never made, so that nothing can have been done).
    sent: bool = True


def classify(status: int, retry_after_header: str | None = None) -> Verdict:
    """The verdict of an answer with HTTP ``status``."""
    if 200 <= status < 300:
        return Verdict("done", status)
    if status in UNKNOWN_STATUSES:
        return Verdict("unknown", status)
    if status == 429:
        return Verdict("busy", status, retry_after(retry_after_header))
    return Verdict("refused", status)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """The seconds a ``Retry-After`` header asks for: delta-seconds or an HTTP date (None:
    absent or unreadable).

    >>> retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@frozen
class RetryPolicy:
    """How hard a client tries: at most ``max_attempts`` sends of one request, all within
    ``budget`` seconds (the point of sale's limit, end to end), waiting ``base_delay`` doubled
    after each unknown answer up to ``max_delay``.  Part of the budget, ``reserve``, is kept
    for the question asked after the last send (``GET /v1/purchases/{id}``)."""

    max_attempts: int = 3
    budget: float = 5.0
    base_delay: float = 0.2
    max_delay: float = 1.0
    reserve: float = 1.0

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts is at least 1")
        if self.budget <= 0:
            raise ValueError("the time budget is positive")
        if not 0 <= self.reserve < self.budget:
            raise ValueError("the reserve is a part of the budget")

    def backoff(self, attempt: int) -> float:
        """The wait after the ``attempt``-th send (1-based) answered unknown."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
