"""``stsvend workorders status``: the orders by state, and every step that failed.

>>> WorkOrderStatus(counts={}, orders=(), failures=()).counts
{}
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.repos import workorders as repo
from stsvend.vending.roles import Action

__all__ = ["Failure", "OrderLine", "WorkOrderStatus", "status"]


@frozen
class OrderLine:
    order_id: str
    type: str
    state: str
    version: int
    bulk_id: str | None
    updated_at: str


@frozen
class Failure:
    """A step that failed: a file rejected, a delivery retried or given up."""

    step: str
    #: ``failed`` (given up, or a file rejected) or ``retrying``.
    state: str
    detail: str
    order_id: str | None = None
    source_file: str | None = None
    attempts: int | None = None
    at: str | None = None


@frozen
class WorkOrderStatus:
    #: How many orders are in each state.
    counts: dict[str, int]
    orders: tuple[OrderLine, ...]
    failures: tuple[Failure, ...]


def status(svc: Services, actor: Actor, *, limit: int = 200) -> WorkOrderStatus:
    authorize(svc, actor, Action.WORKORDERS_VIEW)
    with svc.store.transaction() as conn:
        counts = repo.count_states(conn)
        orders = tuple(
            OrderLine(o.order_id, o.type, o.state, o.version, o.bulk_id, o.updated_at.isoformat())
            for o in repo.list_orders(conn, limit=limit)
        )
        failures: list[Failure] = []
        for order_id, kind, state, attempts, error in repo.message_failures(conn, limit):
            failures.append(Failure(kind, "failed" if state == "failed" else "retrying", error,
                                    order_id=order_id, attempts=attempts))  # fmt: skip
        for row in repo.recent_failures(conn, limit):
            at: Any = row[0]
            failures.append(Failure(str(row[1]), "failed", str(row[4]), order_id=row[3],
                                    source_file=row[2], at=at.isoformat()))  # fmt: skip
    return WorkOrderStatus(counts, orders, tuple(failures))
