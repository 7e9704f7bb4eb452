"""Properties of the sale breakdown: exact money, encodable units, monotonic, block bounds."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stsvend import sts
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
    affordable_tenths,
    amount_for_units,
    compute_sale,
)
from stsvend.vending.money import round_half_up_div
from stsvend.vending.pricing import COST_SCALE
from tests.vending.strategies import accounts, amounts, months, policies, tariffs


def _sale(
    minor: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> SaleBreakdown | None:  # fmt: skip
    try:
        return compute_sale(Money(minor, "ZAR"), tariff, month, account, emergency=policy)
    except (AmountTooSmall, AmountTooLarge):
        return None


@settings(max_examples=300)
@given(amounts, tariffs(), months, accounts, policies)
def test_money_in_equals_the_lines_exactly(
    minor: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> None:  # fmt: skip
    sale = _sale(minor, tariff, month, account, policy)
    assume(sale is not None)
    assert sale is not None
    assert minor + account.credit_balance == sale.charged.minor + sale.carried_forward.minor
    assert all(line.amount.minor >= 0 for line in sale.lines)
    assert sale.carried_forward.minor >= 0
    # The account's balances move by exactly the lines.
    after = sale.account_after
    assert account.debt - after.debt == sale.total(LineKind.DEBT_RECOVERY).minor
    assert (account.emergency_debt - after.emergency_debt
            == sale.total(LineKind.EMERGENCY_REPAYMENT).minor)  # fmt: skip
    assert after.credit_balance == sale.carried_forward.minor


@settings(max_examples=300)
@given(amounts, tariffs(), months, accounts, policies)
def test_units_are_encodable_and_the_token_carries_them(
    minor: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> None:  # fmt: skip
    sale = _sale(minor, tariff, month, account, policy)
    assume(sale is not None)
    assert sale is not None
    assert sts.encodable_at_most(sale.units) == sale.units
    assert sts.decode_amount(sts.encode_amount(sale.units)) == sale.units
    assert sale.units_paid == sum(line.units for line in sale.lines if line.kind is LineKind.ENERGY)
    assert sale.units_free == (0 if month.free_units_issued else tariff.free_units)


@settings(max_examples=300)
@given(amounts, tariffs(), months, accounts, policies)
def test_energy_lines_respect_blocks_and_prices(
    minor: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> None:  # fmt: skip
    sale = _sale(minor, tariff, month, account, policy)
    assume(sale is not None)
    assert sale is not None
    ranges = tariff.block_ranges()
    position = month.units
    energy = [line for line in sale.lines if line.kind is LineKind.ENERGY]
    assert [line.block for line in energy] == sorted(line.block or 0 for line in energy)
    for line in energy:
        assert line.block is not None and line.price is not None
        start, up_to, price = ranges[line.block - 1]
        assert line.price == price
        assert max(position, start) + line.units <= (up_to if up_to is not None else 10**12)
        assert line.amount.minor == line.units * price.scaled // COST_SCALE
        position = max(position, start) + line.units
    assert sale.month_after.units == month.units + sale.units_paid


@settings(max_examples=300)
@given(amounts, tariffs(), months, accounts, policies)
def test_the_remainder_could_not_buy_the_next_encodable_amount(
    minor: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> None:  # fmt: skip
    sale = _sale(minor, tariff, month, account, policy)
    assume(sale is not None)
    assert sale is not None
    energy_money = sale.total(LineKind.ENERGY).minor + sale.carried_forward.minor
    could = affordable_tenths(tariff, month.units, energy_money) + sale.units_free
    next_encodable = sts.decode_amount(sts.encode_amount(min(sale.units + 1, sts.AMOUNT_MAX)))
    assert sale.units <= could < next_encodable or sale.units == sts.AMOUNT_MAX


@settings(max_examples=300)
@given(amounts, tariffs(), months, accounts, policies)
def test_tax_is_the_vat_contained_in_the_taxable_lines(
    minor: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> None:  # fmt: skip
    sale = _sale(minor, tariff, month, account, policy)
    assume(sale is not None)
    assert sale is not None
    taxable = sum(line.amount.minor for line in sale.lines if line.taxable)
    assert sale.tax.minor == round_half_up_div(taxable * tariff.tax_bp, 10_000 + tariff.tax_bp)
    assert 0 <= sale.tax.minor <= taxable


@settings(max_examples=300)
@given(amounts, st.integers(1, 20_000), tariffs(), months, accounts, policies)
def test_more_money_never_buys_fewer_units(
    minor: int, extra: int, tariff: Tariff, month: MonthToDate, account: AccountState,
    policy: EmergencyCreditPolicy,
) -> None:  # fmt: skip
    smaller = _sale(minor, tariff, month, account, policy)
    larger = _sale(minor + extra, tariff, month, account, policy)
    assume(smaller is not None and larger is not None)
    assert smaller is not None and larger is not None
    assert larger.units >= smaller.units
    assert larger.charged.minor >= smaller.charged.minor


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 100_000), tariffs(), months, accounts)
def test_trial_finds_the_smallest_amount(
    units: int, tariff: Tariff, month: MonthToDate, account: AccountState
) -> None:
    try:
        trial = amount_for_units(units, tariff, month, account)
    except AmountTooLarge:
        return
    assert trial.units >= units
    if trial.tendered.minor > 1:
        before = _sale(trial.tendered.minor - 1, tariff, month, account, EmergencyCreditPolicy())
        assert before is None or before.units < units


@settings(max_examples=200)
@given(st.lists(amounts, min_size=2, max_size=6), tariffs(), accounts)
def test_a_month_of_purchases_loses_no_money(
    purchases: list[int], tariff: Tariff, account: AccountState
) -> None:
    month = MonthToDate()
    tendered = charged = 0
    start_credit = account.credit_balance
    for minor in purchases:
        sale = _sale(minor, tariff, month, account, EmergencyCreditPolicy())
        if sale is None:
            continue
        tendered += minor
        charged += sale.charged.minor
        month, account = sale.month_after, sale.account_after
    assert start_credit + tendered == charged + account.credit_balance
    assert month.units >= 0


@settings(max_examples=200)
@given(st.integers(1, 8_191), st.integers(1, 8_191))
def test_blocks_count_across_purchases(first: int, second: int) -> None:
    # Two purchases in a month cost what one purchase of the same units would (band 0, exact
    # prices of whole cents per tenth): blocks do not restart with each purchase.
    tariff = Tariff.inclining("Steps", "ZAR", [(1000, "1.00"), (5000, "2.00"), (None, "3.00")])
    one = amount_for_units(first, tariff, MonthToDate(), AccountState("ZAR"))
    assume(one.units == first)
    two = amount_for_units(second, tariff, one.month_after, one.account_after)
    both = amount_for_units(first + two.units, tariff, MonthToDate(), AccountState("ZAR"))
    assert one.charged + two.charged == both.charged
