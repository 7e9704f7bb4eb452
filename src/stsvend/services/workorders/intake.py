"""Taking orders in: stored or updated by the CRM's order id, each change queued for routing.

One file is one transaction (:func:`take_in`): every order of it is stored, or none is (a
bulk order split into single orders included).  An order seen before with the same content is
left as it is and queues nothing; with other content it is updated (``version`` + 1) and routed
again, unless the installer has completed it already (refused: the whole file is rejected).

The routed message's id is ``ORDER/vVERSION/route``: stable across retries and restarts, so the
installer's system can deduplicate on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.workorders.model import (
    OPEN_STATES,
    OrderInput,
    OrderState,
    OrderType,
    WorkOrderError,
    dumps,
)
from stsvend.store.repos import workorders as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = ["Intake", "RouteRule", "list_routes", "record_failure", "route_message", "set_route",
           "take_in"]  # fmt: skip

_URL = re.compile(r"https?://[^\s]{1,480}")


@frozen
class Intake:
    """What one file did: the orders created, updated and unchanged (their ids)."""

    source_file: str
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


@frozen
class RouteRule:
    order_type: str
    adapter: str
    url: str


def route_message(order_id: str, version: int, payload: str, now_iso: str) -> tuple[str, str]:
    """The routed message of an order's version: (message id, JSON body).

    The body is an IEC 61968-9 style envelope: a header (verb, noun, timestamp, message id,
    correlation id = the order id) and the order as payload.
    """
    message_id = f"{order_id}/v{version}/route"
    body = {
        "header": {"verb": "create" if version == 1 else "change", "noun": "WorkOrder",
                   "timestamp": now_iso, "message_id": message_id, "correlation_id": order_id},
        "payload": {**json.loads(payload), "version": version},
    }  # fmt: skip
    return message_id, dumps(body)


def _store_one(conn: Connection, svc: Services, order: OrderInput, source: str) -> str:
    """``created``, ``updated`` or ``unchanged``."""
    now = svc.now()
    payload = dumps(order.document())
    found = repo.get_order(conn, order.order_id, lock=True)
    if found is not None and found.payload == payload:
        return "unchanged"
    if found is None:
        row_id = repo.add_order(
            conn, order_id=order.order_id, type=order.type, state=OrderState.RECEIVED.value,
            bulk_id=order.bulk_id, payload=payload, installation=None, version=1,
            source_file=source[:255], created_at=now, updated_at=now,
        )  # fmt: skip
        outcome, version = "created", 1
    else:
        if OrderState(found.state) not in OPEN_STATES:
            raise WorkOrderError(
                f"order {order.order_id} is {found.state}: the CRM may not change it now"
            )
        if found.type != order.type:
            raise WorkOrderError(
                f"order {order.order_id} is a {found.type} order: its type does not change"
            )
        row_id = found.id
        repo.update_order(conn, row_id, payload=payload, version=found.version + 1,
                          bulk_id=order.bulk_id, source_file=source[:255], updated_at=now,
                          state=OrderState.RECEIVED.value)  # fmt: skip
        outcome, version = "updated", found.version + 1
    message_id, body = route_message(order.order_id, version, payload, now.isoformat())
    # A new version's message id is new: no need to look for it first.
    repo.add_message(conn, message_id=message_id, work_order_id=row_id, kind="route",
                     payload=body, now=now, fresh=True)  # fmt: skip
    return outcome


def take_in(svc: Services, actor: Actor, orders: Sequence[OrderInput], *,
            source: str) -> Intake:  # fmt: skip
    """Store the orders of one file (all or none) and queue each change for routing."""
    authorize(svc, actor, Action.WORKORDERS_MANAGE)
    seen: set[str] = set()
    for order in orders:
        OrderType.parse(order.type)
        if order.order_id in seen:
            raise WorkOrderError(f"order {order.order_id} is twice in one file")
        seen.add(order.order_id)
    done: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    with svc.store.transaction() as conn:
        for order in orders:
            done[_store_one(conn, svc, order, source)].append(order.order_id)
        repo.add_run(conn, at=svc.now(), step="intake", outcome="ok", source_file=source[:255],
                     detail=f"{len(done['created'])} created, {len(done['updated'])} updated, "
                            f"{len(done['unchanged'])} unchanged")  # fmt: skip
    return Intake(source, tuple(done["created"]), tuple(done["updated"]),
                  tuple(done["unchanged"]))  # fmt: skip


def record_failure(svc: Services, *, step: str, detail: str, source_file: str | None = None,
                   order_id: str | None = None) -> None:  # fmt: skip
    """Record a failed step (a file rejected, a delivery given up) for ``workorders status``."""
    with svc.store.transaction() as conn:
        repo.add_run(conn, at=svc.now(), step=step, outcome="failed", detail=detail,
                     source_file=None if source_file is None else source_file[:255],
                     order_id=order_id)  # fmt: skip


def set_route(svc: Services, actor: Actor, order_type: str, url: str, *,
              adapter: str = "http-json") -> RouteRule:  # fmt: skip
    """Route orders of ``order_type`` to ``url`` through the route adapter ``adapter``."""
    authorize(svc, actor, Action.WORKORDERS_MANAGE)
    kind = OrderType.parse(order_type).value
    if not isinstance(url, str) or not _URL.fullmatch(url.strip()):
        raise InputError("a route's URL is http:// or https:// and at most 480 characters")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", adapter or ""):
        raise InputError("a route adapter's name is 1-40 of a-z 0-9 _ -")
    with svc.store.transaction() as conn:
        repo.put_route(conn, kind, adapter, url.strip(), svc.now())
        log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                      action="workorders.route", target=kind,
                      detail={"adapter": adapter, "url": url.strip()})  # fmt: skip
    return RouteRule(kind, adapter, url.strip())


def list_routes(svc: Services, actor: Actor) -> tuple[RouteRule, ...]:
    authorize(svc, actor, Action.WORKORDERS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(RouteRule(*row) for row in repo.list_routes(conn))
