"""The sale breakdown: money in → fixed charge, repayments, energy per block → units.

The deduction order and rounding rules (``docs/tariffs.md`` has the table and worked examples):

====  ==========================  ==========================================================
step  line                        rule
====  ==========================  ==========================================================
0     money available             tendered + credit brought forward (earlier remainders)
1     fixed charge                the month's fixed charge, on its first purchase; the
                                  purchase must cover it (else AmountTooSmall)
2     emergency credit repayment  min(owed, ⌊money left × repayment share⌋)
3     debt recovery               min(arrears, ⌊money left × recovery rate⌋)
4     energy, per block           units = the most the money left buys, blocks counted from
                                  the month's units; free units added once a month; the total
                                  rounded DOWN to a value a token carries exactly
                                  (``sts.encodable_at_most``); each block's charge rounded
                                  DOWN to the minor unit
5     credit carried forward      everything not charged: kept on the account, added to the
                                  next purchase (step 0); not one cent is lost
--    tax (memo)                  VAT contained in the fixed charge and energy lines,
                                  ⌊x·t/(1+t)⌉ rounded half up; not a deduction (prices
                                  include VAT)
====  ==========================  ==========================================================

Invariant: ``tendered + brought_forward == sum(line amounts) + carried_forward``, exactly.

>>> from stsvend.vending.tariff import Tariff
>>> from stsvend.vending.money import Money
>>> from stsvend.vending.account import AccountState, MonthToDate
>>> tariff = Tariff.flat("Flat", "ZAR", "2.00", tax_percent="15")
>>> sale = compute_sale(Money.parse("100", "ZAR"), tariff, MonthToDate(), AccountState("ZAR"))
>>> sale.units, str(sale.tax), str(sale.carried_forward)
(500, 'ZAR 13.04', 'ZAR 0.00')
"""

from __future__ import annotations

import enum

from attrs import evolve, frozen

from stsvend import sts
from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.emergency import EmergencyCreditPolicy
from stsvend.vending.errors import AmountTooLarge, AmountTooSmall, MoneyError, TariffError
from stsvend.vending.money import Money, round_half_up_div
from stsvend.vending.pricing import affordable_tenths, price_tenths
from stsvend.vending.tariff import Tariff, UnitPrice

__all__ = ["LineKind", "SaleBreakdown", "SaleLine", "amount_for_units", "compute_sale"]

_DEFAULT_EMERGENCY = EmergencyCreditPolicy()
# The largest tendered amount the trial search will consider (10**13 minor units).
_SEARCH_CAP = 10**13


class LineKind(enum.Enum):
    """The kinds of receipt lines, in deduction order."""

    FIXED_CHARGE = "fixed_charge"
    EMERGENCY_REPAYMENT = "emergency_repayment"
    DEBT_RECOVERY = "debt_recovery"
    ENERGY = "energy"
    FREE_UNITS = "free_units"


@frozen
class SaleLine:
    """One receipt line: its money (VAT included where taxable) and, for energy, its units."""

    kind: LineKind
    amount: Money
    units: int = 0
    #: 1-based block number of an energy line.
    block: int | None = None
    price: UnitPrice | None = None

    @property
    def taxable(self) -> bool:
        return self.kind in (LineKind.FIXED_CHARGE, LineKind.ENERGY)


@frozen
class SaleBreakdown:
    """Every figure of one sale (or trial): the receipt lines, the units, the states after."""

    tariff_name: str
    tendered: Money
    brought_forward: Money
    lines: tuple[SaleLine, ...]
    carried_forward: Money
    #: VAT contained in the taxable lines (a memo: already inside their amounts).
    tax: Money
    tax_bp: int
    units_paid: int
    units_free: int
    account_before: AccountState
    account_after: AccountState
    month_before: MonthToDate
    month_after: MonthToDate

    @property
    def currency(self) -> str:
        return self.tendered.currency

    @property
    def units(self) -> int:
        """Units on the token (STS tenths): paid plus free, always encodable exactly."""
        return self.units_paid + self.units_free

    @property
    def issues_token(self) -> bool:
        """False when the whole purchase went to charges and repayments (no units)."""
        return self.units > 0

    def total(self, kind: LineKind) -> Money:
        """The money of every line of one kind."""
        return Money(sum(line.amount.minor for line in self.lines if line.kind is kind),
                     self.currency)  # fmt: skip

    @property
    def charged(self) -> Money:
        """Money taken by the lines (everything but the credit carried forward)."""
        return Money(sum(line.amount.minor for line in self.lines), self.currency)


def _check_currency(amount: Money, tariff: Tariff, account: AccountState) -> None:
    if not isinstance(amount, Money):
        raise MoneyError("the amount must be Money")
    if amount.currency != tariff.currency or account.currency != tariff.currency:
        raise TariffError(
            f"currencies differ: amount {amount.currency}, tariff {tariff.currency}, "
            f"account {account.currency}"
        )


