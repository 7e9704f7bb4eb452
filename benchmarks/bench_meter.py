"""pytest-benchmark timings for the meter model.

Run: ``pytest benchmarks/bench_meter.py --benchmark-only -p no:cacheprovider``.
Each entry decodes (EA07 STA or EA11 MISTY1), checks TID memory and credits a register; the
benchmarks feed fresh tokens so that every entry is accepted, not answered "used".
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from pytest_benchmark.fixture import BenchmarkFixture

from stsvend import sts
from stsvend.meter import LockoutPolicy, Meter, MeterProfile, RegisterKind, ResultCode

T0 = datetime(2024, 3, 1, tzinfo=UTC)
IDENTITY = sts.MeterIdentity.parse(None, "00000000000")


def _meter(ea: str, vk: bytes, dkga: str) -> tuple[Meter, list[str]]:
    data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, ea=ea)
    # No lockout, so that a run of wrong entries measures the CRC path, not the lockout check.
    profile = MeterProfile.derive(
        IDENTITY, data, vk, dkga, unit_register_limit=10**12, lockout=LockoutPolicy(threshold=10**9)
    )
    tokens = [
        sts.credit_token(profile.decoder_key, sts.Resource.ELECTRICITY, 1, tid=tid, rnd=5)
        for tid in range(sts.tid_at(T0, sts.BaseDate.Y1993) + 1,
                         sts.tid_at(T0, sts.BaseDate.Y1993) + 3001)
    ]  # fmt: skip
    return Meter.manufacture(profile, T0), tokens


def test_enter_credit_token_ea07(benchmark: BenchmarkFixture) -> None:
    meter, tokens = _meter("07", bytes.fromhex("abababababababab"), "02")
    feed = iter(tokens)
    result = benchmark.pedantic(lambda: meter.enter(next(feed), T0), rounds=2500, iterations=1)
    assert result.code is ResultCode.ACCEPT


def test_enter_credit_token_ea11(benchmark: BenchmarkFixture) -> None:
    vk = bytes.fromhex("abababababababab949494949494949401234567")
    meter, tokens = _meter("11", vk, "04")
    feed = iter(tokens)
    result = benchmark.pedantic(lambda: meter.enter(next(feed), T0), rounds=2500, iterations=1)
    assert result.code is ResultCode.ACCEPT


def test_enter_wrong_token(benchmark: BenchmarkFixture) -> None:
    meter, _ = _meter("07", bytes.fromhex("abababababababab"), "02")
    result = benchmark(meter.enter, "11111111111111111111", T0)
    assert result.code is ResultCode.CRC


def test_advance_one_minute_under_load(benchmark: BenchmarkFixture) -> None:
    profile = MeterProfile.derive(IDENTITY, sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2),
                                  bytes.fromhex("abababababababab"))  # fmt: skip
    meter = Meter.manufacture(profile, T0, {RegisterKind.ELECTRICITY: 10**7})
    meter.set_load(2000, T0)
    minutes = (T0 + timedelta(minutes=n) for n in itertools.count(1))
    benchmark(lambda: meter.advance(next(minutes)))
    assert meter.credit < 10**7
