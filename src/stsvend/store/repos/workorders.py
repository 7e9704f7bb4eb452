"""Work orders, their routes, their outbox, their runs and credit transfers (SQL only).

>>> from stsvend.store.uow import Store
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     get_order(conn, "WO-1"), get_route(conn, "installation")
(None, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.models import (
    CreditTransfer,
    WorkOrder,
    WorkOrderOutbox,
    WorkOrderRoute,
    WorkOrderRun,
)

__all__ = [
    "MessageRecord",
    "OrderRecord",
    "TransferRecord",
    "add_message",
    "add_order",
    "add_run",
    "add_transfer",
    "claim",
    "count_states",
    "due_messages",
    "get_order",
    "get_route",
    "get_transfer",
    "list_orders",
    "list_routes",
    "message_failures",
    "order_by_id",
    "put_route",
    "recent_failures",
    "set_message",
    "set_transfer",
    "update_order",
    "waiting_transfers",
]


@frozen
class OrderRecord:
    id: int
    order_id: str
    type: str
    state: str
    bulk_id: str | None
    payload: str
    installation: str | None
    version: int
    source_file: str
    created_at: datetime
    updated_at: datetime


@frozen
class MessageRecord:
    id: int
    message_id: str
    work_order_id: int
    kind: str
    state: str
    payload: str
    attempts: int
    next_at: datetime
    last_error: str | None


@frozen
class TransferRecord:
    id: int
    work_order_id: int
    old_meter: str
    new_meter: str
    units: int
    state: str
    sale_id: int | None


_ORDER = (WorkOrder.id, WorkOrder.order_id, WorkOrder.type, WorkOrder.state, WorkOrder.bulk_id,
          WorkOrder.payload, WorkOrder.installation, WorkOrder.version, WorkOrder.source_file,
          WorkOrder.created_at, WorkOrder.updated_at)  # fmt: skip
_MESSAGE = (WorkOrderOutbox.id, WorkOrderOutbox.message_id, WorkOrderOutbox.work_order_id,
            WorkOrderOutbox.kind, WorkOrderOutbox.state, WorkOrderOutbox.payload,
            WorkOrderOutbox.attempts, WorkOrderOutbox.next_at,
            WorkOrderOutbox.last_error)  # fmt: skip
_TRANSFER = (CreditTransfer.id, CreditTransfer.work_order_id, CreditTransfer.old_meter,
             CreditTransfer.new_meter, CreditTransfer.units, CreditTransfer.state,
             CreditTransfer.sale_id)  # fmt: skip


# -- orders ----------------------------------------------------------------------------------


def get_order(conn: Connection, order_id: str, *, lock: bool = False) -> OrderRecord | None:
    stmt = select(*_ORDER).where(WorkOrder.order_id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else OrderRecord(*row)


def order_by_id(conn: Connection, row_id: int) -> OrderRecord:
    return OrderRecord(*conn.execute(select(*_ORDER).where(WorkOrder.id == row_id)).one())


def add_order(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(WorkOrder).values(**values).returning(WorkOrder.id))
    return int(result.scalar_one())


def update_order(conn: Connection, row_id: int, **values: Any) -> None:
    conn.execute(update(WorkOrder).where(WorkOrder.id == row_id).values(**values))


def list_orders(conn: Connection, *, limit: int = 1000) -> list[OrderRecord]:
    stmt = select(*_ORDER).order_by(WorkOrder.updated_at.desc(), WorkOrder.id.desc()).limit(limit)
    return [OrderRecord(*r) for r in conn.execute(stmt)]


def count_states(conn: Connection) -> dict[str, int]:
    stmt = select(WorkOrder.state, func.count()).group_by(WorkOrder.state)
    return {str(state): int(n) for state, n in conn.execute(stmt)}


# -- routes ----------------------------------------------------------------------------------


def get_route(conn: Connection, order_type: str) -> tuple[str, str] | None:
    """(adapter, url) of an order type's rule, if any."""
    stmt = select(WorkOrderRoute.adapter, WorkOrderRoute.url).where(
        WorkOrderRoute.order_type == order_type
    )
    row = conn.execute(stmt).first()
    return None if row is None else (str(row[0]), str(row[1]))


def put_route(conn: Connection, order_type: str, adapter: str, url: str, now: datetime) -> None:
    values = {"adapter": adapter, "url": url, "updated_at": now}
    done = conn.execute(
        update(WorkOrderRoute).where(WorkOrderRoute.order_type == order_type).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(WorkOrderRoute).values(order_type=order_type, **values))


def list_routes(conn: Connection) -> list[tuple[str, str, str]]:
    stmt = select(WorkOrderRoute.order_type, WorkOrderRoute.adapter, WorkOrderRoute.url)
    return [(str(a), str(b), str(c)) for a, b, c in conn.execute(stmt.order_by("order_type"))]


# -- outbox ----------------------------------------------------------------------------------


