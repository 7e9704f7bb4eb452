"""An installer's acknowledgements of a work order: started, supply interrupted, completed.

The installer's system calls the sale-point server with its key (a terminal key of role
``installer``, which may do this and nothing else).  Each acknowledgement moves the order on:

* ``started``: the installer is on site;
* ``supply-interrupted``: the customer's supply is off for the work;
* ``completed``: the work is done, with the installation data: the meter installed and its
  model (installation, replacement), the old meter's remaining credit (replacement), the dates.

An acknowledgement the order has had already is answered again (``replayed``), never applied
twice; a completion that contradicts the recorded one is refused.  A completion queues its
*apply* message in the same transaction: the worker registers or replaces the meter
(:mod:`stsvend.services.workorders.apply`).

>>> EVENTS["completed"].value
'completed'
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.errors import InputError
from stsvend.plaintext import parse_fixed
from stsvend.services.auth import authorize
from stsvend.services.common import normalise_drn
from stsvend.services.context import Actor, Services
from stsvend.services.terminals import TerminalIdentity
from stsvend.services.workorders.model import OrderState, OrderType, WorkOrderError, dumps
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import Account, Customer, Meter
from stsvend.store.repos import workorders as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = ["EVENTS", "AckAnswer", "acknowledge"]

#: The acknowledgements and the state each leads to.
EVENTS: dict[str, OrderState] = {
    "started": OrderState.STARTED,
    "supply-interrupted": OrderState.INTERRUPTED,
    "completed": OrderState.COMPLETED,
}
_ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_RANK = {OrderState.RECEIVED: 0, OrderState.ROUTED: 0, OrderState.STARTED: 1,
         OrderState.INTERRUPTED: 2, OrderState.COMPLETED: 3, OrderState.APPLIED: 3}  # fmt: skip


@frozen
class AckAnswer:
    """What an acknowledgement did."""

    order_id: str
    type: str
    event: str
    #: The order's state now.
    state: str
    #: True: the order had this acknowledgement already; nothing was done again.
    replayed: bool


def _day(text: str | None, what: str, *, required: bool) -> str | None:
    if text is None or text == "":
        if required:
            raise InputError(f"a completion gives {what} (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else _bad(what)
    except ValueError:
        return _bad(what)


def _bad(what: str) -> str:
    raise InputError(f"{what} is a day, YYYY-MM-DD")


def installation_data(order_type: OrderType, fields: dict[str, str | None]) -> dict[str, Any]:
    """The completion's data, checked for the order's type."""
    data: dict[str, Any] = {
        "installed_on": _day(fields.get("installed_on"), "installed_on", required=True),
        "removed_on": _day(fields.get("removed_on"), "removed_on", required=False),
    }
    if data["removed_on"] is not None and data["removed_on"] > data["installed_on"]:
        raise InputError("removed_on is after installed_on")
    if order_type.installs_meter:
        meter, model = fields.get("meter"), fields.get("model")
        if not meter or not model:
            raise InputError(f"a {order_type.value} completion gives the meter and its model")
        if not _MODEL.fullmatch(model):
            raise InputError("a meter model is 1-40 letters, digits and ._-")
        data.update(meter=normalise_drn(meter), model=model)
    credit = fields.get("old_meter_credit")
    if order_type is OrderType.REPLACEMENT:
        if credit is None or credit == "":
            raise InputError("a replacement's completion gives the old meter's remaining "
                             "credit (old_meter_credit, in the meter's unit: \"12.5\")")
        data["old_meter_credit"] = parse_fixed(credit, 1, "old_meter_credit",
                                               max_whole_digits=7)  # fmt: skip
    elif credit not in (None, ""):
        raise InputError(f"a {order_type.value} completion has no old meter credit")
    return data


def acknowledge(svc: Services, who: TerminalIdentity, order_id: str, event: str,
                fields: dict[str, str | None]) -> AckAnswer:  # fmt: skip
    """Record the installer's acknowledgement ``event`` of ``order_id``."""
    actor = Actor(who.operator_id, who.operator, who.role.value, who.place,
                  vendor_id=who.vendor_id)  # fmt: skip
    authorize(svc, actor, Action.WORKORDER_ACK)
    if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
        raise InputError("an order id is 1-40 letters, digits and ._-")
    if event not in EVENTS:
        raise InputError(f"an acknowledgement is one of: {', '.join(EVENTS)}")
    target = EVENTS[event]
    now = svc.now()
    with svc.store.transaction() as conn:
        order = repo.get_order(conn, order_id, lock=True)
        if order is None:
            raise RecordNotFoundError(f"no work order {order_id}")
        kind = OrderType(order.type)
        state = OrderState(order.state)
        data = installation_data(kind, fields) if target is OrderState.COMPLETED else None
        customer = _customer_of(conn, json.loads(order.payload))
        if state is target or (target is OrderState.COMPLETED and state is OrderState.APPLIED):
            if data is not None and order.installation is not None and \
                    json.loads(order.installation) != data:  # fmt: skip
                raise WorkOrderError(f"order {order_id} was completed with other data")
            answer = AckAnswer(order_id, kind.value, event, state.value, True)
        elif _RANK[target] < _RANK[state] or state is OrderState.APPLIED:
            raise WorkOrderError(f"order {order_id} is {state.value}: it cannot be {event} now")
        else:
            values: dict[str, Any] = {"state": target.value, "updated_at": now}
            if data is not None:
                values["installation"] = dumps(data)
                repo.add_message(conn, message_id=f"{order_id}/apply", work_order_id=order.id,
                                 kind="apply", payload=dumps(data), now=now)  # fmt: skip
            repo.update_order(conn, order.id, **values)
            log_operation(conn, at=now, operator=who.operator, terminal=who.place,
                          action="workorders.ack", target=order_id, detail={"event": event})
            answer = AckAnswer(order_id, kind.value, event, target.value, False)
    # The customer hears of it once per order and status; an installer's repeat, answered the
    # same, also makes good a notice that a crash lost after the acknowledgement's commit.
    if customer is not None:
        from stsvend.services.notices.producer import enqueue_work_order_status

        enqueue_work_order_status(svc, customer, order_id, event)
    return answer


def _customer_of(conn: Connection, order: dict[str, Any]) -> str | None:
    """The customer number of the order's contract, else of the open account on the meter it
    takes out or works on (None: no customer to tell, a new meter's installation)."""
    if order.get("contract"):
        found = conn.execute(
            select(Customer.customer_number).join(Account, Account.customer_id == Customer.id)
            .where(Account.contract_number == order["contract"])
        ).scalar()  # fmt: skip
        if found is not None:
            return str(found)
    for drn in (order.get("old_meter"), order.get("meter")):
        if drn:
            found = conn.execute(
                select(Customer.customer_number)
                .join(Account, Account.customer_id == Customer.id)
                .join(Meter, Meter.id == Account.meter_id)
                .where(Meter.drn == drn, Account.closed_at.is_(None))
            ).scalar()  # fmt: skip
            if found is not None:
                return str(found)
    return None
