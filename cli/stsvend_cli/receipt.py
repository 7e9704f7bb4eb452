"""Receipts: the legal content of a sale, the tokens in groups of four, TEST and COPY marks.

What a receipt carries: the utility's name and tax number, the receipt number, local date and
time, operator and terminal, the meter (IIN, DRN) and the key data the tokens are made under
(SGC, KRN, TI, key type, EA, base date), the contract, the tariff breakdown line by line with
the VAT it contains, the units, the tokens (key change tokens first), notes, and the TEST mark
on anything made with test keys and COPY on a reprint.

>>> lines = receipt_lines({"kind": "test", "receipt": 7, "test": True, "utility": "U",
...     "tax_number": "T-1", "local_time": "2026-01-01T10:00:00+02:00", "operator": "ann",
...     "terminal": "T1", "tokens": [{"label": "Test token", "digits": "0" * 20,
...     "purpose": "test"}], "notes": []})
>>> lines[0].startswith("*** TEST ***"), any("0000 0000 0000 0000 0000" in x for x in lines)
(True, True)
"""

from __future__ import annotations

from typing import Any

__all__ = ["print_receipt", "receipt_lines"]

_TITLES = {
    "credit": "SALE",
    "emergency": "EMERGENCY CREDIT",
    "free_issue": "FREE ISSUE",
    "engineering": "ENGINEERING TOKEN",
    "test": "TEST TOKEN",
    "key_change": "KEY CHANGE",
    "reversal": "REVERSAL",
}
_LINE_NAMES = {
    "fixed_charge": "Fixed charge (monthly)",
    "emergency_repayment": "Emergency credit repaid",
    "debt_recovery": "Debt recovered",
    "energy": "Energy",
    "free_units": "Free basic units",
}
_WIDTH = 56


