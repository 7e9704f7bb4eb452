"""A sale point's batches: what one terminal sold since its batch opened, and a vendor's day.

A terminal's batch is its open shift at ``VENDOR/TERMINAL`` (see
:func:`~stsvend.services.terminals.terminal_actor`): the first sale after the last close opens
it, :func:`close_batch` closes it.  A batch's totals come from its sales in one grouped query,
folded into four breakdowns: by operation (the sale's kind), by tender (how the customer paid
the vendor, from the sale's stored answer; none for an operation that takes no money), by
resource (the meter's) and by terminal.  Times are given in the store's time zone.

A batch of another vendor is answered as not found, never as forbidden.

>>> fold([{"kind": "credit", "tender": "cash", "resource": 0, "terminal": "S/T", "count": 2,
...        "amount": 5000, "units": 300, "commission": 125}], "tender")
(TenderTotals(count=2, amount=5000, commission=125, tender='cash'),)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from stsvend import sts
from stsvend.services.auth import ShiftError, authorize
from stsvend.services.context import Actor, Services
from stsvend.services.reports import _day
from stsvend.services.shifts import expected_cash
from stsvend.services.terminals import TerminalIdentity
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import Meter, Operator, Sale, Shift
from stsvend.store.repos import operators as ops
from stsvend.store.repos import vendors as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.store.vendor_models import VendorLedger
from stsvend.vending.roles import Action

__all__ = [
    "Batch",
    "BatchSummary",
    "KindTotals",
    "ResourceTotals",
    "TenderTotals",
    "TerminalTotals",
    "VendorDay",
    "close_batch",
    "current_batch",
    "fold",
    "get_batch",
    "vendor_day",
]

#: The vendor ledger's entries that are a sale's commission (one line a sale at most).
_COMMISSION_ENTRIES = ("commission", "commission_reversal")


@attrs.frozen
class Sums:
    #: How many operations.
    count: int
    #: The money they took (a refund negative), in the currency's minor units.
    amount: int
    #: The vendor's commission on them, minor units.
    commission: int


@attrs.frozen
class KindTotals(Sums):
    #: The operation (``credit``, ``emergency``, ``free_issue``, ``engineering``, ...).
    kind: str


@attrs.frozen
class TenderTotals(Sums):
    #: How the customer paid (``cash``, ``card``, ...); None for what takes no money.
    tender: str | None


@attrs.frozen
class ResourceTotals(Sums):
    #: ``electricity``, ``water``, ``gas`` or ``time``; None for a token without a meter.
    resource: str | None
    #: Their units, in tenths of the resource's unit.
    units: int


@attrs.frozen
class TerminalTotals(Sums):
    #: ``VENDOR/TERMINAL``.
    terminal: str


_KEYED: dict[str, type[Sums]] = {
    "kind": KindTotals, "tender": TenderTotals, "resource": ResourceTotals,
    "terminal": TerminalTotals,
}  # fmt: skip


def fold(rows: Iterable[Mapping[str, Any]], by: str) -> tuple[Any, ...]:
    """The grouped rows summed again over one key (``kind``, ``tender``, ``resource`` or
    ``terminal``), in the key's order (None first)."""
    sums: dict[Any, dict[str, int]] = {}
    for row in rows:
        into = sums.setdefault(row[by], {"count": 0, "amount": 0, "commission": 0, "units": 0})
        for name in into:
            into[name] += int(row[name])
    make = _KEYED[by]
    out = []
    for key in sorted(sums, key=lambda k: (k is not None, str(k))):
        figures: dict[str, Any] = sums[key]
        if by != "resource":
            del figures["units"]
        elif key is not None:
            key = sts.Resource(key).name.lower()
        out.append(make(**figures, **{by: key}))
    return tuple(out)


@attrs.frozen
class Breakdown:
    """What a batch and a vendor's day both hold."""

    #: The store's time zone (every local time below is in it).
    timezone: str
    #: The currency of every amount.
    currency: str
    #: Over everything: operations, money taken, commission (minor units).
    count: int
    amount: int
    commission: int
    by_kind: tuple[KindTotals, ...]
    by_tender: tuple[TenderTotals, ...]
    by_resource: tuple[ResourceTotals, ...]
    by_terminal: tuple[TerminalTotals, ...]


