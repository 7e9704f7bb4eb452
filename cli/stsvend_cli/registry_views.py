"""How the registry's records read for people: a meter, a tariff, a vend limit, and what to say
when an account is closed with money still on it.

>>> from stsvend.services.registry import Account
>>> print(*closing_warnings(Account("K-5", "C-5", 0, 12050, 0, 0, False), "ZAR"))
account K-5 was closed with arrears: debt ZAR 120.50; they are no longer recovered from ...
>>> from stsvend.services.tariffs import TariffView
>>> from stsvend.vending.emergency import EmergencyCreditPolicy
>>> tariff_row(TariffView("W", "Water", "ZAR", ((60, 10500000), (None, 14250000)), 1550, 0,
...                       60, 1, EmergencyCreditPolicy(0)))[2:]
['up to 6.0 m³: ZAR 10.50/m³, then ZAR 14.25/m³', '15.5%', 'ZAR 0.00', '6.0 m³', 'none']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stsvend.services.results import as_doc
from stsvend_cli.human import money_text, percent_from_bp, price_text, unit_name, units_text

if TYPE_CHECKING:
    from stsvend.services.registry import Account, Meter, MeterStatus
    from stsvend.services.tariffs import TariffView

__all__ = ["TARIFF_COLUMNS", "closing_warnings", "limit_text", "meter_rows", "tariff_row"]

TARIFF_COLUMNS = [
    "code", "name", "prices (VAT included)", "VAT", "fixed charge (monthly)",
    "free units (monthly)", "emergency credit",
]  # fmt: skip


def limit_text(meter: Meter, key: str, config: Any) -> str:
    """A meter's vend limit (``key``: ``min_vend``, ``max_vend`` or ``daily_limit``) in the
    currency, or the configured default it falls back to."""
    from stsvend.vending.money import Money

    value: int | None = getattr(meter, key)
    if value is not None:
        return money_text(value, config.currency)
    default = Money.parse(getattr(config, key), config.currency)
    return f"{money_text(default.minor, config.currency)} (default)"


def meter_rows(d: MeterStatus, config: Any) -> list[list[Any]]:
    """``meters show`` for people: money in the currency, limits named, the key change said."""
    currency = config.currency

    def limit(key: str) -> str:
        return limit_text(d, key, config)

    tids = ", ".join(f"{tid} (base date {base})" for base, tid in d.last_tids.items())
    rows: list[list[Any]] = [
        ["DRN", d.drn], ["IIN", d.iin], ["resource", f"{d.resource} ({unit_name(d.resource)})"],
        ["status", d.status], ["SGC", d.sgc], ["KRN", d.krn], ["TI", d.ti],
        ["key type", d.key_type], ["EA", d.ea], ["base date", d.base_date], ["KEN", d.ken],
        ["DKGA", d.dkga], ["minimum vend", limit("min_vend")],
        ["maximum vend", limit("max_vend")], ["daily limit", limit("daily_limit")],
        ["last TID", tids or "none"],
    ]  # fmt: skip
    account = d.account
    if account is None:
        rows.append(["account", "none"])
    else:
        rows += [
            ["contract", f"{account.contract} ({'open' if account.open else 'closed'})"],
            ["customer", account.customer],
            ["credit", money_text(account.credit_balance, currency)],
            ["debt", f"{money_text(account.debt, currency)}, recovered at "
                     f"{percent_from_bp(account.debt_recovery_bp)} of each purchase"],
            ["emergency credit owed", money_text(account.emergency_debt, currency)],
        ]  # fmt: skip
    change = d.key_change
    if change is None:
        rows.append(["key change", "none open"])
    else:
        target = as_doc(change.target)
        to = " ".join(f"{k.upper().replace('_', ' ')} {v}" for k, v in target.items())
        why = f" ({change.reason})" if change.reason else ""
        rows.append(["key change", f"{change.state.value} to {to}{why}"])
    return rows


def tariff_row(t: TariffView) -> list[str]:
    """One tariff in the order of :data:`TARIFF_COLUMNS`."""
    from stsvend.vending.tariff import UnitPrice

    unit, currency = unit_name(t.resource), t.currency
    parts = []
    for up, scaled in t.blocks:
        price = price_text(UnitPrice(scaled).format(currency), currency, unit)
        parts.append(price if up is None else f"up to {units_text(up, unit)}: {price}")
    grant = t.emergency
    if grant.units:
        repay = f", repaid at {percent_from_bp(grant.repayment_bp)} of purchases"
        emergency = f"{units_text(grant.units, unit)}{repay}"
    else:
        emergency = "none"
    return [
        t.code, t.name, (", then " if len(parts) > 1 else "").join(parts),
        percent_from_bp(t.tax_bp), money_text(t.fixed_charge, currency),
        units_text(t.free_units, unit), emergency,
    ]  # fmt: skip


def closing_warnings(account: Account, currency: str) -> list[str]:
    """What a person closing this account should know: arrears no purchase recovers any more,
    credit to refund."""
    out = []
    owed = [
        f"{what} {money_text(amount, currency)}"
        for amount, what in (
            (account.debt, "debt"), (account.emergency_debt, "emergency credit not repaid")
        )
        if amount
    ]  # fmt: skip
    if owed:
        out.append(
            f"account {account.contract} was closed with arrears: {', '.join(owed)}; they are "
            "no longer recovered from purchases: collect or write them off"
        )
    if account.credit_balance:
        out.append(
            f"account {account.contract} was closed holding credit of "
            f"{money_text(account.credit_balance, currency)}: refund it to the customer"
        )
    return out
