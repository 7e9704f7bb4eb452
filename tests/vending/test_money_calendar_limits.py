"""Money, the utility's calendar, tariffs' construction and vend limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.errors import StsError
from stsvend.vending import (
    AmountTooLarge,
    AmountTooSmall,
    DailyLimitExceeded,
    LocalCalendar,
    Money,
    MoneyError,
    Tariff,
    TariffError,
    TimeZoneError,
    UnitPrice,
    VendLimits,
    check_vend_amount,
)
from stsvend.vending.money import round_half_up_div
from stsvend.vending.tariff import Block

# -- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.50", "ZAR", 1250), ("0.01", "KES", 1), ("1000", "UGX", 1000), ("7", "ZAR", 700),
     (Decimal("3.3"), "ZAR", 330), (5, "KES", 500), ("1.234", "KWD", 1234), ("0.5", "ZAR", 50),
     ("007.10", "ZAR", 710)],
)  # fmt: skip
def test_money_parse(text: object, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [("1.005", "ZAR", "2 decimal places"), ("1.5", "UGX", "0 decimal places"),
     ("abc", "ZAR", "plain digits"), ("NaN", "ZAR", "plain digits"),
     ("Infinity", "ZAR", "plain digits"), (1.5, "ZAR", "text like"), (True, "ZAR", "text like"),
     ("1e2", "ZAR", "plain digits"), ("1E2", "ZAR", "plain digits"),
     ("1_000", "ZAR", "plain digits"), ("\uff11\uff10\uff10", "ZAR", "plain digits"),
     ("\u0661\u0660\u0660", "ZAR", "plain digits"), ("-2.5", "ZAR", "plain digits"),
     ("+1", "ZAR", "plain digits"), (" 1", "ZAR", "plain digits"), ("1.", "ZAR", "plain digits"),
     (".5", "ZAR", "plain digits"), ("1,000", "ZAR", "plain digits"), ("1\n", "ZAR", "plain"),
     ("1" * 13, "ZAR", "too large"), (Decimal("Infinity"), "ZAR", "not an amount"),
     ("1", "XYZ", "unknown currency"), ("1", None, "unknown currency")],
)  # fmt: skip
def test_money_parse_refusals(text: object, currency: object, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        Money.parse(text, currency)  # type: ignore[arg-type]


def test_money_arithmetic_and_order() -> None:
    a, b = Money(150, "ZAR"), Money(50, "ZAR")
    assert (a + b, a - b, -b) == (Money(200, "ZAR"), Money(100, "ZAR"), Money(-50, "ZAR"))
    assert b < a and b <= a and a > b and a >= b and not a < b
    assert not Money.zero("ZAR") and bool(a)
    assert (str(a), a.format(), a.to_decimal()) == ("ZAR 1.50", "1.50", Decimal("1.50"))
    assert str(Money(1500, "UGX")) == "UGX 1500"
    assert str(Money(-5, "ZAR")) == "ZAR -0.05"


def test_money_refuses_mixing_and_floats() -> None:
    with pytest.raises(MoneyError, match="cannot mix ZAR and KES"):
        _ = Money(1, "ZAR") + Money(1, "KES")
    with pytest.raises(MoneyError, match="cannot mix"):
        _ = Money(1, "ZAR") < Money(1, "KES")
    with pytest.raises(TypeError):
        _ = Money(1, "ZAR") + 1  # type: ignore[operator]
    for bad in (1.0, True, "1"):
        with pytest.raises(MoneyError, match="integer count"):
            Money(bad, "ZAR")


# Up to twelve digits before the point in every currency (UGX has no minor unit), the most a
# clerk may type.
@given(st.integers(0, 10**12 - 1), st.sampled_from(["ZAR", "KES", "UGX", "KWD"]))
def test_money_format_and_parse_round_trip(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.format(), currency) == money


@given(st.integers(0, 10**9), st.integers(1, 10**6))
def test_round_half_up_div_matches_decimal(numerator: int, denominator: int) -> None:
    from decimal import ROUND_HALF_UP

    expected = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP)
    assert round_half_up_div(numerator, denominator) == int(expected)


def test_round_half_up_div_refuses_negative() -> None:
    with pytest.raises(ValueError):
        round_half_up_div(-1, 2)


# -- calendar --------------------------------------------------------------------------------

ZONES = ["Africa/Johannesburg", "Africa/Nairobi", "America/Havana", "America/Santiago",
         "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"]  # fmt: skip


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1),
                    timezones=st.just(UTC)), st.sampled_from(ZONES))  # fmt: skip
def test_day_and_month_windows_hold_the_instant(now: datetime, zone: str) -> None:
    cal = LocalCalendar(zone)
    for start, end, key in ((*cal.day_bounds(now), cal.day_key),
                            (*cal.month_bounds(now), cal.month_key)):  # fmt: skip
        assert start <= now < end
        assert key(start) == key(now) == key(end - timedelta(microseconds=1))
        assert key(end) != key(now)
    assert cal.local(cal.day_bounds(now)[0]).date().isoformat() == cal.day_key(now)


def test_known_local_days_and_months() -> None:
    nairobi = LocalCalendar("Africa/Nairobi")
    now = datetime(2025, 1, 31, 21, 0, tzinfo=UTC)  # 00:00 on 1 February in EAT (UTC+3)
    assert (nairobi.day_key(now), nairobi.month_key(now)) == ("2025-02-01", "2025-02")
    start, end = nairobi.month_bounds(now)
    assert (start, end) == (datetime(2025, 1, 31, 21, tzinfo=UTC),
                            datetime(2025, 2, 28, 21, tzinfo=UTC))  # fmt: skip
    havana = LocalCalendar("America/Havana")  # clocks jump at midnight: the day starts at 01:00
    start, end = havana.day_bounds(datetime(2025, 3, 9, 12, tzinfo=UTC))
    assert (end - start) == timedelta(hours=23)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", None, "../etc/passwd"])
def test_unknown_zones_are_refused(zone: object) -> None:
    with pytest.raises(TimeZoneError):
        LocalCalendar(zone)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(TimeZoneError, match="timezone-aware"):
        LocalCalendar("UTC").day_bounds(datetime(2025, 1, 1))


# -- tariffs ---------------------------------------------------------------------------------


def test_prices_parse_exactly_and_refuse_excess_precision() -> None:
    assert UnitPrice.parse("2.54321", "ZAR").scaled == 2543210
    assert UnitPrice.parse("25", "UGX").scaled == 250000
    assert UnitPrice.parse("2.5432", "ZAR").format("ZAR") == "2.543200"
    refusals = [("2.5432111", "at most 6 decimal"), ("0", "above zero"), ("-1", "plain digits"),
                ("x", "plain digits"), ("inf", "plain digits"), ("2e1", "plain digits"),
                ("\uff12", "plain digits")]  # fmt: skip
    for text, message in refusals:
        with pytest.raises(TariffError, match=message):
            UnitPrice.parse(text, "ZAR")
    with pytest.raises(TariffError, match="positive integer"):
        UnitPrice(0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Tariff("t", "ZAR", ()), "at least one block"),
        (lambda: Tariff("t", "ZAR", (Block(10, UnitPrice(1)),)), "only the last block"),
        (lambda: Tariff("t", "ZAR", (Block(None, UnitPrice(1)), Block(None, UnitPrice(1)))),
         "only the last block"),
        (lambda: Tariff("t", "ZAR", (Block(10, UnitPrice(1)), Block(10, UnitPrice(1)),
                                     Block(None, UnitPrice(1)))), "must rise"),
        (lambda: Tariff("t", "ZAR", ("x",)), "Block objects"),
        (lambda: Tariff.flat("t", "ZAR", "1", tax_percent="15.555"), "2 decimal places"),
        (lambda: Tariff.flat("t", "ZAR", "1", tax_percent="x"), "plain digits"),
        (lambda: Tariff.flat("t", "ZAR", "1", tax_percent="inf"), "plain digits"),
        (lambda: Tariff.flat("t", "ZAR", "1", tax_percent="101"), "0 to 100 percent"),
        (lambda: Tariff.flat("t", "ZAR", "1", tax_percent=Decimal("Infinity")), "two decimal"),
        (lambda: Tariff.flat("t", "ZAR", "1", fixed_charge="1.001"), "fixed charge"),
        (lambda: Tariff.flat("t", "ZAR", "1", free_units=20009), "carried exactly"),
        (lambda: Tariff.flat("t", "ZAR", "1", free_units=-1), "free_units"),
        (lambda: Tariff.flat("t", "XYZ", "1"), "unknown currency"),
        (lambda: Tariff("t", "ZAR", (Block(None, UnitPrice(1)),), resource=9), "resource"),
    ],
)  # fmt: skip
def test_malformed_tariffs_are_refused(build: object, message: str) -> None:
    with pytest.raises((TariffError, MoneyError), match=message):
        build()  # type: ignore[operator]


def test_block_ranges() -> None:
    tariff = Tariff.inclining("t", "ZAR", [(500, "1"), (3500, "2"), (None, "3")])
    assert [(a, b) for a, b, _ in tariff.block_ranges()] == [(0, 500), (500, 3500), (3500, None)]
    assert not tariff.is_flat and Tariff.flat("f", "ZAR", "1").is_flat


# -- vend limits -----------------------------------------------------------------------------

LIMITS = VendLimits.parse("ZAR", minimum="10", maximum="2000", daily_maximum="3000")


def zar(text: str) -> Money:
    return Money.parse(text, "ZAR")


def test_amounts_within_limits_pass_and_say_what_is_left_today() -> None:
    for amount, left in (("10", "2990"), ("2000", "1000"), ("999.99", "2000.01")):
        assert check_vend_amount(zar(amount), LIMITS, vended_today=zar("0")) == zar(left)
    assert check_vend_amount(zar("1000"), LIMITS, vended_today=zar("2000")) == zar("0")


@pytest.mark.parametrize(
    ("amount", "today", "error", "message"),
    [("9.99", "0", AmountTooSmall, "below this meter's minimum vend of ZAR 10.00"),
     ("2000.01", "0", AmountTooLarge, "above this meter's maximum vend of ZAR 2000.00"),
     ("1000.01", "2000", DailyLimitExceeded, r"ZAR 1000.00 left today"),
     ("100", "3500", DailyLimitExceeded, r"ZAR 0.00 left today")],
)  # fmt: skip
def test_limit_refusals(amount: str, today: str, error: type[StsError], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        check_vend_amount(zar(amount), LIMITS, vended_today=zar(today))
    assert info.value.code in ("amount_too_small", "amount_too_large", "daily_limit")


def test_no_daily_limit() -> None:
    limits = VendLimits.parse("ZAR", minimum="1", maximum="10")
    assert check_vend_amount(zar("10"), limits, vended_today=zar("100000")) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"minimum": "0", "maximum": "1"}, {"minimum": "5", "maximum": "4"},
     {"minimum": "1", "maximum": "10", "daily_maximum": "9"}],
)  # fmt: skip
def test_malformed_limits_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(MoneyError):
        VendLimits.parse("ZAR", **kwargs)


def test_limits_in_one_currency() -> None:
    with pytest.raises(MoneyError, match="one currency"):
        VendLimits(Money(1, "ZAR"), Money(5, "KES"))