@attrs.frozen
class BatchSummary:
    """A batch as a vendor's day lists it."""

    #: The batch's number (its shift's).
    batch: int
    #: ``VENDOR/TERMINAL``, and who sold in it (the terminal itself, or a person).
    terminal: str
    operator: str
    #: ``open`` or ``closed``.
    state: str
    #: Local times (ISO 8601 with the offset); ``closed_at`` None while open.
    opened_at: str
    closed_at: str | None


@attrs.frozen
class Batch(Breakdown):
    """One batch and its totals so far (open) or for good (closed)."""

    #: The batch's number (its shift's), and its vendor.
    batch: int
    vendor: str
    terminal: str
    operator: str
    state: str
    opened_at: str
    closed_at: str | None


@attrs.frozen
class VendorDay(Breakdown):
    """A vendor's sales of one local day over all its terminals, and the batches they fell in."""

    vendor: str
    #: The local day (YYYY-MM-DD).
    day: str
    #: The batches the day's sales fell in (a batch may span days).
    batches: tuple[BatchSummary, ...]


def _totals(conn: Connection, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    """The sales matching ``where`` grouped by kind, tender, resource and terminal."""
    each = (
        select(
            Sale.kind.label("kind"),
            Sale.result[("sale_point", "tender")].as_string().label("tender"),
            Meter.resource.label("resource"),
            Sale.terminal.label("terminal"),
            Sale.amount.label("amount"),
            Sale.units.label("units"),
            func.coalesce(VendorLedger.amount, 0).label("commission"),
        )
        .select_from(Sale)
        .outerjoin(Meter, Meter.id == Sale.meter_id)
        .outerjoin(
            VendorLedger,
            and_(VendorLedger.sale_id == Sale.id, VendorLedger.entry.in_(_COMMISSION_ENTRIES)),
        )
        .where(where)
        .subquery()
    )
    keys = (each.c.kind, each.c.tender, each.c.resource, each.c.terminal)
    stmt = select(
        *keys,
        func.count().label("count"),
        func.coalesce(func.sum(each.c.amount), 0).label("amount"),
        func.coalesce(func.sum(each.c.units), 0).label("units"),
        func.coalesce(func.sum(each.c.commission), 0).label("commission"),
    ).group_by(*keys)
    return [dict(row._mapping) for row in conn.execute(stmt)]


def _breakdown(svc: Services, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "timezone": svc.config.timezone,
        "currency": svc.config.currency,
        "count": sum(int(r["count"]) for r in rows),
        "amount": sum(int(r["amount"]) for r in rows),
        "commission": sum(int(r["commission"]) for r in rows),
        "by_kind": fold(rows, "kind"),
        "by_tender": fold(rows, "tender"),
        "by_resource": fold(rows, "resource"),
        "by_terminal": fold(rows, "terminal"),
    }


def _local(svc: Services, at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(svc.config.zone).isoformat(timespec="seconds")


def _summary(svc: Services, shift: ops.ShiftRecord, operator: str) -> BatchSummary:
    opened = _local(svc, shift.opened_at)
    assert opened is not None
    state = "open" if shift.closed_at is None else "closed"
    return BatchSummary(shift.id, shift.terminal, operator, state, opened,
                        _local(svc, shift.closed_at))  # fmt: skip


def _batch(svc: Services, conn: Connection, vendor: str, shift: ops.ShiftRecord) -> Batch:
    operator = ops.get_operator_by_id(conn, shift.operator_id).username
    head = attrs.asdict(_summary(svc, shift, operator), recurse=False)
    rows = _totals(conn, Sale.shift_id == shift.id)
    return Batch(**_breakdown(svc, rows), vendor=vendor, **head)


def _acting(who: TerminalIdentity) -> Actor:
    return Actor(who.operator_id, who.operator, who.role.value, who.place, who.shift_id,
                 vendor_id=who.vendor_id)  # fmt: skip


def current_batch(svc: Services, who: TerminalIdentity) -> Batch:
    """The terminal's open batch and its totals so far (not found when none is open: the next
    sale opens one)."""
    authorize(svc, _acting(who), Action.SHIFT_END)
    with svc.store.transaction() as conn:
        shift = ops.open_shift_of(conn, who.operator_id, who.place)
        if shift is None:
            raise RecordNotFoundError(f"{who.place} has no open batch: its next sale opens one")
        return _batch(svc, conn, who.vendor, shift)


def close_batch(svc: Services, who: TerminalIdentity) -> Batch:
    """Close the terminal's open batch; its totals for good.  The next sale opens a new one.

    The shift's cash total (credit less refunds) is stored with it, as a counter's shift's is.
    """
    actor = _acting(who)
    authorize(svc, actor, Action.SHIFT_END)
    now = svc.now()
    with svc.store.transaction() as conn:
        shift = ops.open_shift_of(conn, who.operator_id, who.place)
        if shift is None:
            raise ShiftError(f"{who.place} has no open batch to close")
        # Locked before its totals are read: a sale under way finishes first and is counted.
        shift = ops.get_shift(conn, shift.id, lock="update")
        if shift.closed_at is not None:
            raise ShiftError(f"batch {shift.id} is already closed")
        rows = _totals(conn, Sale.shift_id == shift.id)
        cash = expected_cash([{"kind": k.kind, "amount": k.amount} for k in fold(rows, "kind")])
        if not ops.close_shift(conn, shift.id, now, cash_expected=cash):
            raise ShiftError(f"batch {shift.id} is already closed")
        totals = _breakdown(svc, rows)
        log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                      action="shift.end", target=str(shift.id),
                      detail={"batch": True, "count": totals["count"], "amount": totals["amount"],
                              "commission": totals["commission"],
                              "cash_expected": cash})  # fmt: skip
        closed = attrs.evolve(shift, closed_at=now)
        head = attrs.asdict(_summary(svc, closed, actor.username), recurse=False)
    return Batch(**totals, vendor=who.vendor, **head)


def _vendor_shift(conn: Connection, who: TerminalIdentity, batch: int) -> ops.ShiftRecord:
    """Batch ``batch`` if it belongs to a terminal of the caller's vendor (else not found)."""
    missing = RecordNotFoundError(f"no batch {batch} of this vendor")
    try:
        shift = ops.get_shift(conn, batch)
    except RecordNotFoundError:
        raise missing from None
    vendor, _, terminal = shift.terminal.partition("/")
    if vendor != who.vendor or not terminal:
        raise missing
    try:
        repo.get_terminal(conn, who.vendor_id, terminal)
    except RecordNotFoundError:
        raise missing from None
    return shift


def get_batch(svc: Services, who: TerminalIdentity, batch: int) -> Batch:
    """A batch of the caller's vendor, open or closed, with its totals."""
    authorize(svc, _acting(who), Action.SHIFT_END)
    with svc.store.transaction() as conn:
        return _batch(svc, conn, who.vendor, _vendor_shift(conn, who, batch))


def vendor_day(svc: Services, who: TerminalIdentity, day: str) -> VendorDay:
    """The vendor's sales of one local day over all its terminals (a supervisor's terminal),
    and the batches they fell in."""
    authorize(svc, _acting(who), Action.REPORTS)
    which: date = _day(day)
    where = and_(Sale.vendor_id == who.vendor_id, Sale.local_day == which)
    with svc.store.transaction() as conn:
        rows = _totals(conn, where)
        shifts = conn.execute(
            select(Shift.id, Shift.operator_id, Shift.terminal, Shift.opened_at, Shift.closed_at,
                   Operator.username)
            .join(Operator, Operator.id == Shift.operator_id)
            .where(Shift.id.in_(select(Sale.shift_id).where(where).distinct()))
            .order_by(Shift.id)
        ).all()  # fmt: skip
    batches = tuple(_summary(svc, ops.ShiftRecord(*row[:5]), row[5]) for row in shifts)
    return VendorDay(**_breakdown(svc, rows), vendor=who.vendor, day=which.isoformat(),
                     batches=batches)  # fmt: skip
