"""The worked examples of docs/tariffs.md, computed by hand there, checked here."""

from __future__ import annotations

import pytest

from stsvend.vending import (
    AccountState,
    AmountTooLarge,
    AmountTooSmall,
    EmergencyCreditPolicy,
    LineKind,
    Money,
    MonthToDate,
    SaleBreakdown,
    Tariff,
    TariffError,
    amount_for_units,
    compute_sale,
    grant_emergency_credit,
)

DOMESTIC = Tariff.inclining("Domestic", "ZAR", [(500, "1.50"), (3500, "2.00"), (None, "2.75")],
                            tax_percent="15", fixed_charge="20.00")  # fmt: skip
FLAT_2 = Tariff.flat("Flat", "ZAR", "2.00", tax_percent="15")


def zar(text: str) -> Money:
    return Money.parse(text, "ZAR")


def lines(sale: SaleBreakdown) -> list[tuple[str, int | None, int, str]]:
    return [(line.kind.value, line.block, line.units, line.amount.format()) for line in sale.lines]


def balanced(sale: SaleBreakdown) -> bool:
    left = sale.tendered.minor + sale.brought_forward.minor
    return left == sale.charged.minor + sale.carried_forward.minor


def test_example_1_first_purchase_of_the_month() -> None:
    sale = compute_sale(zar("200"), DOMESTIC, MonthToDate(), AccountState("ZAR"))
    assert lines(sale) == [("fixed_charge", None, 0, "20.00"), ("energy", 1, 500, "75.00"),
                           ("energy", 2, 525, "105.00")]  # fmt: skip
    assert (sale.units, sale.tax, sale.carried_forward) == (1025, zar("26.09"), zar("0"))
    assert sale.month_after == MonthToDate(units=1025, fixed_charge_paid=True)
    assert sale.total(LineKind.ENERGY) == zar("180.00") and balanced(sale)


def test_example_2_second_purchase_with_arrears() -> None:
    month = MonthToDate(units=1025, fixed_charge_paid=True)
    account = AccountState("ZAR", credit_balance=13, debt=30_000, debt_recovery_bp=1000)
    sale = compute_sale(zar("50"), DOMESTIC, month, account)
    assert lines(sale) == [("debt_recovery", None, 0, "5.01"), ("energy", 2, 225, "45.00")]
    assert (sale.units, sale.tax, sale.carried_forward) == (225, zar("5.87"), zar("0.12"))
    assert sale.brought_forward == zar("0.13")
    assert sale.account_after == AccountState("ZAR", credit_balance=12, debt=29_499,
                                              debt_recovery_bp=1000)  # fmt: skip
    assert balanced(sale)


def test_example_3_rounding_down_to_an_encodable_amount() -> None:
    sale = compute_sale(zar("2000.05"), Tariff.flat("Flat", "ZAR", "1.00"), MonthToDate(),
                        AccountState("ZAR"))  # fmt: skip
    assert lines(sale) == [("energy", 1, 19994, "1999.40")]
    assert (sale.units, sale.carried_forward, sale.tax) == (19994, zar("0.65"), zar("0"))
    assert sale.account_after.credit_balance == 65


def test_example_4_free_basic_units() -> None:
    indigent = Tariff.flat("Indigent", "ZAR", "1.80", tax_percent="15", free_units=500)
    sale = compute_sale(zar("20"), indigent, MonthToDate(), AccountState("ZAR"))
    assert lines(sale) == [("energy", 1, 111, "19.98"), ("free_units", None, 500, "0.00")]
    assert (sale.units, sale.units_paid, sale.units_free) == (611, 111, 500)
    assert (sale.carried_forward, sale.tax) == (zar("0.02"), zar("2.61"))
    assert sale.month_after == MonthToDate(units=111, free_units_issued=True)
    again = compute_sale(zar("20"), indigent, sale.month_after, sale.account_after)
    assert again.units_free == 0 and again.units == 111  # R 20.02 buys 111 tenths


def test_example_5_emergency_credit_and_its_repayment() -> None:
    grant = grant_emergency_credit(EmergencyCreditPolicy(units=100), FLAT_2, MonthToDate(),
                                   AccountState("ZAR"))  # fmt: skip
    assert (grant.units, grant.debt, grant.tax) == (100, zar("20.00"), zar("2.61"))
    assert grant.month_after.units == 100
    full = compute_sale(zar("50"), FLAT_2, grant.month_after, grant.account_after)
    assert lines(full) == [("emergency_repayment", None, 0, "20.00"), ("energy", 1, 150, "30.00")]
    assert full.tax == zar("3.91") and full.account_after.emergency_debt == 0
    half = compute_sale(zar("30"), FLAT_2, grant.month_after, grant.account_after,
                        emergency=EmergencyCreditPolicy(units=100, repayment_bp=5000))  # fmt: skip
    assert lines(half) == [("emergency_repayment", None, 0, "15.00"), ("energy", 1, 75, "15.00")]
    assert half.account_after.emergency_debt == 500


