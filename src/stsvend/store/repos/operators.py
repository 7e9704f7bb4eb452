"""Operators and their shifts.

>>> from datetime import UTC, datetime
>>> from stsvend.store.uow import Store
>>> store = Store.open("sqlite://", create=True)
>>> now = datetime(2026, 1, 1, 8, tzinfo=UTC)
>>> with store.transaction() as conn:
...     op = add_operator(conn, "ann", "clerk", "scrypt$...", now)
...     shift = open_shift(conn, op.id, "T1", now)
...     (op.username, op.role, open_shift_of(conn, op.id, "T1") == shift)
('ann', 'clerk', True)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.errors import DuplicateRecordError, RecordNotFoundError
from stsvend.store.models import Operator, Shift

__all__ = [
    "NO_PIN",
    "OperatorRecord",
    "ShiftRecord",
    "add_operator",
    "close_shift",
    "count_operators",
    "get_operator",
    "get_operator_by_id",
    "get_shift",
    "list_operators",
    "open_shift",
    "open_shift_of",
    "record_login",
    "update_operator",
]


@frozen
class OperatorRecord:
    id: int
    username: str
    role: str
    pin_hash: str
    active: bool
    failed_logins: int
    must_change_pin: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "active": self.active,
            "failed_logins": self.failed_logins,
            "must_change_pin": self.must_change_pin,
        }


@frozen
class ShiftRecord:
    id: int
    operator_id: int
    terminal: str
    opened_at: datetime
    closed_at: datetime | None


_OP_COLUMNS = (
    Operator.id,
    Operator.username,
    Operator.role,
    Operator.pin_hash,
    Operator.active,
    Operator.failed_logins,
    Operator.must_change_pin,
)
_SHIFT_COLUMNS = (Shift.id, Shift.operator_id, Shift.terminal, Shift.opened_at, Shift.closed_at)


def _op(row: Any) -> OperatorRecord:
    return OperatorRecord(*row)


def add_operator(
    conn: Connection,
    username: str,
    role: str,
    pin_hash: str,
    now: datetime,
    *,
    must_change_pin: bool = False,
) -> OperatorRecord:
    if conn.execute(select(Operator.id).where(Operator.username == username)).first():
        raise DuplicateRecordError(f"operator {username!r} already exists")
    conn.execute(
        insert(Operator).values(
            username=username,
            role=role,
            pin_hash=pin_hash,
            active=True,
            failed_logins=0,
            created_at=now,
            must_change_pin=must_change_pin,
        )
    )
    return get_operator(conn, username)


def get_operator(conn: Connection, username: str, *, lock: bool = False) -> OperatorRecord:
    """The operator named ``username``; ``lock`` holds its row until the transaction ends
    (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write transaction already serialises)."""
    stmt = select(*_OP_COLUMNS).where(Operator.username == username)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise RecordNotFoundError(f"no operator {username!r}")
    return _op(row)


def get_operator_by_id(conn: Connection, operator_id: int) -> OperatorRecord:
    row = conn.execute(select(*_OP_COLUMNS).where(Operator.id == operator_id)).first()
    if row is None:
        raise RecordNotFoundError(f"no operator #{operator_id}")
    return _op(row)


#: What a terminal's operator row holds as its PIN hash: no PIN's hash, so no PIN matches it.
NO_PIN = "!terminal"


def list_operators(conn: Connection) -> list[OperatorRecord]:
    """The people (a terminal's operator row, which has no PIN, is not listed)."""
    stmt = select(*_OP_COLUMNS).where(Operator.pin_hash != NO_PIN)
    return [_op(r) for r in conn.execute(stmt.order_by(Operator.username))]


def count_operators(conn: Connection) -> int:
    return len(conn.execute(select(Operator.id)).all())


def update_operator(conn: Connection, operator_id: int, **values: Any) -> None:
    conn.execute(update(Operator).where(Operator.id == operator_id).values(**values))


def record_login(conn: Connection, operator_id: int, *, ok: bool) -> None:
    values: dict[str, Any] = (
        {"failed_logins": 0} if ok else {"failed_logins": Operator.failed_logins + 1}
    )
    conn.execute(update(Operator).where(Operator.id == operator_id).values(**values))


def open_shift(conn: Connection, operator_id: int, terminal: str, now: datetime) -> ShiftRecord:
    conn.execute(insert(Shift).values(operator_id=operator_id, terminal=terminal, opened_at=now))
    shift = open_shift_of(conn, operator_id, terminal)
    assert shift is not None
    return shift


def open_shift_of(conn: Connection, operator_id: int, terminal: str) -> ShiftRecord | None:
    row = conn.execute(
        select(*_SHIFT_COLUMNS).where(
            Shift.operator_id == operator_id,
            Shift.terminal == terminal,
            Shift.closed_at.is_(None),
        )
    ).first()
    return None if row is None else ShiftRecord(*row)


def get_shift(conn: Connection, shift_id: int, *, lock: str | None = None) -> ShiftRecord:
    """The shift; ``lock`` ``"share"`` (a sale going into it: a close waits for the sale's
    commit) or ``"update"`` (its close: sales wait, then see it closed).  SQLite's write lock,
    taken at each transaction's start, already keeps the two apart."""
    stmt = select(*_SHIFT_COLUMNS).where(Shift.id == shift_id)
    if lock is not None:
        stmt = stmt.with_for_update(read=lock == "share")
    row = conn.execute(stmt).first()
    if row is None:
        raise RecordNotFoundError(f"no shift #{shift_id}")
    return ShiftRecord(*row)


def close_shift(
    conn: Connection,
    shift_id: int,
    now: datetime,
    *,
    cash_counted: int | None = None,
    cash_expected: int | None = None,
) -> bool:
    """Close the shift, with the cash declared and the system's cash total (minor units);
    False if it was closed already (nothing changes)."""
    done = conn.execute(
        update(Shift)
        .where(Shift.id == shift_id, Shift.closed_at.is_(None))
        .values(closed_at=now, cash_counted=cash_counted, cash_expected=cash_expected)
    )
    return bool(done.rowcount)