def _group4(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _money(minor: int, currency: str) -> str:
    from stsvend.vending.money import Money

    return Money(int(minor), currency).format()


def _units(tenths: int, unit: str) -> str:
    sign = "-" if tenths < 0 else ""
    value = abs(int(tenths))
    return f"{sign}{value // 10}.{value % 10} {unit}"


def _pair(left: str, right: str) -> str:
    return f"  {left:<{_WIDTH - 14}}{right:>12}"


def _debit(minor: int, currency: str) -> str:
    return _money(-minor, currency) if minor else _money(0, currency)


def _meter_lines(meter: dict[str, Any] | None) -> list[str]:
    if not meter:
        return []
    lines = [f"Meter {meter.get('iin', '')} {meter['drn']}".rstrip()]
    if "sgc" in meter:
        sgc = meter["sgc"] if isinstance(meter["sgc"], str) else f"{meter['sgc']:06d}"
        parts = [f"SGC {sgc}", f"KRN {meter.get('krn')}", f"TI {int(meter.get('ti', 0)):02d}"]
        if meter.get("key_type") is not None:
            parts.append(f"KT {meter['key_type']}")
        if meter.get("ea"):
            parts.append(f"EA{meter['ea']}")
        if meter.get("base_date"):
            parts.append(f"base date {meter['base_date']}")
        lines.append("  ".join(parts))
    return lines


def _money_lines(result: dict[str, Any]) -> list[str]:
    doc = result.get("money")
    if not doc:
        return []
    cur = doc["currency"]
    unit = result.get("unit", "")
    lines = [
        f"Tariff: {result.get('tariff', '')}",
        _pair("Amount tendered", _money(doc["tendered"], cur)),
    ]
    if doc.get("brought_forward"):
        lines.append(_pair("Credit brought forward", _money(doc["brought_forward"], cur)))
    for line in doc["lines"]:
        name = _LINE_NAMES.get(line["kind"], line["kind"])
        if line["kind"] == "energy":
            name = f"Energy block {line['block']} {_units(line['units'], unit)} @ {line['price']}"
        elif line["kind"] == "free_units":
            name = f"Free basic units {_units(line['units'], unit)}"
        lines.append(_pair(name, _debit(line["amount"], cur)))
    bp = doc.get("tax_bp", 0)
    lines.append(_pair(f"VAT included ({bp // 100}.{bp % 100:02d} %)", _money(doc["tax"], cur)))
    if doc.get("carried_forward"):
        lines.append(_pair("Credit carried forward", _money(doc["carried_forward"], cur)))
    return lines


def _reversed_lines(tokens: list[dict[str, Any]], unit: str) -> list[str]:
    """The tokens a reversal marks: named by TID and amount, never their digits (a reversal
    hands out nothing; digits on it would read as a new sale)."""
    if not tokens:
        return []
    lines = ["-" * _WIDTH, "Token(s) marked reversed (not revoked at the meter):"]
    for token in tokens:
        amount = f" {_units(token['amount'], unit)}" if token.get("amount") is not None else ""
        lines.append(f"  {token['label']}{amount}   TID {token.get('tid')}")
    lines.append("-" * _WIDTH)
    return lines


def receipt_lines(result: dict[str, Any]) -> list[str]:
    """The receipt as plain text lines (what a receipt printer would print)."""
    from stsvend.vending.notices import COPY_MARK, TEST_MARK, TEST_NOTICE

    lines: list[str] = []
    if result.get("test"):
        lines.append(f"*** {TEST_MARK} *** {TEST_NOTICE}")
    lines.append(str(result.get("utility", "")))
    lines.append(f"Tax number: {result.get('tax_number', '')}")
    title = _TITLES.get(result.get("kind", ""), str(result.get("kind", "")).upper())
    copy = f"   *** {COPY_MARK} ***" if result.get("copy") else ""
    lines.append(f"{title}   Receipt {result.get('receipt')}{copy}")
    when = str(result.get("local_time", result.get("at", "")))
    lines.append(
        f"{when.replace('T', ' ')}   {result.get('operator', '')} @ {result.get('terminal', '')}"
    )
    lines += _meter_lines(result.get("meter"))
    if result.get("contract"):
        lines.append(f"Contract {result['contract']}   Customer {result.get('customer', '')}")
    lines += _money_lines(result)
    unit = result.get("unit", "kWh")
    if result.get("kind") == "reversal":
        lines.append(
            _pair(
                f"Refund of receipt {result['reverses']}",
                _money(result["refund"], result["currency"]),
            )
        )
        lines.append(f"Reason: {result.get('reason', '')}")
    if result.get("kind") == "emergency":
        lines.append(_pair("Emergency credit debt", _money(result["debt"], result["currency"])))
    if result.get("kind") == "free_issue":
        lines.append(f"Reason: {result.get('reason', '')}")
    if result.get("kind") == "engineering":
        what = f"{result.get('engineering')} {result.get('value') or ''}".rstrip()
        lines.append(f"Work order {result.get('work_order')}: {what}")
    if result.get("kind") == "key_change":
        target = result.get("target", {})
        lines.append(
            f"New key: SGC {target.get('sgc', 0):06d} KRN {target.get('krn')} TI "
            f"{target.get('ti', 0):02d} KT {target.get('key_type')} base date "
            f"{target.get('base_date')} ({result.get('state')})"
        )
    if "units" in result and result.get("kind") in {"credit", "emergency", "free_issue"}:
        lines.append(f"Units: {_units(result['units'], unit)}")
    tokens = result.get("tokens", [])
    if result.get("kind") == "reversal":
        lines += _reversed_lines(tokens, unit)
    elif tokens and not (result.get("kind") == "key_change" and result.get("state") == "pending"):
        lines.append("-" * _WIDTH)
        for token in tokens:
            label = token["label"]
            if (
                token.get("purpose") in {"sale", "free_issue", "emergency_credit"}
                and "units" in result
            ):
                label = f"{label} {_units(token.get('amount') or 0, unit)}"
            lines.append(f"{label}:")
            lines.append(f"    {_group4(token['digits'])}")
        lines.append("-" * _WIDTH)
    for note in result.get("notes", []):
        lines.append(note)
    if result.get("replayed"):
        lines.append("(repeated request: the receipt as first issued; nothing was issued again)")
    return lines


def print_receipt(result: dict[str, Any]) -> None:
    from rich.panel import Panel
    from rich.text import Text

    from stsvend_cli.common import console

    text = Text("\n".join(receipt_lines(result)))
    for word in ("*** TEST ***", "*** COPY ***", "REVERSED"):
        text.highlight_words([word], style="bold red")
    console().print(Panel(text, expand=False))