def test_example_6_trial_how_much_for_100_kwh() -> None:
    trial = amount_for_units(1000, DOMESTIC, MonthToDate(), AccountState("ZAR"))
    assert trial.tendered == zar("195.00") and trial.units == 1000
    assert compute_sale(zar("194.99"), DOMESTIC, MonthToDate(), AccountState("ZAR")).units == 999


def test_example_7_kenya() -> None:
    kenya = Tariff.inclining("Domestic KES", "KES", [(300, "12.50"), (None, "16.00")],
                             tax_percent="16")  # fmt: skip
    sale = compute_sale(Money.parse("1000", "KES"), kenya, MonthToDate(units=250),
                        AccountState("KES"))  # fmt: skip
    assert lines(sale) == [("energy", 1, 50, "62.50"), ("energy", 2, 585, "936.00")]
    assert (sale.units, sale.carried_forward.format(), sale.tax.format()) == (635, "1.50", "137.72")


def test_a_first_purchase_below_the_fixed_charge_is_refused() -> None:
    with pytest.raises(AmountTooSmall, match=r"fixed charge of ZAR 20\.00"):
        compute_sale(zar("15"), DOMESTIC, MonthToDate(), AccountState("ZAR"))
    # The credit brought forward counts toward it.
    sale = compute_sale(zar("15"), DOMESTIC, MonthToDate(), AccountState("ZAR", credit_balance=500))
    assert sale.lines[0].kind is LineKind.FIXED_CHARGE and sale.units == 0
    assert not sale.issues_token


def test_zero_and_negative_amounts_are_refused() -> None:
    for amount in (zar("0"), Money(-100, "ZAR")):
        with pytest.raises(AmountTooSmall, match="above zero"):
            compute_sale(amount, FLAT_2, MonthToDate(), AccountState("ZAR"))


def test_more_than_one_token_carries_is_refused() -> None:
    with pytest.raises(AmountTooLarge, match="more than one token carries"):
        compute_sale(zar("10000000"), Tariff.flat("Cheap", "ZAR", "0.01"), MonthToDate(),
                     AccountState("ZAR"))  # fmt: skip


def test_currencies_must_agree() -> None:
    with pytest.raises(TariffError, match="currencies differ"):
        compute_sale(Money.parse("10", "KES"), FLAT_2, MonthToDate(), AccountState("ZAR"))
    with pytest.raises(TariffError, match="currencies differ"):
        compute_sale(zar("10"), FLAT_2, MonthToDate(), AccountState("KES"))


def test_a_purchase_wholly_taken_by_arrears_issues_no_token() -> None:
    account = AccountState("ZAR", debt=10_000, debt_recovery_bp=10_000)
    sale = compute_sale(zar("50"), FLAT_2, MonthToDate(), account)
    assert lines(sale) == [("debt_recovery", None, 0, "50.00")]
    assert not sale.issues_token and sale.tax == zar("0")


def test_trial_refusals() -> None:
    with pytest.raises(AmountTooLarge):
        amount_for_units(0, FLAT_2, MonthToDate(), AccountState("ZAR"))
    with pytest.raises(AmountTooLarge, match="no purchase up to"):
        amount_for_units(100, FLAT_2, MonthToDate(),
                         AccountState("ZAR", debt=10**15, debt_recovery_bp=10_000))  # fmt: skip
    with pytest.raises(TariffError):
        amount_for_units(100, FLAT_2, MonthToDate(), AccountState("KES"))


def test_trial_for_a_value_no_token_carries_exactly_rounds_up() -> None:
    flat = Tariff.flat("Flat", "ZAR", "1.00")
    trial = amount_for_units(20001, flat, MonthToDate(), AccountState("ZAR"))
    assert trial.units == 20004 and trial.tendered == zar("2000.40")


def test_trial_with_free_units_only() -> None:
    indigent = Tariff.flat("Indigent", "ZAR", "1.80", free_units=500)
    trial = amount_for_units(400, indigent, MonthToDate(), AccountState("ZAR"))
    assert trial.tendered == zar("0.01") and trial.units == 500
