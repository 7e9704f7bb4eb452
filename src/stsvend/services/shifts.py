"""Closing a shift: its totals by kind of sale and the cash count.

>>> expected_cash([{"kind": "credit", "amount": 500}, {"kind": "free_issue", "amount": 0}])
500
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import frozen

from stsvend.errors import InputError
from stsvend.services.auth import ShiftError, authorize, require_shift
from stsvend.services.context import Actor, Services
from stsvend.store.repos import operators as ops
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

if TYPE_CHECKING:
    from stsvend.services.reports import KindTotals

__all__ = ["CASH_KINDS", "ShiftCash", "ShiftClosed", "end_shift", "expected_cash"]

#: The kinds of sale that move cash at the counter: money in for credit, out for a refund.
CASH_KINDS = ("credit", "reversal")


def expected_cash(totals: list[dict[str, Any]]) -> int:
    """The cash a shift took, in minor units, from its totals by kind (credit sales less the
    refunds of reversals; emergency credit, free issue and engineering tokens take no money).

    >>> expected_cash([{"kind": "credit", "amount": 12000}, {"kind": "reversal", "amount": -2000},
    ...                {"kind": "emergency", "amount": 0}])
    10000
    """
    return sum(int(row["amount"]) for row in totals if row["kind"] in CASH_KINDS)


@frozen
class ShiftCash:
    """A closed shift's cash: the system's total, the operator's count, the difference."""

    currency: str
    #: Cash the system recorded (credit sales less refunds), minor units.
    expected: int
    #: What the operator declared having counted (None: not declared), minor units.
    counted: int | None
    #: counted − expected (over when positive, short when negative; None: not declared).
    difference: int | None


@frozen
class ShiftClosed:
    """A closed shift and its totals, for the shift report."""

    shift: int
    operator: str
    terminal: str
    #: When it opened and closed (UTC, ISO 8601).
    opened_at: str
    closed_at: str
    #: The shift's sales by kind (:class:`stsvend.services.reports.KindTotals`).
    totals: tuple[KindTotals, ...]
    cash: ShiftCash


def end_shift(svc: Services, actor: Actor, *, cash_counted: int | None = None) -> ShiftClosed:
    """Close the actor's shift; returns its totals (by kind of sale) for the shift report.

    ``cash_counted`` (minor units, not negative) is the cash the operator declares having
    counted; it is stored with the shift beside the system's cash total, and the difference
    (over when positive, short when negative) goes to the report and the operation log.
    """
    authorize(svc, actor, Action.SHIFT_END)
    shift_id = require_shift(actor)
    if cash_counted is not None and (type(cash_counted) is not int or cash_counted < 0):
        raise InputError("the cash counted is an amount of zero or more")
    from stsvend.store.repos.sales import sale_totals

    with svc.store.transaction() as conn:
        # Locked before its totals are read: a sale under way finishes first and is counted.
        shift = ops.get_shift(conn, shift_id, lock="update")
        now = svc.now()
        totals = sale_totals(conn, shift_id=shift_id)
        expected = expected_cash(totals)
        if not ops.close_shift(
            conn, shift_id, now, cash_counted=cash_counted, cash_expected=expected
        ):
            raise ShiftError(f"shift {shift_id} is already closed")
        cash = ShiftCash(svc.config.currency, expected, cash_counted,
                         None if cash_counted is None else cash_counted - expected)  # fmt: skip
        log_operation(
            conn,
            at=now,
            operator=actor.username,
            terminal=actor.terminal,
            action="shift.end",
            target=str(shift_id),
            detail={
                "cash_expected": expected,
                "cash_counted": cash_counted,
                "cash_difference": cash.difference,
            },
        )
    from stsvend.services.reports import KindTotals

    rows = tuple(KindTotals.of(row) for row in totals)
    return ShiftClosed(shift_id, actor.username, actor.terminal, shift.opened_at.isoformat(),
                       now.isoformat(), rows, cash)  # fmt: skip
