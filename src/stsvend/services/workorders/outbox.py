"""Delivering the work-order outbox: at least once, with retries and exponential backoff.

A message is written in the transaction of its decision (an order stored, a completion
acknowledged, a completion applied), so a restart loses nothing: the worker finds it pending.
Each attempt first *claims* the message for a lease (``next_at`` moved forward with a check that
nobody else moved it), then delivers it outside any transaction, then records the outcome:

* delivered: ``state = delivered`` (a routed order's state becomes ``routed``);
* failed: ``attempts + 1`` and ``next_at = now + min(base * 2**(attempts-1), max)``; after
  ``max_attempts`` the message is ``failed`` for good and a failure is recorded with its step.

**The crash window**: a worker that dies after the receiver took the message but before it
recorded the delivery leaves the message claimed; when the lease runs out it is delivered again
with the same message id.  Delivery is therefore at least once, and receivers deduplicate on the
message id (the ``X-Stsvend-Message-Id`` header of the HTTP route).

>>> RetryPolicy().delay(1), RetryPolicy().delay(4), RetryPolicy().delay(30)
(2.0, 16.0, 300.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import StsError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.workorders.model import OrderState, WorkOrderError
from stsvend.store.repos import workorders as repo
from stsvend.vending.roles import Action

__all__ = ["Delivered", "RetryPolicy", "RouteTransport", "deliver_due", "route_handler"]


class RouteTransport(Protocol):
    """A route adapter's object: sends one message to the installer's system or raises."""

    def send(self, url: str, message_id: str, body: str) -> None: ...


@frozen
class RetryPolicy:
    base_seconds: float = 2.0
    max_seconds: float = 300.0
    max_attempts: int = 10
    #: How long a claimed message is left to its worker before another may take it.
    lease_seconds: float = 60.0

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


@frozen
class Delivered:
    """One round's count: delivered, failed (to be retried) and given up."""

    delivered: int = 0
    retried: int = 0
    given_up: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.given_up


Handler = Callable[[repo.MessageRecord], None]


def _claim(svc: Services, kinds: Sequence[str], policy: RetryPolicy,
           limit: int) -> list[repo.MessageRecord]:  # fmt: skip
    now = svc.now()
    until = now + timedelta(seconds=policy.lease_seconds)
    with svc.store.transaction() as conn:
        due = repo.due_messages(conn, kinds, now, limit)
        return [m for m in due if repo.claim(conn, m, until)]


def _outcome(conn: Connection, svc: Services, message: repo.MessageRecord, error: str | None,
             policy: RetryPolicy) -> str:  # fmt: skip
    now = svc.now()
    if error is None:
        repo.set_message(conn, message.id, state="delivered", delivered_at=now,
                         attempts=message.attempts + 1)  # fmt: skip
        if message.kind == "route":
            order = repo.order_by_id(conn, message.work_order_id)
            if order.state == OrderState.RECEIVED.value:
                repo.update_order(conn, order.id, state=OrderState.ROUTED.value)
        return "delivered"
    attempts = message.attempts + 1
    order = repo.order_by_id(conn, message.work_order_id)
    if attempts >= policy.max_attempts:
        repo.set_message(conn, message.id, state="failed", attempts=attempts,
                         last_error=error[:500])  # fmt: skip
        repo.add_run(conn, at=now, step=message.kind, outcome="failed", order_id=order.order_id,
                     detail=f"given up after {attempts} attempts: {error}")  # fmt: skip
        return "given_up"
    repo.set_message(conn, message.id, attempts=attempts, last_error=error[:500],
                     next_at=now + timedelta(seconds=policy.delay(attempts)))  # fmt: skip
    return "retried"


def deliver_due(svc: Services, actor: Actor, kinds: Sequence[str], handler: Handler, *,
                policy: RetryPolicy | None = None, limit: int = 50) -> Delivered:  # fmt: skip
    """Deliver the due messages of ``kinds`` through ``handler`` (one attempt each)."""
    authorize(svc, actor, Action.WORKORDERS_MANAGE)
    policy = policy or RetryPolicy()
    counts = {"delivered": 0, "retried": 0, "given_up": 0}
    outcomes: list[tuple[repo.MessageRecord, str | None]] = []
    try:
        for message in _claim(svc, kinds, policy, limit):
            try:
                handler(message)
            except StsError as exc:
                error: str | None = exc.message
            except Exception as exc:  # an adapter's own failure is this attempt's, not the run's
                error = f"{type(exc).__name__}: {exc}"
            else:
                error = None
            outcomes.append((message, error))
    finally:
        # One transaction records the round's outcomes (a stop before it: the crash window).
        if outcomes:
            with svc.store.transaction() as conn:
                for message, error in outcomes:
                    counts[_outcome(conn, svc, message, error, policy)] += 1
    return Delivered(**counts)


def route_handler(svc: Services, transport_for: Callable[[str], RouteTransport]) -> Handler:
    """The handler of ``route`` messages: the order type's rule names the adapter and URL."""

    def send(message: repo.MessageRecord) -> None:
        with svc.store.transaction() as conn:
            order = repo.order_by_id(conn, message.work_order_id)
            rule = repo.get_route(conn, order.type)
        if rule is None:
            raise WorkOrderError(f"no route for {order.type} orders: set one with "
                                 f"`stsvend workorders route set {order.type} --url URL`")
        adapter, url = rule
        transport_for(adapter).send(url, message.message_id, message.payload)

    return send
