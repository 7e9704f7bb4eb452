"""Sales (every business operation that hands something out), their ledger lines, and totals.

A sale's id is its receipt number.  ``result`` keeps what the operation returned: a repeated
request id returns it again, and a reprint prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from attrs import frozen
from sqlalchemy import and_, bindparam, case, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import LedgerEntry, Meter, Operator, Sale
from stsvend.store.writes import stage

__all__ = [
    "SaleRecord",
    "day_total",
    "find_sale",
    "get_sale",
    "insert_sale",
    "last_sale_of_scope",
    "ledger_rows",
    "reversal_of",
    "sale_row",
    "sale_totals",
    "stage_ledger",
    "stage_sale",
]


@frozen
class SaleRecord:
    id: int
    request_id: str
    kind: str
    meter_id: int | None
    account_id: int | None
    operator_id: int
    shift_id: int | None
    terminal: str
    created_at: datetime
    local_day: date
    amount: int
    units: int
    reversal_of: int | None
    reason: str | None
    test: bool
    result: dict[str, Any]
    request_digest: str | None = None
    scope: int = 0


_COLUMNS = (
    Sale.id,
    Sale.request_id,
    Sale.kind,
    Sale.meter_id,
    Sale.account_id,
    Sale.operator_id,
    Sale.shift_id,
    Sale.terminal,
    Sale.created_at,
    Sale.local_day,
    Sale.amount,
    Sale.units,
    Sale.reversal_of,
    Sale.reason,
    Sale.test,
    Sale.result,
    Sale.request_digest,
    Sale.scope,
)


_BY_REQUEST = select(*_COLUMNS).where(
    Sale.scope == bindparam("s"), Sale.request_id == bindparam("r")
)
_INSERT = insert(Sale).returning(Sale.id)
_LEDGER = insert(LedgerEntry)
_DAY_TOTAL = select(func.coalesce(func.sum(Sale.amount), 0)).where(
    Sale.meter_id == bindparam("m"), Sale.local_day == bindparam("d"), Sale.kind == "credit"
)


def find_sale(conn: Connection, request_id: str, *, scope: int) -> SaleRecord | None:
    """The sale of ``request_id`` in ``scope`` (0: the store's counters; a vendor's id)."""
    row = conn.execute(_BY_REQUEST, {"s": scope, "r": request_id}).first()
    return None if row is None else SaleRecord(*row)


def get_sale(conn: Connection, sale_id: int, *, lock: bool = False) -> SaleRecord:
    stmt = select(*_COLUMNS).where(Sale.id == sale_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise RecordNotFoundError(f"no receipt {sale_id}")
    return SaleRecord(*row)


def last_sale_of_scope(conn: Connection, scope: int, *, terminal: str) -> SaleRecord | None:
    """The last sale made at ``terminal`` in request scope ``scope`` (a vendor's id)."""
    stmt = select(*_COLUMNS).where(Sale.scope == scope, Sale.terminal == terminal)
    row = conn.execute(stmt.order_by(Sale.id.desc()).limit(1)).first()
    return None if row is None else SaleRecord(*row)


def reversal_of(conn: Connection, sale_id: int) -> SaleRecord | None:
    row = conn.execute(select(*_COLUMNS).where(Sale.reversal_of == sale_id)).first()
    return None if row is None else SaleRecord(*row)


_SALE_DEFAULTS: dict[str, Any] = {
    "scope": 0,
    "vendor_id": None,
    "meter_id": None,
    "account_id": None,
    "shift_id": None,
    "amount": 0,
    "units": 0,
    "tax": 0,
    "reversal_of": None,
    "reason": None,
    "request_digest": None,
}


_INSERT_PLAIN = insert(Sale)


def stage_sale(conn: Connection, values: dict[str, Any]) -> None:
    """Stage the INSERT of a sale whose id was taken beforehand (from the sequence)."""
    assert values.get("id") is not None
    stage(conn, _INSERT_PLAIN, {**_SALE_DEFAULTS, **values})


def ledger_rows(
    sale_id: int, account_id: int | None, lines: Sequence[tuple[str, int, int]]
) -> list[dict[str, Any]]:
    """A sale's ledger lines, (entry, amount in minor units, units in tenths), as rows.

    >>> ledger_rows(7, 3, [("payment", 1000, 0), ("energy", -1000, 66)])[1]
    {'sale_id': 7, 'account_id': 3, 'entry': 'energy', 'amount': -1000, 'units': 66}
    """
    return [
        {"sale_id": sale_id, "account_id": account_id, "entry": entry, "amount": amount,
         "units": units}
        for entry, amount, units in lines
    ]  # fmt: skip


def stage_ledger(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        stage(conn, _LEDGER, list(rows))


def sale_row(values: dict[str, Any], sale_id: int) -> dict[str, Any]:
    """Every column of a sale as written (what the token log's ``sale`` row digests)."""
    return {**_SALE_DEFAULTS, **values, "id": sale_id}


def insert_sale(conn: Connection, values: dict[str, Any]) -> int:
    """Insert a sale now (the staged writes before it go first) and return its id."""
    # Always the same columns, so that the one prepared INSERT serves every kind of sale.
    result = conn.execute(_INSERT, {**_SALE_DEFAULTS, **values})
    return int(result.scalar_one())


def day_total(conn: Connection, meter_id: int, day: date) -> int:
    """Money tendered for credit at this meter on this local day (reversals do not refund it)."""
    total = conn.execute(_DAY_TOTAL, {"m": meter_id, "d": day}).scalar_one()
    return int(total)


def sale_totals(
    conn: Connection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    shift_id: int | None = None,
    group_by: str | None = None,
) -> list[dict[str, Any]]:
    """Counts and sums of sales by kind (and by ``"operator"``, ``"terminal"`` or ``"day"``)."""
    reversed_sale = aliased(Sale)
    keys: list[Any] = [Sale.kind]
    if group_by == "operator":
        keys.insert(0, Operator.username.label("operator"))
    elif group_by == "terminal":
        keys.insert(0, Sale.terminal)
    elif group_by == "day":
        keys.insert(0, Sale.local_day)
    stmt = (
        select(
            *keys,
            func.count(Sale.id).label("count"),
            func.coalesce(func.sum(Sale.amount), 0).label("amount"),
            func.coalesce(func.sum(Sale.units), 0).label("units"),
            func.count(reversed_sale.id).label("reversed"),
            func.sum(case((Sale.test, 1), else_=0)).label("test"),
        )
        .join(Operator, Operator.id == Sale.operator_id)
        .outerjoin(reversed_sale, reversed_sale.reversal_of == Sale.id)
        .group_by(*keys)
        .order_by(*keys)
    )
    conditions = []
    if since is not None:
        conditions.append(Sale.created_at >= since)
    if until is not None:
        conditions.append(Sale.created_at < until)
    if shift_id is not None:
        conditions.append(Sale.shift_id == shift_id)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    out = []
    for row in conn.execute(stmt):
        item = dict(row._mapping)
        # PostgreSQL sums integers as numeric: every figure leaves as an int on both databases.
        for name in ("count", "amount", "units", "reversed", "test"):
            item[name] = int(item[name] or 0)
        if "local_day" in item:
            item["day"] = item.pop("local_day").isoformat()
        out.append(item)
    return out


def meter_drn(conn: Connection, meter_id: int) -> str:
    drn: str | None = conn.execute(select(Meter.drn).where(Meter.id == meter_id)).scalar()
    if drn is None:
        raise RecordNotFoundError(f"no meter #{meter_id}")
    return drn