def add_message(conn: Connection, *, message_id: str, work_order_id: int, kind: str,
                payload: str, now: datetime, fresh: bool = False) -> None:  # fmt: skip
    """Queue a message unless one with this id exists (a repeated decision queues nothing;
    ``fresh``: the caller knows the id is new)."""
    found = None if fresh else conn.execute(
        select(WorkOrderOutbox.id).where(WorkOrderOutbox.message_id == message_id)
    ).first()  # fmt: skip
    if found is None:
        conn.execute(insert(WorkOrderOutbox).values(
            message_id=message_id, work_order_id=work_order_id, kind=kind, state="pending",
            payload=payload, attempts=0, next_at=now, created_at=now,
        ))  # fmt: skip


def due_messages(conn: Connection, kinds: Sequence[str], now: datetime,
                 limit: int) -> list[MessageRecord]:  # fmt: skip
    stmt = (
        select(*_MESSAGE)
        .where(WorkOrderOutbox.state == "pending", WorkOrderOutbox.next_at <= now,
               WorkOrderOutbox.kind.in_(kinds))
        .order_by(WorkOrderOutbox.next_at, WorkOrderOutbox.id)
        .limit(limit)
    )
    return [MessageRecord(*r) for r in conn.execute(stmt)]


def claim(conn: Connection, message: MessageRecord, until: datetime) -> bool:
    """Take the message for one delivery attempt until ``until`` (a lease): False when another
    worker took it first (its ``next_at`` is no longer the one read)."""
    done = conn.execute(
        update(WorkOrderOutbox)
        .where(WorkOrderOutbox.id == message.id, WorkOrderOutbox.state == "pending",
               WorkOrderOutbox.next_at == message.next_at)
        .values(next_at=until)
    )
    return bool(done.rowcount == 1)


def set_message(conn: Connection, row_id: int, **values: Any) -> None:
    conn.execute(update(WorkOrderOutbox).where(WorkOrderOutbox.id == row_id).values(**values))


def message_failures(conn: Connection, limit: int = 100) -> list[tuple[str, str, str, int, str]]:
    """(order id, kind, state, attempts, last error) of messages failed or being retried."""
    stmt = (
        select(WorkOrder.order_id, WorkOrderOutbox.kind, WorkOrderOutbox.state,
               WorkOrderOutbox.attempts, WorkOrderOutbox.last_error)
        .join(WorkOrder, WorkOrder.id == WorkOrderOutbox.work_order_id)
        .where(WorkOrderOutbox.state != "delivered", WorkOrderOutbox.last_error.is_not(None))
        .order_by(WorkOrderOutbox.id)
        .limit(limit)
    )
    return [(str(a), str(b), str(c), int(d), str(e)) for a, b, c, d, e in conn.execute(stmt)]


# -- runs ------------------------------------------------------------------------------------


def add_run(conn: Connection, *, at: datetime, step: str, outcome: str, detail: str,
            source_file: str | None = None, order_id: str | None = None) -> None:  # fmt: skip
    conn.execute(insert(WorkOrderRun).values(
        at=at, step=step, outcome=outcome, detail=detail[:500], source_file=source_file,
        order_id=order_id,
    ))  # fmt: skip


def recent_failures(conn: Connection, limit: int = 100) -> list[tuple[Any, ...]]:
    """(at, step, source file, order id, detail) of the latest failed steps, newest first."""
    stmt = (
        select(WorkOrderRun.at, WorkOrderRun.step, WorkOrderRun.source_file,
               WorkOrderRun.order_id, WorkOrderRun.detail)
        .where(WorkOrderRun.outcome == "failed")
        .order_by(WorkOrderRun.id.desc())
        .limit(limit)
    )
    return [tuple(r) for r in conn.execute(stmt)]


# -- credit transfers ------------------------------------------------------------------------


def add_transfer(conn: Connection, *, work_order_id: int, old_meter: str, new_meter: str,
                 units: int, now: datetime) -> None:  # fmt: skip
    conn.execute(insert(CreditTransfer).values(
        work_order_id=work_order_id, old_meter=old_meter, new_meter=new_meter, units=units,
        state="waiting", created_at=now,
    ))  # fmt: skip


def get_transfer(conn: Connection, work_order_id: int, *,
                 lock: bool = False) -> TransferRecord | None:  # fmt: skip
    stmt = select(*_TRANSFER).where(CreditTransfer.work_order_id == work_order_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else TransferRecord(*row)


def set_transfer(conn: Connection, row_id: int, **values: Any) -> None:
    conn.execute(update(CreditTransfer).where(CreditTransfer.id == row_id).values(**values))


def waiting_transfers(conn: Connection, limit: int = 100) -> list[tuple[str, TransferRecord]]:
    """(order id, transfer) of the credit transfers not issued yet."""
    stmt = (
        select(WorkOrder.order_id, *_TRANSFER)
        .join(WorkOrder, WorkOrder.id == CreditTransfer.work_order_id)
        .where(CreditTransfer.state == "waiting")
        .order_by(CreditTransfer.id)
        .limit(limit)
    )
    return [(str(r[0]), TransferRecord(*r[1:])) for r in conn.execute(stmt)]
