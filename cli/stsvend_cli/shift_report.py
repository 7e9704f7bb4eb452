"""The end of a shift: the cash the operator counted, the shift closed, and its report.

Shared by ``stsvend shift end`` and the counter's ``end``.  The report gives the totals by
kind of sale, the cash the system recorded (credit sales less refunds), the cash declared and
the difference, *over* or *short*, and the token log's latest seal MAC (the anchor to keep with
the report, docs/token-log.md).

>>> cash_line({"currency": "ZAR", "expected": 12000, "counted": 11950, "difference": -50})
'cash: system ZAR 120.00, counted ZAR 119.50, short ZAR 0.50'
>>> cash_line({"currency": "ZAR", "expected": 0, "counted": None, "difference": None})
'cash: system ZAR 0.00, not declared'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stsvend_cli.common import console, money, table, units

if TYPE_CHECKING:
    from stsvend.services.context import Actor, Services

__all__ = ["cash_line", "close_shift", "parse_cash", "show_shift_report", "totals_table"]


def parse_cash(text: str, currency: str) -> int:
    """The cash counted, as typed (plain digits like ``1250.50``), in minor units."""
    from stsvend.vending.money import Money

    return Money.parse(text.strip(), currency).minor


def close_shift(svc: Services, actor: Actor, cash_counted: int | None) -> dict[str, Any]:
    """Close the actor's shift with the cash declared; the report, with the latest anchor."""
    from stsvend.services.logs import latest_anchor
    from stsvend.services.results import as_doc
    from stsvend.services.shifts import end_shift

    report: dict[str, Any] = as_doc(end_shift(svc, actor, cash_counted=cash_counted))
    # The latest seal's MAC, for the shift report: kept on paper or by the auditor, it is the
    # anchor `stsvend log verify --anchor` checks the log against (docs/token-log.md).
    report["anchor"] = as_doc(latest_anchor(svc))
    return report


def totals_table(title: str, rows: list[dict[str, Any]], currency: str) -> Any:
    return table(
        title,
        ["kind", "count", "amount", "units", "reversed", "TEST"],
        [
            [r["kind"].replace("_", " "), r["count"], money(r["amount"], currency),
             units(r["units"], ""),
             r["reversed"], r["test"] or ""]
            for r in rows
        ],
    )  # fmt: skip


def cash_line(cash: dict[str, Any]) -> str:
    """The cash count in one line: the system's total, the declaration and the difference."""
    cur = cash["currency"]
    text = f"cash: system {money(cash['expected'], cur)}"
    if cash["counted"] is None:
        return text + ", not declared"
    diff = int(cash["difference"])
    side = "over" if diff > 0 else "short"
    verdict = "balanced" if diff == 0 else f"{side} {money(abs(diff), cur)}"
    return f"{text}, counted {money(cash['counted'], cur)}, {verdict}"


def show_shift_report(report: dict[str, Any], zone: Any = None) -> None:
    """The closed shift as the clerk reads it (times to the second, in ``zone`` if given)."""
    from stsvend_cli.human import time_text

    out = console()
    currency = report["cash"]["currency"]
    out.print(
        f"shift {report['shift']} closed: {report['operator']} at {report['terminal']}, "
        f"{time_text(report['opened_at'], zone)} to {time_text(report['closed_at'], zone)}",
        markup=False,
    )
    out.print(totals_table("Shift totals", report["totals"], currency))
    out.print(cash_line(report["cash"]), markup=False)
    anchor = report["anchor"]
    out.print(
        "token log anchor: none yet" if anchor is None
        else f"token log anchor (seal {anchor['seal']}, {time_text(anchor['at'], zone)}): "
             f"{anchor['mac']}",
        markup=False,
    )  # fmt: skip
