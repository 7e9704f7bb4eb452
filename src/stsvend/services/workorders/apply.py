"""Applying a completed work order to the store: what the installer did, the store now knows.

* an installation registers the new meter (on its default key: a commissioning key change to
  its unique key is queued at once, :func:`stsvend.services.registry.add_meter`);
* a replacement does the same for the new meter, moves the old meter's open account to it,
  blocks the old meter, and records the old meter's remaining credit as a credit transfer (a
  credit token for the new meter once its key change is confirmed, :mod:`.credit`);
* a removal blocks the meter taken out.

Then the order is ``applied`` and its result is queued for the CRM's results folder, in one
transaction.  A crash between the meter's registration and that transaction is harmless: the
apply message is delivered again, finds the meter registered, and goes on.
"""

from __future__ import annotations

import json
from typing import Any

from stsvend.services import registry
from stsvend.services.context import Actor, Services
from stsvend.services.workorders.model import OrderState, OrderType, WorkOrderError, dumps
from stsvend.services.workorders.outbox import Handler
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.repos import accounts as acc
from stsvend.store.repos import meters as mtr
from stsvend.store.repos import workorders as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.workorders import MessageRecord

__all__ = ["apply_handler", "result_document"]


def _registered(svc: Services, drn: str) -> bool:
    with svc.store.transaction() as conn:
        try:
            mtr.get_meter(conn, drn)
        except RecordNotFoundError:
            return False
    return True


def result_document(order: repo.OrderRecord, data: dict[str, Any],
                    transfer_units: int | None) -> dict[str, Any]:  # fmt: skip
    """What goes back to the CRM: the order, its completion, what the store did."""
    return {"order_id": order.order_id, "type": order.type, "state": "completed",
            "installation": data, "credit_transfer_units": transfer_units}  # fmt: skip


def _apply(svc: Services, actor: Actor, message: MessageRecord) -> None:
    with svc.store.transaction() as conn:
        order = repo.order_by_id(conn, message.work_order_id)
    if order.state == OrderState.APPLIED.value:
        return
    kind = OrderType(order.type)
    payload, data = json.loads(order.payload), json.loads(message.payload)
    new_meter: str | None = data.get("meter")
    if kind.installs_meter and new_meter is not None and not _registered(svc, new_meter):
        if payload.get("sgc") is None:
            raise WorkOrderError(f"order {order.order_id} names no supply group for the meter")
        registry.add_meter(svc, actor, new_meter, sgc=int(payload["sgc"]), default_key=True,
                           request_id=f"wo-{order.order_id}-meter")  # fmt: skip
    now = svc.now()
    with svc.store.transaction() as conn:
        # Locked, then read: a second worker applying the same order waits here and then
        # finds it applied.
        locked = repo.get_order(conn, order.order_id, lock=True)
        if locked is None or locked.state == OrderState.APPLIED.value:
            return
        order = locked
        units = None
        taken_out = payload.get("old_meter") or (payload.get("meter") if kind is
                                                 OrderType.REMOVAL else None)  # fmt: skip
        if taken_out is not None:
            old = mtr.get_meter(conn, taken_out, lock=True)
            if kind is OrderType.REPLACEMENT and new_meter is not None:
                new = mtr.get_meter(conn, new_meter)
                account = acc.open_account_of_meter(conn, old.id)
                if account is not None:
                    acc.update_account(conn, account.id, meter_id=new.id)
                units = int(data.get("old_meter_credit") or 0)
                if units > 0:
                    repo.add_transfer(conn, work_order_id=order.id, old_meter=old.drn,
                                      new_meter=new.drn, units=units, now=now)  # fmt: skip
            mtr.set_status(conn, old.id, "blocked")
        repo.update_order(conn, order.id, state=OrderState.APPLIED.value, updated_at=now)
        repo.add_message(conn, message_id=f"{order.order_id}/result", work_order_id=order.id,
                         kind="result", payload=dumps(result_document(order, data, units)),
                         now=now)  # fmt: skip
        repo.add_run(conn, at=now, step="apply", outcome="ok", order_id=order.order_id,
                     detail=f"{kind.value} applied")  # fmt: skip
        log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                      action="workorders.apply", target=order.order_id,
                      detail={"type": kind.value, "meter": new_meter, "old_meter": taken_out,
                              "credit_transfer_units": units})  # fmt: skip


def apply_handler(svc: Services, actor: Actor) -> Handler:
    """The handler of ``apply`` messages (the worker's operator registers the meters)."""
    return lambda message: _apply(svc, actor, message)
