"""How the registry's records read for people: a meter, a tariff, a vend limit, and what to say
when an account is closed with money still on it.

>>> print(*closing_warnings({"contract": "K-5", "debt": 12050, "emergency_debt": 0,
...                          "credit_balance": 0}, "ZAR"))
account K-5 was closed with arrears: debt ZAR 120.50; they are no longer recovered from ...
>>> tariff_row({"code": "W", "name": "Water", "currency": "ZAR", "resource": 1,
...     "blocks": [[60, 10500000], [None, 14250000]], "tax_bp": 1550, "fixed_charge": 0,
...     "free_units": 60, "emergency": {"units": 0, "repayment_bp": 10000}})[2:]
['up to 6.0 m³: ZAR 10.50/m³, then ZAR 14.25/m³', '15.5%', 'ZAR 0.00', '6.0 m³', 'none']
"""

from __future__ import annotations

from typing import Any

from stsvend_cli.human import money_text, percent_from_bp, price_text, unit_name, units_text

__all__ = ["TARIFF_COLUMNS", "closing_warnings", "limit_text", "meter_rows", "tariff_row"]

TARIFF_COLUMNS = [
    "code", "name", "prices (VAT included)", "VAT", "fixed charge (monthly)",
    "free units (monthly)", "emergency credit",
]  # fmt: skip


def limit_text(d: dict[str, Any], key: str, config: Any) -> str:
    """A meter's vend limit in the currency, or the configured default it falls back to."""
    from stsvend.vending.money import Money

    value = d.get(key)
    if value is not None:
        return money_text(value, config.currency)
    default = Money.parse(getattr(config, key), config.currency)
    return f"{money_text(default.minor, config.currency)} (default)"


def meter_rows(d: dict[str, Any], config: Any) -> list[list[Any]]:
    """``meters show`` for people: money in the currency, limits named, the key change said."""
    currency = config.currency

    def limit(key: str) -> str:
        return limit_text(d, key, config)

    last = (d.get("last_tids") or {}).items()
    tids = ", ".join(f"{tid} (base date {base})" for base, tid in last)
    rows: list[list[Any]] = [
        ["DRN", d["drn"]], ["IIN", d.get("iin")],
        ["resource", f"{d.get('resource')} ({unit_name(d.get('resource'))})"],
        ["status", d.get("status")], ["SGC", d.get("sgc")], ["KRN", d.get("krn")],
        ["TI", d.get("ti")], ["key type", d.get("key_type")], ["EA", d.get("ea")],
        ["base date", d.get("base_date")], ["KEN", d.get("ken")], ["DKGA", d.get("dkga")],
        ["minimum vend", limit("min_vend")], ["maximum vend", limit("max_vend")],
        ["daily limit", limit("daily_limit")], ["last TID", tids or "none"],
    ]  # fmt: skip
    account = d.get("account")
    if account is None:
        rows.append(["account", "none"])
    else:
        rows += [
            ["contract", f"{account['contract']} ({'open' if account['open'] else 'closed'})"],
            ["customer", account["customer"]],
            ["credit", money_text(account["credit_balance"], currency)],
            ["debt", f"{money_text(account['debt'], currency)}, recovered at "
                     f"{percent_from_bp(account['debt_recovery_bp'])} of each purchase"],
            ["emergency credit owed", money_text(account["emergency_debt"], currency)],
        ]  # fmt: skip
    change = d.get("key_change")
    if change is None:
        rows.append(["key change", "none open"])
    else:
        target = change.get("target") or {}
        to = " ".join(f"{k.upper().replace('_', ' ')} {v}" for k, v in target.items())
        why = f" ({change['reason']})" if change.get("reason") else ""
        rows.append(["key change", f"{change['state']} to {to}{why}"])
    return rows


def tariff_row(t: dict[str, Any]) -> list[str]:
    """One tariff in the order of :data:`TARIFF_COLUMNS`."""
    from stsvend.vending.tariff import UnitPrice

    unit, currency = unit_name(t.get("resource")), t["currency"]
    parts = []
    for up, scaled in t["blocks"]:
        price = price_text(UnitPrice(scaled).format(currency), currency, unit)
        parts.append(price if up is None else f"up to {units_text(up, unit)}: {price}")
    grant = t["emergency"]
    if grant["units"]:
        repay = grant.get("repayment_bp")
        tail = "" if repay is None else f", repaid at {percent_from_bp(repay)} of purchases"
        emergency = f"{units_text(grant['units'], unit)}{tail}"
    else:
        emergency = "none"
    return [
        t["code"], t["name"], (", then " if len(parts) > 1 else "").join(parts),
        percent_from_bp(t["tax_bp"]), money_text(t["fixed_charge"], currency),
        units_text(t["free_units"], unit), emergency,
    ]  # fmt: skip


def closing_warnings(data: dict[str, Any], currency: str) -> list[str]:
    """What a person closing this account should know: arrears no purchase recovers any more,
    credit to refund."""
    out = []
    owed = [
        f"{what} {money_text(data[key], currency)}"
        for key, what in (("debt", "debt"), ("emergency_debt", "emergency credit not repaid"))
        if data.get(key)
    ]
    if owed:
        out.append(
            f"account {data['contract']} was closed with arrears: {', '.join(owed)}; they are "
            "no longer recovered from purchases: collect or write them off"
        )
    if data.get("credit_balance"):
        out.append(
            f"account {data['contract']} was closed holding credit of "
            f"{money_text(data['credit_balance'], currency)}: refund it to the customer"
        )
    return out
