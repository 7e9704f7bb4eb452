"""The parts of a sale's answer that describe things: the meter, the money, the account.

These documents are stored with the sale (a repeated request id and a reprint show them again),
so their keys are part of the stored answer's shape.

>>> from stsvend.vending.account import AccountState, MonthToDate
>>> state_doc(AccountState("USD", credit_balance=0, debt=250), MonthToDate())["account"]
{'credit_balance': 0, 'debt': 250, 'emergency_debt': 0}
"""

from __future__ import annotations

from typing import Any

from stsvend import sts
from stsvend.services.common import MeterContext
from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.errors import TariffError
from stsvend.vending.money import Money
from stsvend.vending.sale import SaleBreakdown
from stsvend.vending.tariff import Tariff

__all__ = ["UNIT_NAMES", "breakdown_doc", "check_resource", "meter_doc", "money_of", "state_doc"]

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


def meter_doc(ctx: MeterContext) -> dict[str, Any]:
    """The meter as a receipt names it, under the key its tokens are made with."""
    data = ctx.token_key_data
    return {
        "drn": ctx.meter.drn,
        "iin": ctx.meter.iin,
        "resource": sts.Resource(ctx.meter.resource).name.lower(),
        "sgc": f"{data.sgc:06d}",
        "krn": data.krn,
        "ti": data.ti,
        "key_type": int(data.key_type),
        "ea": data.ea.value,
        "base_date": int(data.base_date),
    }


def breakdown_doc(sale: SaleBreakdown) -> dict[str, Any]:
    """Where the money went, in minor units (prices formatted in the sale's currency)."""
    return {
        "currency": sale.currency,
        "tendered": sale.tendered.minor,
        "brought_forward": sale.brought_forward.minor,
        "lines": [
            {
                "kind": line.kind.value,
                "amount": line.amount.minor,
                "units": line.units,
                "block": line.block,
                "price": None if line.price is None else line.price.format(sale.currency),
            }
            for line in sale.lines
        ],
        "tax": sale.tax.minor,
        "tax_bp": sale.tax_bp,
        "carried_forward": sale.carried_forward.minor,
    }


def state_doc(account: AccountState, month: MonthToDate) -> dict[str, Any]:
    """The account and month counters before a sale (what a reversal puts back)."""
    return {
        "account": {
            "credit_balance": account.credit_balance,
            "debt": account.debt,
            "emergency_debt": account.emergency_debt,
        },
        "month": {
            "units": month.units,
            "fixed_charge_paid": month.fixed_charge_paid,
            "free_units_issued": month.free_units_issued,
        },
    }


def check_resource(tariff: Tariff, ctx: MeterContext) -> None:
    """Refuse a tariff made for another resource than the meter measures."""
    if int(tariff.resource) != ctx.meter.resource:
        raise TariffError(
            f"the account's tariff is for {tariff.resource.name.lower()}, the meter measures "
            f"{sts.Resource(ctx.meter.resource).name.lower()}"
        )
