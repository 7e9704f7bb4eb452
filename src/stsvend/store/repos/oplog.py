"""The operation log: who did what, where, when, and whether it was allowed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.store.models import OperationLog
from stsvend.store.uow import LOG_KEY_INFO
from stsvend.tokenlog.oplog import append_operation

__all__ = ["list_operations", "log_operation"]


def log_operation(
    conn: Connection,
    *,
    at: datetime,
    operator: str,
    terminal: str,
    action: str,
    outcome: str = "ok",
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    # Chained under the log key when the transaction's store holds it; pending otherwise
    # (the next seal chains it): see docs/token-log.md.
    append_operation(
        conn,
        conn.info.get(LOG_KEY_INFO),
        {
            "at": at,
            "operator": operator,
            "terminal": terminal,
            "action": action,
            "outcome": outcome,
            "target": target,
            "detail": detail or {},
        },
    )


def list_operations(
    conn: Connection, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    stmt = select(OperationLog).order_by(OperationLog.id)
    if since is not None:
        stmt = stmt.where(OperationLog.at >= since)
    if until is not None:
        stmt = stmt.where(OperationLog.at < until)
    return [
        {
            "at": r.at.isoformat(),
            "operator": r.operator,
            "terminal": r.terminal,
            "action": r.action,
            "outcome": r.outcome,
            "target": r.target,
            "detail": r.detail,
        }
        for r in conn.execute(stmt)
    ]
