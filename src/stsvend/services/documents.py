"""The parts of a sale's answer that describe things: the meter, the money, the account.

These documents are stored with the sale (a repeated request id and a reprint show them again),
so their keys are part of the stored answer's shape.

>>> from stsvend.vending.account import AccountState, MonthToDate
>>> state_doc(AccountState("USD", credit_balance=0, debt=250), MonthToDate()).account
AccountCounters(credit_balance=0, debt=250, emergency_debt=0)
"""

from __future__ import annotations

from collections.abc import Sequence

from stsvend import sts
from stsvend.services.common import MeterContext
from stsvend.services.issue import Issued
from stsvend.services.receipt_model import (
    AccountCounters,
    Breakdown,
    BreakdownLine,
    MeterDoc,
    MonthCounters,
    StateBefore,
    TokenEntry,
)
from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.errors import TariffError
from stsvend.vending.money import Money
from stsvend.vending.sale import SaleBreakdown
from stsvend.vending.tariff import Tariff

__all__ = [
    "UNIT_NAMES",
    "breakdown_doc",
    "check_resource",
    "meter_doc",
    "money_of",
    "receipt_tokens",
    "state_doc",
    "token_entry",
]

#: The unit a meter of each resource counts in (amounts are tenths of it).
UNIT_NAMES = {
    sts.Resource.ELECTRICITY: "kWh",
    sts.Resource.WATER: "m³",
    sts.Resource.GAS: "m³",
    sts.Resource.TIME: "min",
}


def money_of(value: str | Money, currency: str) -> Money:
    """``value`` as Money (major units as text are parsed strictly)."""
    if isinstance(value, Money):
        return value
    return Money.parse(value, currency)


def meter_doc(ctx: MeterContext) -> MeterDoc:
    """The meter as a receipt names it, under the key its tokens are made with."""
    data = ctx.token_key_data
    return MeterDoc(
        drn=ctx.meter.drn,
        iin=ctx.meter.iin,
        resource=sts.Resource(ctx.meter.resource).name.lower(),
        sgc=f"{data.sgc:06d}",
        krn=data.krn,
        ti=data.ti,
        key_type=int(data.key_type),
        ea=data.ea.value,
        base_date=int(data.base_date),
    )


def breakdown_doc(sale: SaleBreakdown) -> Breakdown:
    """Where the money went, in minor units (prices formatted in the sale's currency)."""
    currency = sale.currency
    return Breakdown(
        currency=currency,
        tendered=sale.tendered.minor,
        brought_forward=sale.brought_forward.minor,
        lines=tuple(
            BreakdownLine(
                line.kind,
                line.amount.minor,
                line.units,
                line.block,
                None if line.price is None else line.price.format(currency),
            )
            for line in sale.lines
        ),
        tax=sale.tax.minor,
        tax_bp=sale.tax_bp,
        carried_forward=sale.carried_forward.minor,
    )


def state_doc(account: AccountState, month: MonthToDate) -> StateBefore:
    """The account and month counters before a sale (what a reversal puts back)."""
    return StateBefore(
        AccountCounters(account.credit_balance, account.debt, account.emergency_debt),
        MonthCounters(month.units, month.fixed_charge_paid, month.free_units_issued),
    )


def token_entry(token: Issued) -> TokenEntry:
    """A token as its receipt names it."""
    return TokenEntry(
        token.label,
        token.digits,
        token.token_class,
        token.subclass,
        token.purpose,
        token.tid,
        token.base_date,
        token.amount,
        token.sgc,
        token.krn,
        token.ti,
        token.kcv,
    )


def receipt_tokens(tokens: Sequence[Issued]) -> tuple[TokenEntry, ...]:
    """Tokens as a receipt lists them (key change tokens first, as given)."""
    return tuple(token_entry(token) for token in tokens)


def check_resource(tariff: Tariff, ctx: MeterContext) -> None:
    """Refuse a tariff made for another resource than the meter measures."""
    if int(tariff.resource) != ctx.meter.resource:
        raise TariffError(
            f"the account's tariff is for {tariff.resource.name.lower()}, the meter measures "
            f"{sts.Resource(ctx.meter.resource).name.lower()}"
        )
