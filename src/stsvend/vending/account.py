"""What a sale needs to know about an account, and what it leaves behind.

:class:`AccountState` is carried from sale to sale (a credit balance of rounding remainders,
arrears with their recovery rate, emergency credit still owed); :class:`MonthToDate` is what the
local calendar month has seen so far (units for the blocks, fixed charge, free units).  The
store keeps both; the domain only computes the next value.

>>> AccountState("ZAR", debt=10_000, debt_recovery_bp=2_000).debt_money
Money(minor=10000, currency='ZAR')
>>> MonthToDate().units
0
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from stsvend.vending.errors import VendingError
from stsvend.vending.money import Money, currency_digits

__all__ = ["AccountState", "MonthToDate"]


def _amount(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise VendingError(f"account amounts are non-negative integer minor units, got {value!r}")
    return value


def _bp(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= 10_000:
        raise VendingError(f"a recovery rate is 0..10000 basis points, got {value!r}")
    return value


def _currency(value: Any) -> str:
    currency_digits(value)
    return str(value)


def _units(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise VendingError(f"month units are a non-negative integer of tenths, got {value!r}")
    return value


@frozen
class AccountState:
    """An account's balances between sales (all in minor units of ``currency``)."""

    currency: str = field(converter=_currency)
    #: Money kept for the customer: the remainder of earlier sales (carried into the next).
    credit_balance: int = field(default=0, converter=_amount)
    #: Arrears still to recover.
    debt: int = field(default=0, converter=_amount)
    #: Share of each purchase that recovers arrears, in basis points (2000 = 20 %).
    debt_recovery_bp: int = field(default=0, converter=_bp)
    #: Emergency credit issued and not yet repaid.
    emergency_debt: int = field(default=0, converter=_amount)

    @property
    def credit_money(self) -> Money:
        return Money(self.credit_balance, self.currency)

    @property
    def debt_money(self) -> Money:
        return Money(self.debt, self.currency)

    @property
    def emergency_money(self) -> Money:
        return Money(self.emergency_debt, self.currency)


@frozen
class MonthToDate:
    """The local calendar month so far, for one account.

    ``units`` counts the STS tenths bought (and emergency credit issued) this month: the
    inclining blocks start from it.  Free units are not counted.
    """

    units: int = field(default=0, converter=_units)
    fixed_charge_paid: bool = False
    free_units_issued: bool = False
