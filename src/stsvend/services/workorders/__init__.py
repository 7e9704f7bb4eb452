"""Installation work orders: intake, routing through an outbox, acknowledgements, applying a
completion to the store, and a replaced meter's credit transfer.

One module per concern: :mod:`.model` (types, states, errors), :mod:`.intake` (store by order
id, routing rules), :mod:`.outbox` (delivery with retries), :mod:`.acks` (the installer's
acknowledgements), :mod:`.apply` (a completion's meter registration or replacement),
:mod:`.credit` (the credit transfer token), :mod:`.status`.  The files, the XML and the HTTP
route are adapters (:mod:`stsvend.adapters.workorders`): these services never read a file.
"""

from __future__ import annotations

from stsvend.services.workorders.acks import EVENTS, AckAnswer, acknowledge
from stsvend.services.workorders.apply import apply_handler
from stsvend.services.workorders.credit import (
    KeyChangePending,
    deliver_credit,
    deliver_due_credits,
)
from stsvend.services.workorders.intake import (
    Intake,
    RouteRule,
    list_routes,
    record_failure,
    set_route,
    take_in,
)
from stsvend.services.workorders.model import (
    OrderInput,
    OrderState,
    OrderType,
    WorkOrderError,
    WorkOrderFileError,
)
from stsvend.services.workorders.outbox import (
    Delivered,
    RetryPolicy,
    RouteTransport,
    deliver_due,
    route_handler,
)
from stsvend.services.workorders.status import WorkOrderStatus, status

__all__ = [
    "EVENTS",
    "AckAnswer",
    "Delivered",
    "Intake",
    "KeyChangePending",
    "OrderInput",
    "OrderState",
    "OrderType",
    "RetryPolicy",
    "RouteRule",
    "RouteTransport",
    "WorkOrderError",
    "WorkOrderFileError",
    "WorkOrderStatus",
    "acknowledge",
    "apply_handler",
    "deliver_credit",
    "deliver_due",
    "deliver_due_credits",
    "list_routes",
    "record_failure",
    "route_handler",
    "set_route",
    "status",
    "take_in",
]
