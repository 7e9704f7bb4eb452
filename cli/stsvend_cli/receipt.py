"""Receipts: the legal content of a sale, the tokens in groups of four, TEST and COPY marks.

One model, many forms.  :func:`build_receipt` turns a sale's answer (the
:class:`~stsvend.services.receipt_model.SaleReceipt` the services return) into a
:class:`Receipt`: its lines, each with a style.  The terminal panel, the ESC/POS
printer (:mod:`stsvend_cli.receipt_escpos`) and the PDF for e-mail
(:mod:`stsvend_cli.receipt_pdf`) all draw the same lines, choosing only how each style looks,
so the legal content cannot differ between them.

What a receipt carries: the utility's name and tax number, the receipt number, local date and
time, operator and terminal, the meter (IIN, DRN) and the key data the tokens are made under
(SGC, KRN, TI, key type, EA, base date), the contract, the tariff breakdown line by line with
the VAT it contains, the units, the tokens (key change tokens first), notes, and the TEST mark
on anything made with test keys and COPY on a reprint (at the top and at the foot).

>>> from stsvend.services.receipt_model import SaleReceipt, TokenEntry
>>> from stsvend.vending.tokenspec import TokenPurpose
>>> token = TokenEntry("Test token", "0" * 20, 1, 0, TokenPurpose.TEST)
>>> lines = receipt_lines(SaleReceipt("test", "r-1", "2026-01-01T08:00:00+00:00",
...     "2026-01-01T10:00:00+02:00", "ann", "T1", True, "U", "T-1", None, (token,), receipt=7))
>>> lines[0], any("0000 0000 0000 0000 0000" in x for x in lines)
('*** TEST ***', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import frozen

from stsvend_cli.human import money_text, percent_from_bp, price_text, time_text, units_text

if TYPE_CHECKING:
    from stsvend.services.receipt_model import Breakdown, MeterDoc, SaleReceipt

__all__ = [
    "STYLES",
    "Line",
    "Receipt",
    "build_receipt",
    "money_lines",
    "print_receipt",
    "receipt_lines",
    "wrap_line",
]

#: The styles a line has; each renderer decides how each looks, never what it says.
#: mark: TEST / COPY; notice: the text that goes with a mark; heading: the utility; title: the
#: kind and number; text: a plain line; pair: a label and an amount; rule: a separator;
#: label: what the next token is; token: 20 digits in groups of four; note: the foot notes.
STYLES = ("mark", "notice", "heading", "title", "text", "pair", "rule", "label", "token", "note")

_TITLES = {
    "credit": "SALE",
    "emergency": "EMERGENCY CREDIT",
    "free_issue": "FREE ISSUE",
    "engineering": "ENGINEERING TOKEN",
    "test": "TEST TOKEN",
    "key_change": "KEY CHANGE",
    "reversal": "REVERSAL",
    "credit_transfer": "CREDIT TRANSFER",
}
_LINE_NAMES = {
    "fixed_charge": "Fixed charge (monthly)",
    "emergency_repayment": "Emergency credit repaid",
    "debt_recovery": "Debt recovered",
    "energy": "Energy",
    "free_units": "Free basic units",
}
#: Characters of the terminal form (a printer's width is its own, see receipt_escpos).
_WIDTH = 56


@frozen
class Line:
    """One line of a receipt: its style and text (a ``pair`` also has its amount, right)."""

    style: str
    text: str
    right: str = ""


@frozen
class Receipt:
    """What one receipt says, in order, and the marks it carries."""

    number: int | None
    title: str
    test: bool
    copy: bool
    lines: tuple[Line, ...]

    def text_lines(self, width: int = _WIDTH, *, wrap: bool = False) -> list[str]:
        """The receipt as plain text lines: amounts aligned at ``width``; with ``wrap``, no
        line longer than that (paper), else text lines whole (a terminal wraps its own)."""
        out: list[str] = []
        for line in self.lines:
            out += wrap_line(line, width, wrap=wrap)
        return out

    def file_name(self, suffix: str) -> str:
        """A name for the receipt as a file: ``receipt-12.pdf``, ``receipt-12-copy.pdf``."""
        return f"receipt-{self.number}{'-copy' if self.copy else ''}.{suffix}"


def wrap_line(line: Line, width: int, *, wrap: bool = True) -> list[str]:
    """One model line as text at ``width`` characters (a pair's amount kept right-aligned;
    without ``wrap`` a text line stays whole)."""
    import textwrap

    if line.style == "rule":
        return ["-" * width]
    if line.style == "token":
        return [f"    {line.text}" if len(line.text) + 4 <= width else line.text]
    if line.style == "pair":
        left = f"  {line.text}"
        if len(left) + 1 + len(line.right) <= width:
            return [left + line.right.rjust(width - len(left))]
        wrapped = textwrap.wrap(line.text, width - 2) or [""]
        return [f"  {x}" for x in wrapped] + [line.right.rjust(width)]
    if not wrap:
        return [line.text]
    return textwrap.wrap(line.text, width) or [""]


def _group4(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _meter_lines(meter: MeterDoc | None) -> list[Line]:
    if meter is None:
        return []
    lines = [Line("text", f"Meter {meter.iin} {meter.drn}".rstrip())]
    if meter.sgc is not None:
        sgc = meter.sgc if isinstance(meter.sgc, str) else f"{meter.sgc:06d}"
        parts = [f"SGC {sgc}", f"KRN {meter.krn}", f"TI {int(meter.ti or 0):02d}"]
        if meter.key_type is not None:
            parts.append(f"KT {meter.key_type}")
        if meter.ea:
            parts.append(f"EA{meter.ea}")
        if meter.base_date:
            parts.append(f"base date {meter.base_date}")
        lines.append(Line("text", " ".join(parts)))
    return lines


def money_lines(money: Breakdown | None, unit: str | None, tariff: str | None) -> list[Line]:
    """The tariff and where the money went, line by line, with the VAT it contains (a sale's
    receipt, and a trial's figures)."""
    from stsvend.vending.notices import TAX_INCLUDED_LABEL

    if money is None:
        return []
    cur = money.currency
    lines = [
        Line("text", f"Tariff: {tariff or ''}"),
        Line("pair", "Amount tendered", money_text(money.tendered, cur)),
    ]
    if money.brought_forward:
        forward = money_text(money.brought_forward, cur)
        lines.append(Line("pair", "Credit brought forward", forward))
    for item in money.lines:
        kind = item.kind.value
        name = _LINE_NAMES.get(kind, kind.replace("_", " "))
        if kind == "energy":
            name = (f"Energy block {item.block} {units_text(item.units, unit)} at "
                    f"{price_text(item.price, cur, unit)}")  # fmt: skip
        elif kind == "free_units":
            name = f"Free basic units {units_text(item.units, unit)}"
        lines.append(Line("pair", name, money_text(-item.amount, cur)))
    rate = percent_from_bp(money.tax_bp)
    lines.append(Line("pair", f"{TAX_INCLUDED_LABEL} ({rate})", money_text(money.tax, cur)))
    if money.carried_forward:
        carried = money_text(money.carried_forward, cur)
        lines.append(Line("pair", "Credit carried forward", carried))
    return lines


def _kind_lines(result: SaleReceipt) -> list[Line]:
    kind = result.kind
    lines: list[Line] = []
    if kind == "reversal":
        refund = money_text(result.refund or 0, result.currency or "")
        lines.append(Line("pair", f"Refund of receipt {result.reverses}", refund))
        lines.append(Line("text", f"Reason: {result.reason or ''}"))
    if kind == "emergency":
        debt = money_text(result.debt or 0, result.currency or "")
        lines.append(Line("pair", "Emergency credit debt", debt))
    if kind in ("free_issue", "credit_transfer"):
        lines.append(Line("text", f"Reason: {result.reason or ''}"))
    if kind == "engineering":
        what = str(result.engineering or "").replace("_", " ")
        value = result.value
        lines.append(Line("text", f"Work order {result.work_order}: {what}"
                                  + ("" if value is None else f" {value}")))  # fmt: skip
    if kind == "key_change":
        target = result.target
        sgc, krn, ti, key_type, base_date = (
            (0, None, 0, None, None) if target is None
            else (target.sgc, target.krn, target.ti, target.key_type, target.base_date)
        )  # fmt: skip
        lines.append(Line("text", (
            f"New key: SGC {sgc:06d} KRN {krn} TI {ti:02d} KT {key_type} base date "
            f"{base_date} ({result.state})"
        )))  # fmt: skip
    if result.units is not None and kind in {"credit", "emergency", "free_issue",
                                                   "credit_transfer"}:
        lines.append(Line("text", f"Units: {units_text(result.units, result.unit)}"))
    return lines


def _reversed_lines(result: SaleReceipt) -> list[Line]:
    """The tokens a reversal marks: named by TID and amount, never their digits (a reversal
    hands out nothing; digits on it would read as a new sale)."""
    if not result.tokens:
        return []
    heading = "Token(s) marked reversed (not revoked at the meter):"
    lines = [Line("rule", ""), Line("label", heading)]
    for token in result.tokens:
        amount = token.amount
        size = "" if amount is None else f" {units_text(amount, result.unit)}"
        lines.append(Line("text", f"  {token.label}{size}   TID {token.tid}"))
    lines.append(Line("rule", ""))
    return lines


#: The tokens (by purpose) whose label on the receipt gives their units.
_CREDIT = {"sale", "free_issue", "emergency_credit", "credit_transfer"}


def _token_lines(result: SaleReceipt) -> list[Line]:
    tokens = result.tokens
    if result.kind == "reversal":
        return _reversed_lines(result)
    if not tokens or (result.kind == "key_change" and result.state == "pending"):
        return []
    lines = [Line("rule", "")]
    for token in tokens:
        label = token.label
        if token.purpose.value in _CREDIT and result.units is not None:
            label = f"{label} {units_text(token.amount or 0, result.unit)}"
        lines.append(Line("label", f"{label}:"))
        lines.append(Line("token", _group4(str(token.digits))))
    lines.append(Line("rule", ""))
    return lines


def build_receipt(result: SaleReceipt) -> Receipt:
    """The receipt of a sale's answer (a vend, reprint, reversal, key change, test token …)."""
    from stsvend.vending.notices import COPY_MARK, TEST_MARK, TEST_NOTICE

    test, copy = bool(result.test), bool(result.copy)
    kind = result.kind
    title = _TITLES.get(kind, kind.replace("_", " ").upper())
    number = result.receipt
    lines: list[Line] = []
    if test:
        lines += [Line("mark", f"*** {TEST_MARK} ***"), Line("notice", TEST_NOTICE)]
    lines.append(Line("heading", result.utility))
    lines.append(Line("text", f"Tax number: {result.tax_number}"))
    lines.append(Line("title", f"{title}   Receipt {number}"))
    if copy:
        lines.append(Line("mark", f"*** {COPY_MARK} ***"))
    lines.append(Line("text", f"Date: {time_text(result.local_time or result.at)}"))
    lines.append(Line("text", f"Operator {result.operator}, terminal {result.terminal}"))
    lines += _meter_lines(result.meter)
    if result.contract:
        lines.append(Line("text", f"Contract {result.contract}   Customer {result.customer or ''}"))
    lines += money_lines(result.money, result.unit, result.tariff)
    lines += _kind_lines(result)
    lines += _token_lines(result)
    lines += [Line("note", note) for note in result.notes]
    if result.replayed:
        lines.append(Line(
            "note", "(repeated request: the receipt as first issued; nothing was issued again)"
        ))  # fmt: skip
    if copy:
        lines.append(Line("mark", f"*** {COPY_MARK} ***"))
    if test:
        lines.append(Line("mark", f"*** {TEST_MARK} ***"))
    return Receipt(number, title, test, copy, tuple(lines))


def receipt_lines(result: SaleReceipt) -> list[str]:
    """The receipt as plain text lines (what the terminal shows)."""
    return build_receipt(result).text_lines()


def print_receipt(result: SaleReceipt) -> None:
    """Show the receipt on the terminal, in a box, its marks in bold red."""
    from rich.panel import Panel
    from rich.text import Text

    from stsvend_cli.common import console

    receipt = build_receipt(result)
    styles = {"mark": "bold red", "notice": "red", "heading": "bold", "title": "bold",
              "token": "bold"}  # fmt: skip
    text = Text()
    for line in receipt.lines:
        style = styles.get(line.style, "")
        if line.style == "note" and line.text.startswith("REVERSED"):
            style = "bold red"
        for row in wrap_line(line, _WIDTH, wrap=False):
            text.append(row + "\n", style=style)
    text.rstrip()
    console().print(Panel(text, expand=False))
