"""The server's rate limits on their own: the token bucket and the failed-authentication
throttle, driven by a clock given as plain numbers."""

from __future__ import annotations

import pytest

from stsvend.server.limits import MAX_PREFIXES, AuthThrottle, RateLimited, RateLimiter, retry_after


def test_a_bucket_gives_its_burst_then_its_rate() -> None:
    limiter = RateLimiter(rate=10, burst=3)
    assert [limiter.wait("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait("a", 0.0) == pytest.approx(0.1)
    assert limiter.wait("a", 0.05) == pytest.approx(0.05)  # half a token saved up, still short
    assert limiter.wait("a", 0.1) == 0.0
    assert limiter.wait("a", 0.1) == pytest.approx(0.1)


def test_a_bucket_refills_to_its_burst_and_no_more() -> None:
    limiter = RateLimiter(rate=1, burst=2)
    limiter.wait("a", 0.0), limiter.wait("a", 0.0)
    granted = [limiter.wait("a", 1000.0) for _ in range(3)]
    assert granted[:2] == [0.0, 0.0] and granted[2] == pytest.approx(1.0)


def test_keys_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(rate=1, burst=1)
    assert limiter.wait("a", 0.0) == 0.0 and limiter.wait("a", 0.0) > 0
    assert limiter.wait("b", 0.0) == 0.0


def test_a_clock_stepping_back_refills_nothing() -> None:
    limiter = RateLimiter(rate=1, burst=1)
    assert limiter.wait("a", 10.0) == 0.0
    assert limiter.wait("a", 5.0) == pytest.approx(1.0)
    assert limiter.wait("a", 11.0) == 0.0


def test_rate_zero_is_no_limit_and_nonsense_is_refused() -> None:
    limiter = RateLimiter(rate=0, burst=1)
    assert all(limiter.wait("a", 0.0) == 0.0 for _ in range(1000))
    with pytest.raises(ValueError):
        RateLimiter(rate=-1, burst=1)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)


def test_the_buckets_kept_are_bounded() -> None:
    limiter = RateLimiter(rate=1, burst=1, max_keys=3)
    for n in range(3):
        limiter.wait(f"k{n}", 0.0)  # all three empty now
    assert limiter.wait("k3", 0.0) == 0.0  # none full: the oldest (k0) goes
    assert limiter.wait("k0", 0.0) == 0.0  # it comes back full
    assert limiter.wait("k3", 0.0) > 0  # k3 is still remembered as spent
    assert limiter.wait("k4", 10.0) == 0.0  # at 10 s all are full again: they go, k4 is kept
    assert len(limiter._buckets) == 1


@pytest.mark.parametrize(("wait", "header"), [(0.001, 1), (0.999, 1), (1.0, 1), (1.001, 2),
                                               (59.5, 60)])  # fmt: skip
def test_retry_after_is_whole_seconds_at_least_one(wait: float, header: int) -> None:
    assert retry_after(wait) == header
    assert RateLimited(wait=wait).retry_after == header
    assert RateLimited().code == "rate_limited"


def test_the_throttle_counts_failures_in_a_window_then_refuses_until_its_end() -> None:
    throttle = AuthThrottle(limit=3, window=60)
    for t in (0.0, 1.0, 2.0):
        assert throttle.check("192.0.2.1", t) == 0.0
        throttle.failed("192.0.2.1", t, None)
    assert throttle.check("192.0.2.1", 30.0) == pytest.approx(30.0)
    assert throttle.check("192.0.2.1", 59.9) == pytest.approx(0.1)
    assert throttle.check("198.51.100.1", 30.0) == 0.0  # another address is not affected
    assert throttle.closed(59.9) == []  # the window is still open
    assert throttle.check("192.0.2.1", 60.0) == 0.0  # a new window
    (row,) = throttle.closed(60.0)
    assert (row.address, row.started, row.failures, row.throttled) == ("192.0.2.1", 0.0, 3, 2)
    assert throttle.closed(61.0) == []  # each window once


def test_a_window_is_handed_out_once_when_the_address_fails_again_after_it() -> None:
    throttle = AuthThrottle(limit=5, window=10)
    throttle.failed("a", 0.0, "0123456789ab")
    throttle.failed("a", 15.0, None)  # the first window ended: a second begins
    (first,) = throttle.closed(16.0)
    assert (first.failures, first.prefixes, first.started) == (1, ("0123456789ab",), 0.0)
    (second,) = throttle.closed(25.0)
    assert (second.failures, second.prefixes, second.started) == (1, (), 15.0)


def test_the_prefixes_remembered_are_distinct_and_bounded() -> None:
    throttle = AuthThrottle(limit=100, window=10)
    for n in range(MAX_PREFIXES + 3):
        throttle.failed("a", 0.0, f"{n:012x}")
        throttle.failed("a", 0.0, f"{n:012x}")
    (row,) = throttle.closed(10.0)
    assert row.failures == 2 * (MAX_PREFIXES + 3)
    assert row.prefixes == tuple(f"{n:012x}" for n in range(MAX_PREFIXES))


def test_the_open_windows_are_bounded_the_oldest_closes_early() -> None:
    throttle = AuthThrottle(limit=1, window=60, max_open=2)
    for address in ("a", "b", "c"):
        throttle.failed(address, 0.0, None)
    assert [w.address for w in throttle.closed(1.0)] == ["a"]
    assert throttle.check("a", 1.0) == 0.0 and throttle.check("c", 1.0) > 0


def test_a_throttle_needs_a_limit_and_a_window() -> None:
    with pytest.raises(ValueError):
        AuthThrottle(limit=0, window=60)
    with pytest.raises(ValueError):
        AuthThrottle(limit=1, window=0)
