"""Vendors, their float slots and float ledger, and their terminals (store/vendor_models.py).

The one write on a sale's path is :func:`stage_debit`: an UPDATE of one slot, staged on the
transaction like every other write (:mod:`stsvend.store.writes`), so that on PostgreSQL it
runs in the transaction's last statement, sent with the COMMIT; the slot's row lock is held
from that statement to the commit and no longer.  A debit below the slot's floor breaks
``ck_vendor_float_floor`` and the whole transaction fails with
:class:`~stsvend.store.errors.FloatFloorError`.

>>> from datetime import UTC, datetime
>>> from stsvend.store.uow import Store
>>> store = Store.open("sqlite://", create=True)
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> with store.transaction() as conn:
...     shop = add_vendor(conn, at, code="SHOP1", name="Corner shop", currency="ZAR",
...                       commission_bp=250, credit_limit=0, low_float=None, test=True)
...     set_slots(conn, shop.id, [100] * 8)
...     stage_debit(conn, shop.id, slot=3, net=60)
...     float_total(conn, shop.id), lock_slots(conn, shop.id)[3]
(740, (3, 40, 0))
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import Operator, Sale, Shift
from stsvend.store.vendor_models import (
    Terminal,
    Vendor,
    VendorCommission,
    VendorFloat,
    VendorLedger,
)
from stsvend.store.writes import stage
from stsvend.vending.floats import FLOAT_SLOTS, floors

__all__ = [
    "LedgerLine",
    "TerminalLogin",
    "TerminalRecord",
    "VendorRecord",
    "add_terminal",
    "add_vendor",
    "commission_rates",
    "float_total",
    "get_terminal",
    "get_vendor",
    "ledger_lines",
    "list_terminals",
    "list_vendors",
    "lock_slots",
    "sale_terms",
    "set_commission",
    "set_slots",
    "set_terminal",
    "stage_debit",
    "stage_ledger",
    "terminal_login",
    "update_vendor",
    "vendor_by_id",
]


@frozen
class VendorRecord:
    id: int
    code: str
    name: str
    currency: str
    commission_bp: int
    credit_limit: int
    low_float: int | None
    active: bool
    test: bool
    created_at: datetime


@frozen
class TerminalRecord:
    id: int
    vendor_id: int
    code: str
    role: str
    operator_id: int | None
    key_prefix: str
    key_hash: bytes
    active: bool
    created_at: datetime
    key_set_at: datetime
    revoked_at: datetime | None
    cert_sha256: str | None = None


@frozen
class LedgerLine:
    id: int
    at: datetime
    entry: str
    amount: int
    sale_id: int | None
    reference: str | None
    recorded_by: str
    #: The request (purchase) id of the line's sale, if it has one.
    purchase_id: str | None = None


_VENDOR_COLUMNS = [getattr(Vendor, a.name) for a in VendorRecord.__attrs_attrs__]
_TERMINAL_COLUMNS = [getattr(Terminal, a.name) for a in TerminalRecord.__attrs_attrs__]
_DEBIT = (
    update(VendorFloat)
    .where(VendorFloat.vendor_id == bindparam("vid"), VendorFloat.slot == bindparam("s"))
    .values(balance=VendorFloat.balance - bindparam("net"))
)
_LEDGER = insert(VendorLedger)


def add_vendor(
    conn: Connection,
    now: datetime,
    *,
    code: str,
    name: str,
    currency: str,
    commission_bp: int,
    credit_limit: int,
    low_float: int | None,
    test: bool,
) -> VendorRecord:
    """A new vendor with an empty float (its slots' floors share out the credit limit)."""
    values: dict[str, Any] = dict(
        code=code, name=name, currency=currency, commission_bp=commission_bp,
        credit_limit=credit_limit, low_float=low_float, active=True, test=test, created_at=now,
    )  # fmt: skip
    vendor_id = int(conn.execute(insert(Vendor).values(**values).returning(Vendor.id)).scalar_one())
    conn.execute(
        insert(VendorFloat),
        [{"vendor_id": vendor_id, "slot": slot, "balance": 0, "floor": floor}
         for slot, floor in enumerate(floors(credit_limit, FLOAT_SLOTS))],
    )  # fmt: skip
    return VendorRecord(id=vendor_id, **values)


def get_vendor(conn: Connection, code: str) -> VendorRecord:
    row = conn.execute(select(*_VENDOR_COLUMNS).where(Vendor.code == code)).first()
    if row is None:
        raise RecordNotFoundError(f"no vendor {code}")
    return VendorRecord(*row)


def vendor_by_id(conn: Connection, vendor_id: int) -> VendorRecord | None:
    row = conn.execute(select(*_VENDOR_COLUMNS).where(Vendor.id == vendor_id)).first()
    return None if row is None else VendorRecord(*row)


def list_vendors(conn: Connection) -> list[VendorRecord]:
    return [VendorRecord(*r) for r in conn.execute(select(*_VENDOR_COLUMNS).order_by(Vendor.code))]


def update_vendor(conn: Connection, vendor_id: int, **values: Any) -> None:
    conn.execute(update(Vendor).where(Vendor.id == vendor_id).values(**values))


def commission_rates(conn: Connection, vendor_id: int) -> dict[int, int]:
    """The vendor's own rates by resource (basis points)."""
    rows = conn.execute(
        select(VendorCommission.resource, VendorCommission.commission_bp).where(
            VendorCommission.vendor_id == vendor_id
        )
    )
    return {int(resource): int(rate) for resource, rate in rows}


def set_commission(conn: Connection, vendor_id: int, resource: int, rate_bp: int | None) -> None:
    """Set (or with None, remove) the vendor's rate for one resource."""
    conn.execute(
        delete(VendorCommission).where(
            VendorCommission.vendor_id == vendor_id, VendorCommission.resource == resource
        )
    )
    if rate_bp is not None:
        conn.execute(
            insert(VendorCommission).values(
                vendor_id=vendor_id, resource=resource, commission_bp=rate_bp
            )
        )


def lock_slots(conn: Connection, vendor_id: int) -> list[tuple[int, int, int]]:
    """The vendor's slots as (slot, balance, floor), locked in slot order (every path that
    locks more than one slot takes them in this order, so two never wait on each other)."""
    stmt = (
        select(VendorFloat.slot, VendorFloat.balance, VendorFloat.floor)
        .where(VendorFloat.vendor_id == vendor_id)
        .order_by(VendorFloat.slot)
        .with_for_update()
    )
    return [(int(s), int(b), int(f)) for s, b, f in conn.execute(stmt)]


def set_slots(
    conn: Connection,
    vendor_id: int,
    balances: Sequence[int],
    slot_floors: Sequence[int] | None = None,
) -> None:
    """Write the slots' balances (and floors), the slots locked by :func:`lock_slots`."""
    for slot, balance in enumerate(balances):
        values: dict[str, int] = {"balance": balance}
        if slot_floors is not None:
            values["floor"] = slot_floors[slot]
        conn.execute(
            update(VendorFloat)
            .where(VendorFloat.vendor_id == vendor_id, VendorFloat.slot == slot)
            .values(**values)
        )


def stage_debit(conn: Connection, vendor_id: int, *, slot: int, net: int) -> None:
    """Take ``net`` minor units from one slot (staged: it runs with the transaction's last
    statement; below the slot's floor, the transaction fails with FloatFloorError)."""
    stage(conn, _DEBIT, {"vid": vendor_id, "s": slot, "net": net})


def stage_ledger(conn: Connection, vendor_id: int, at: datetime,
                 lines: Sequence[tuple[str, int, int | None, str | None]],
                 recorded_by: str) -> None:  # fmt: skip
    """Float ledger lines (entry, amount, sale id, reference), staged."""
    if lines:
        stage(conn, _LEDGER, [
            {"vendor_id": vendor_id, "at": at, "entry": entry, "amount": amount,
             "sale_id": sale_id, "reference": reference, "recorded_by": recorded_by}
            for entry, amount, sale_id, reference in lines
        ])  # fmt: skip


def float_total(conn: Connection, vendor_id: int) -> int:
    """The vendor's float: the sum of its slots."""
    stmt = select(func.coalesce(func.sum(VendorFloat.balance), 0)).where(
        VendorFloat.vendor_id == vendor_id
    )
    return int(conn.execute(stmt).scalar_one())


def ledger_lines(
    conn: Connection, vendor_id: int, *, since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[int, list[LedgerLine]]:  # fmt: skip
    """The float's balance before ``since`` and the lines from ``since`` to ``until``
    (excluded), in the order they were written, each with its sale's request id."""
    before = 0
    if since is not None:
        opening = select(func.coalesce(func.sum(VendorLedger.amount), 0)).where(
            VendorLedger.vendor_id == vendor_id, VendorLedger.at < since
        )
        before = int(conn.execute(opening).scalar_one())
    stmt = (
        select(
            VendorLedger.id, VendorLedger.at, VendorLedger.entry, VendorLedger.amount,
            VendorLedger.sale_id, VendorLedger.reference, VendorLedger.recorded_by,
            Sale.request_id,
        )
        .outerjoin(Sale, Sale.id == VendorLedger.sale_id)
        .where(VendorLedger.vendor_id == vendor_id)
    )  # fmt: skip
    if since is not None:
        stmt = stmt.where(VendorLedger.at >= since)
    if until is not None:
        stmt = stmt.where(VendorLedger.at < until)
    return before, [LedgerLine(*r) for r in conn.execute(stmt.order_by(VendorLedger.id))]


def add_terminal(conn: Connection, now: datetime, *, vendor_id: int, code: str, role: str,
                 operator_id: int, key_prefix: str, key_hash: bytes) -> TerminalRecord:  # fmt: skip
    values: dict[str, Any] = dict(
        vendor_id=vendor_id, code=code, role=role, operator_id=operator_id,
        key_prefix=key_prefix, key_hash=key_hash, active=True, created_at=now, key_set_at=now,
        revoked_at=None, cert_sha256=None,
    )  # fmt: skip
    terminal_id = conn.execute(insert(Terminal).values(**values).returning(Terminal.id))
    return TerminalRecord(id=int(terminal_id.scalar_one()), **values)


def get_terminal(conn: Connection, vendor_id: int, code: str) -> TerminalRecord:
    row = conn.execute(
        select(*_TERMINAL_COLUMNS).where(Terminal.vendor_id == vendor_id, Terminal.code == code)
    ).first()
    if row is None:
        raise RecordNotFoundError(f"no terminal {code} of this vendor")
    return TerminalRecord(*row)


def list_terminals(conn: Connection, vendor_id: int) -> list[TerminalRecord]:
    stmt = select(*_TERMINAL_COLUMNS).where(Terminal.vendor_id == vendor_id)
    return [TerminalRecord(*r) for r in conn.execute(stmt.order_by(Terminal.code))]


def set_terminal(conn: Connection, terminal_id: int, **values: Any) -> None:
    conn.execute(update(Terminal).where(Terminal.id == terminal_id).values(**values))


@frozen
class TerminalLogin:
    """What authenticating a key reads, in one statement: the terminal, its vendor, the
    operator row it acts as and its open batch (shift), if any."""

    terminal: TerminalRecord
    vendor_code: str
    vendor_active: bool
    vendor_test: bool
    operator: str | None
    shift_id: int | None


_LOGIN = (
    select(
        *_TERMINAL_COLUMNS, Vendor.code, Vendor.active, Vendor.test, Operator.username, Shift.id
    )
    .select_from(Terminal)
    .join(Vendor, Vendor.id == Terminal.vendor_id)
    .outerjoin(Operator, Operator.id == Terminal.operator_id)
    # A terminal's operator row only ever has shifts at its own terminal.
    .outerjoin(Shift, and_(Shift.operator_id == Terminal.operator_id, Shift.closed_at.is_(None)))
    .where(Terminal.key_prefix == bindparam("p"))
)


def terminal_login(conn: Connection, prefix: str) -> TerminalLogin | None:
    """The terminal whose key has ``prefix``, with its vendor, operator and open batch."""
    row = conn.execute(_LOGIN, {"p": prefix}).first()
    if row is None:
        return None
    width = len(_TERMINAL_COLUMNS)
    code, active, test, username, shift_id = row[width:]
    return TerminalLogin(TerminalRecord(*row[:width]), code, active, test, username, shift_id)


_RATE = (
    select(VendorCommission.commission_bp)
    .where(VendorCommission.vendor_id == Vendor.id, VendorCommission.resource == bindparam("r"))
    .scalar_subquery()
)
_FLOAT = (
    select(func.coalesce(func.sum(VendorFloat.balance), 0))
    .where(VendorFloat.vendor_id == Vendor.id)
    .scalar_subquery()
)
_TERMS = select(*_VENDOR_COLUMNS, func.coalesce(_RATE, Vendor.commission_bp), _FLOAT).where(
    Vendor.id == bindparam("v")
)


def sale_terms(conn: Connection, vendor_id: int, resource: int) -> tuple[VendorRecord, int, int]:
    """The vendor, its commission on ``resource`` (basis points) and its float, in one read."""
    row = conn.execute(_TERMS, {"v": vendor_id, "r": resource}).first()
    if row is None:
        raise RecordNotFoundError(f"no vendor {vendor_id}")
    width = len(_VENDOR_COLUMNS)
    return VendorRecord(*row[:width]), int(row[width]), int(row[width + 1])
