"""Throughput of the security module: tokens and key change sets per second.

Run: ``pytest benchmarks/bench_keystore.py --benchmark-only -p no:cacheprovider``
or, for a plain tokens-per-second print-out: ``python benchmarks/bench_keystore.py``.

A bulk supply-group key change needs 5 000+ meters a second with logging (the target), so the
module itself must be well above that: each meter derives two decoder keys (current and new,
cache cold) and encrypts two tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pytest_benchmark.fixture import BenchmarkFixture

from stsvend import sts
from stsvend.keystore import SoftwareSecurityModule, demo_key_file
from stsvend.sts.identity import luhn_check_digit

METERS = 5_000
DEFAULT = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1)
UNIQUE = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
ROLL_FROM = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2)
ROLL_TO = sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=2014)


def meters(count: int) -> list[sts.MeterIdentity]:
    """``count`` distinct valid meters (manufacturer 01, serials 0, 1, 2, …)."""
    out = []
    for serial in range(count):
        body = f"01{serial:08d}"
        out.append(sts.MeterIdentity.parse(None, body + str(luhn_check_digit(body))))
    return out


FLEET = meters(METERS)


def _module() -> SoftwareSecurityModule:
    return SoftwareSecurityModule.from_key_file(demo_key_file())


def test_encode_token_warm(benchmark: BenchmarkFixture) -> None:
    """One credit token for a meter whose decoder key is cached (a busy counter)."""
    module = _module()
    fields = {"rnd": 5, "tid": 16_000_000, "amount_field": 500}
    token = benchmark(module.encode_token, FLEET[0], UNIQUE, 0, 0, fields)
    assert len(token) == 20


def test_encode_token_cold(benchmark: BenchmarkFixture) -> None:
    """One credit token for a meter seen for the first time (derivation included)."""
    fields = {"rnd": 5, "tid": 16_000_000, "amount_field": 500}

    def fresh() -> tuple[tuple[SoftwareSecurityModule], dict[str, object]]:
        return (_module(),), {}

    def run(module: SoftwareSecurityModule) -> str:
        return module.encode_token(FLEET[1], UNIQUE, 0, 0, fields)

    assert len(benchmark.pedantic(run, setup=fresh, rounds=500)) == 20


def test_key_change_tokens_warm(benchmark: BenchmarkFixture) -> None:
    module = _module()
    tokens = benchmark(module.key_change_tokens, FLEET[0], DEFAULT, UNIQUE, rollover=False)
    assert len(tokens) == 2


def test_bulk_commissioning_5000_meters(benchmark: BenchmarkFixture) -> None:
    """EA07 DKGA02 key change (VDDK → VUDK), two tokens a meter, every key derived cold."""

    def run() -> int:
        module = _module()
        return sum(len(module.key_change_tokens(m, DEFAULT, UNIQUE, rollover=False))
                   for m in FLEET)  # fmt: skip

    assert benchmark.pedantic(run, rounds=3, iterations=1) == 2 * METERS


def test_bulk_rollover_5000_meters_dkga04(benchmark: BenchmarkFixture) -> None:
    """The 1993 → 2014 rollover with DKGA04 keys (KRN 1 → KRN 4), every key derived cold."""

    def run() -> int:
        module = _module()
        return sum(len(module.key_change_tokens(m, ROLL_FROM, ROLL_TO, rollover=True))
                   for m in FLEET)  # fmt: skip

    assert benchmark.pedantic(run, rounds=3, iterations=1) == 2 * METERS


def _rate(label: str, count: int, work: Callable[[], object]) -> None:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    print(f"{label:52s} {count / sorted(times)[1]:10,.0f} /s  (median of 3)")


def _cold(
    action: Callable[[SoftwareSecurityModule, sts.MeterIdentity], object],
) -> Callable[[], None]:
    """Every meter of the fleet through a fresh module: every decoder key derived."""

    def run() -> None:
        module = _module()
        for meter in FLEET:
            action(module, meter)

    return run


def main() -> None:
    fields = {"rnd": 5, "tid": 16_000_000, "amount_field": 500}
    warm = _module()
    for meter in FLEET:
        warm.key_change_tokens(meter, DEFAULT, UNIQUE, rollover=False)

    def warm_tokens() -> None:
        for _ in range(20_000):
            warm.encode_token(FLEET[0], UNIQUE, 0, 0, fields)

    def warm_changes() -> None:
        for meter in FLEET:
            warm.key_change_tokens(meter, DEFAULT, UNIQUE, rollover=False)

    _rate("encode_token, cached decoder key (tokens)", 20_000, warm_tokens)
    _rate(
        "encode_token, new meter each time (tokens)",
        METERS,
        _cold(lambda m, meter: m.encode_token(meter, UNIQUE, 0, 0, fields)),
    )
    _rate(
        "key_change_tokens VDDK->VUDK, DKGA02, cold (meters)",
        METERS,
        _cold(lambda m, meter: m.key_change_tokens(meter, DEFAULT, UNIQUE, rollover=False)),
    )
    _rate(
        "key_change_tokens 1993->2014, DKGA04, cold (meters)",
        METERS,
        _cold(lambda m, meter: m.key_change_tokens(meter, ROLL_FROM, ROLL_TO, rollover=True)),
    )
    _rate("key_change_tokens, cached decoder keys (meters)", METERS, warm_changes)


if __name__ == "__main__":
    main()
