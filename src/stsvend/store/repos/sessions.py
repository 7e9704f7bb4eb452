"""People's sessions at terminals (``terminal_session``), found by their token's hash.

>>> from datetime import UTC, datetime, timedelta
>>> from stsvend.store.uow import Store
>>> from stsvend.store.repos import operators as ops, vendors
>>> store = Store.open("sqlite://", create=True)
>>> now = datetime(2026, 1, 1, 8, tzinfo=UTC)
>>> with store.transaction() as conn:
...     ann = ops.add_operator(conn, "ann", "clerk", "scrypt$...", now)
...     shop = vendors.add_vendor(conn, now, code="V", name="V", currency="ZAR",
...                               commission_bp=0, credit_limit=0, low_float=None, test=False)
...     till = vendors.add_terminal(conn, now, vendor_id=shop.id, code="T", role="clerk",
...                                 operator_id=ann.id, key_prefix="0" * 12, key_hash=b"k" * 32)
...     made = add_session(conn, b"h" * 32, till.id, ann.id, now, now + timedelta(hours=8))
...     shift = ops.open_shift(conn, ann.id, "V/T", now)
...     found = session_by_hash(conn, b"h" * 32, "V/T")
...     (found.username, found.role, found.shift_id == shift.id, end_session(conn, made, now))
('ann', 'clerk', True, True)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.models import Operator, Shift, TerminalSession

__all__ = ["SessionLogin", "add_session", "end_session", "session_by_hash", "touch_session"]


@frozen
class SessionLogin:
    """A session found by its token's hash, with what a request acting under it needs: the
    person (as they are now) and their open shift at the terminal, if any."""

    id: int
    token_hash: bytes
    terminal_id: int
    operator_id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    username: str
    role: str
    active: bool
    failed_logins: int
    shift_id: int | None


_FIND = (
    select(
        TerminalSession.id, TerminalSession.token_hash, TerminalSession.terminal_id,
        TerminalSession.operator_id, TerminalSession.created_at, TerminalSession.last_used_at,
        TerminalSession.expires_at, TerminalSession.ended_at, Operator.username, Operator.role,
        Operator.active, Operator.failed_logins, Shift.id,
    )
    .select_from(TerminalSession)
    .join(Operator, Operator.id == TerminalSession.operator_id)
    .outerjoin(Shift, and_(Shift.operator_id == TerminalSession.operator_id,
                           Shift.terminal == bindparam("place"), Shift.closed_at.is_(None)))
    .where(TerminalSession.token_hash == bindparam("h"))
    .order_by(Shift.id)
    .limit(1)
)  # fmt: skip


def add_session(conn: Connection, token_hash: bytes, terminal_id: int, operator_id: int,
                now: datetime, expires_at: datetime) -> int:  # fmt: skip
    """A new session (last used now); its id."""
    made = conn.execute(
        insert(TerminalSession)
        .values(token_hash=token_hash, terminal_id=terminal_id, operator_id=operator_id,
                created_at=now, last_used_at=now, expires_at=expires_at)
        .returning(TerminalSession.id)
    )  # fmt: skip
    return int(made.scalar_one())


def session_by_hash(conn: Connection, token_hash: bytes, place: str) -> SessionLogin | None:
    """The session whose token hashes to ``token_hash``, with its person's open shift at
    ``place`` (``VENDOR/TERMINAL``), in one statement."""
    row: Any = conn.execute(_FIND, {"h": token_hash, "place": place}).first()
    return None if row is None else SessionLogin(*row)


def touch_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(
        update(TerminalSession).where(TerminalSession.id == session_id).values(last_used_at=now)
    )


def end_session(conn: Connection, session_id: int, now: datetime) -> bool:
    """End the session (a logout); False if it had ended already."""
    done = conn.execute(
        update(TerminalSession)
        .where(TerminalSession.id == session_id, TerminalSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return done.rowcount == 1