def compute_sale(
    amount: Money,
    tariff: Tariff,
    month: MonthToDate,
    account: AccountState,
    *,
    emergency: EmergencyCreditPolicy = _DEFAULT_EMERGENCY,
) -> SaleBreakdown:
    """The breakdown of a purchase of ``amount`` (see the table above)."""
    _check_currency(amount, tariff, account)
    cur = tariff.currency
    if amount.minor <= 0:
        raise AmountTooSmall(f"the amount must be above zero, got {amount}")
    left = amount.minor + account.credit_balance
    lines: list[SaleLine] = []

    fixed = 0
    if tariff.fixed_charge and not month.fixed_charge_paid:
        fixed = tariff.fixed_charge
        if left < fixed:
            raise AmountTooSmall(
                f"the month's first purchase must cover the fixed charge of {Money(fixed, cur)}"
            )
        left -= fixed
        lines.append(SaleLine(LineKind.FIXED_CHARGE, Money(fixed, cur)))

    repaid = min(account.emergency_debt, left * emergency.repayment_bp // 10_000)
    if repaid:
        left -= repaid
        lines.append(SaleLine(LineKind.EMERGENCY_REPAYMENT, Money(repaid, cur)))

    recovered = min(account.debt, left * account.debt_recovery_bp // 10_000)
    if recovered:
        left -= recovered
        lines.append(SaleLine(LineKind.DEBT_RECOVERY, Money(recovered, cur)))

    free = 0 if month.free_units_issued else tariff.free_units
    wanted = affordable_tenths(tariff, month.units, left) + free
    if wanted > sts.AMOUNT_MAX:
        raise AmountTooLarge(
            f"{amount} buys {wanted / 10:.1f} units, more than one token carries "
            f"({sts.AMOUNT_MAX / 10:.1f}); sell it as several purchases"
        )
    total = sts.encodable_at_most(wanted)
    # Free units are encodable on their own (the tariff checks), so total >= free here.
    paid = total - free
    energy = 0
    for charge in price_tenths(tariff, month.units, paid):
        energy += charge.amount
        lines.append(SaleLine(LineKind.ENERGY, Money(charge.amount, cur), charge.units,
                              charge.block, charge.price))  # fmt: skip
    if free:
        lines.append(SaleLine(LineKind.FREE_UNITS, Money(0, cur), free))
    carried = left - energy

    tax = round_half_up_div((fixed + energy) * tariff.tax_bp, 10_000 + tariff.tax_bp)
    return SaleBreakdown(
        tariff_name=tariff.name,
        tendered=amount,
        brought_forward=Money(account.credit_balance, cur),
        lines=tuple(lines),
        carried_forward=Money(carried, cur),
        tax=Money(tax, cur),
        tax_bp=tariff.tax_bp,
        units_paid=paid,
        units_free=free,
        account_before=account,
        account_after=evolve(
            account,
            credit_balance=carried,
            debt=account.debt - recovered,
            emergency_debt=account.emergency_debt - repaid,
        ),
        month_before=month,
        month_after=MonthToDate(
            units=month.units + paid,
            fixed_charge_paid=month.fixed_charge_paid or fixed > 0,
            free_units_issued=month.free_units_issued or free > 0,
        ),
    )


def _units_for(
    minor: int,
    tariff: Tariff,
    month: MonthToDate,
    account: AccountState,
    emergency: EmergencyCreditPolicy,
) -> int | None:
    """Units a tendered amount buys; None when it is too small, -1 when too large."""
    try:
        return compute_sale(Money(minor, tariff.currency), tariff, month, account,
                            emergency=emergency).units  # fmt: skip
    except AmountTooSmall:
        return None
    except AmountTooLarge:
        return -1


def amount_for_units(
    units: int,
    tariff: Tariff,
    month: MonthToDate,
    account: AccountState,
    *,
    emergency: EmergencyCreditPolicy = _DEFAULT_EMERGENCY,
) -> SaleBreakdown:
    """The trial vend "how much for N units": the smallest purchase whose token has ≥ N units.

    Units are STS tenths.  The answer is exact (a search over the monotonic sale function);
    its token may carry slightly more than N where N itself is not encodable.

    >>> from stsvend.vending.tariff import Tariff
    >>> from stsvend.vending.account import AccountState, MonthToDate
    >>> tariff = Tariff.flat("Flat", "ZAR", "2.00")
    >>> str(amount_for_units(505, tariff, MonthToDate(), AccountState("ZAR")).tendered)
    'ZAR 101.00'
    """
    if type(units) is not int or not 1 <= units <= sts.AMOUNT_MAX:
        raise AmountTooLarge(f"a token carries 0.1 to {sts.AMOUNT_MAX / 10:.1f} units")
    _check_currency(Money(1, tariff.currency), tariff, account)

    def enough(minor: int) -> bool:
        got = _units_for(minor, tariff, month, account, emergency)
        return got is not None and (got == -1 or got >= units)

    high = 1
    while not enough(high):
        high *= 2
        if high > _SEARCH_CAP:
            raise AmountTooLarge(f"no purchase up to {Money(_SEARCH_CAP, tariff.currency)} buys it")
    low = high // 2  # not enough (or 0)
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    sale = _units_for(high, tariff, month, account, emergency)
    if sale == -1:
        raise AmountTooLarge(f"{units / 10:.1f} units do not fit one token at this tariff")
    return compute_sale(Money(high, tariff.currency), tariff, month, account, emergency=emergency)
