"""Emergency credit: units issued now as a token, recorded as a debt repaid by later purchases.

The policy (``docs/tariffs.md``, "Emergency credit"):

* a grant gives a fixed number of units (``EmergencyCreditPolicy.units``, e.g. 10 kWh), as a
  normal credit token;
* its debt is what those units cost at the tariff, at the account's place in the month's blocks
  (VAT included, like any energy) — the units count toward the month's blocks;
* one grant at a time: no new grant while any of the last one is unpaid;
* later purchases repay it first, after the month's fixed charge: ``repayment_bp`` of the money
  left (10 000 = all of it, the default) until it is repaid.

>>> from stsvend.vending.tariff import Tariff
>>> from stsvend.vending.account import AccountState, MonthToDate
>>> tariff = Tariff.flat("Flat", "ZAR", "2.00", tax_percent="15")
>>> grant = grant_emergency_credit(EmergencyCreditPolicy(units=100), tariff, MonthToDate(),
...                                AccountState("ZAR"))
>>> grant.units, str(grant.debt), grant.account_after.emergency_debt, grant.month_after.units
(100, 'ZAR 20.00', 2000, 100)
"""

from __future__ import annotations

from typing import Any

from attrs import evolve, field, frozen

from stsvend import sts
from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.errors import EmergencyCreditError
from stsvend.vending.money import Money, round_half_up_div
from stsvend.vending.pricing import BlockCharge, price_tenths
from stsvend.vending.tariff import Tariff

__all__ = ["EmergencyCreditPolicy", "EmergencyGrant", "grant_emergency_credit"]


def _grant_units(value: Any) -> int:
    if type(value) is not int or value < 0 or sts.encodable_at_most(value) != value:
        raise EmergencyCreditError(
            f"emergency units must be a non-negative integer a token carries exactly, got {value!r}"
        )
    return value


def _bp(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= 10_000:
        raise EmergencyCreditError(f"repayment share is 1..10000 basis points, got {value!r}")
    return value


@frozen
class EmergencyCreditPolicy:
    """How much emergency credit a grant gives, and how later purchases repay it."""

    #: Units per grant, in STS tenths (100 = 10 kWh); 0 means no emergency credit.
    units: int = field(default=0, converter=_grant_units)
    #: Share of each later purchase (after the fixed charge) that repays it, basis points.
    repayment_bp: int = field(default=10_000, converter=_bp)


@frozen
class EmergencyGrant:
    """The outcome of a grant: the units for the token and the debt recorded for them."""

    units: int
    debt: Money
    #: The tax contained in the debt (prices include VAT).
    tax: Money
    charges: tuple[BlockCharge, ...]
    account_after: AccountState
    month_after: MonthToDate


def grant_emergency_credit(
    policy: EmergencyCreditPolicy,
    tariff: Tariff,
    month: MonthToDate,
    account: AccountState,
) -> EmergencyGrant:
    """Grant emergency credit under ``policy``; refuses when none is due or some is unpaid."""
    if policy.units == 0:
        raise EmergencyCreditError("this account's policy gives no emergency credit")
    if account.emergency_debt > 0:
        raise EmergencyCreditError(
            f"emergency credit of {account.emergency_money} is still unpaid: "
            "a new grant waits until it is repaid"
        )
    if account.currency != tariff.currency:
        raise EmergencyCreditError(
            f"the account is in {account.currency}, the tariff in {tariff.currency}"
        )
    charges = price_tenths(tariff, month.units, policy.units)
    debt = sum(c.amount for c in charges)
    tax = round_half_up_div(debt * tariff.tax_bp, 10_000 + tariff.tax_bp)
    return EmergencyGrant(
        units=policy.units,
        debt=Money(debt, tariff.currency),
        tax=Money(tax, tariff.currency),
        charges=charges,
        account_after=evolve(account, emergency_debt=debt),
        month_after=evolve(month, units=month.units + policy.units),
    )
