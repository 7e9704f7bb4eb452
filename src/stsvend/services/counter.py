"""The counter's services: finding the meter a customer means, and the session's end.

**Finding the meter.**
A clerk is handed a meter number (DRN) from the meter's label or an old receipt, a contract
number from the bill, or a customer number from the CRM.  :func:`find_meters` takes whichever
was typed and returns every meter it names, with the meter's open account: one for a meter or
a contract, as many as the customer has open accounts for a customer number (the clerk then
chooses).  A meter number with a wrong check digit is not a meter, but it may still be a
contract or customer number; if nothing matches, the error says what was looked for.

**The session.**  A counter session starts with a login (in the operation log as ``login``)
and ends with :func:`end_session`, in the operation log as ``counter.end`` with the reason
(``quit``, ``shift end``, ``idle``, ``eof``, ``hangup``) and the number of sales made.

>>> describe(FoundMeter("01000000017", MeterStatus.ACTIVE, "K-1", "C-1", "meter"))
'01000000017  contract K-1  customer C-1'
>>> describe(FoundMeter("01000000025", MeterStatus.BLOCKED, None, None, "meter"))
'01000000025  no open account  (blocked)'
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
from sqlalchemy import ColumnElement, and_, select

from stsvend.errors import InputError, StsError
from stsvend.services.auth import authorize
from stsvend.services.common import normalise_drn
from stsvend.services.context import Actor, Services
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import Account, Customer, Meter
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.meters import MeterStatus
from stsvend.vending.roles import Action

__all__ = ["SESSION_END_REASONS", "FoundMeter", "describe", "end_session", "find_meters"]

_MAX_TEXT = 40
SESSION_END_REASONS = ("quit", "shift end", "idle", "eof", "hangup")


@attrs.frozen
class FoundMeter:
    """A meter the clerk's text names, with its open account (if it has one)."""

    #: The meter number (DRN, 11 or 13 digits).
    drn: str
    #: The meter's status (a blocked meter gets no token).
    status: MeterStatus
    #: The open account's contract number; None when the meter has no open account.
    contract: str | None
    #: The open account's customer number; None when the meter has no open account.
    customer: str | None
    #: How the text named it: as its ``meter`` number, a ``contract`` or a ``customer`` number.
    matched: Literal["meter", "contract", "customer"]


def _query() -> Any:
    open_account = and_(Account.meter_id == Meter.id, Account.closed_at.is_(None))
    return (
        select(Meter.drn, Meter.status, Account.contract_number, Customer.customer_number)
        .select_from(Meter)
        .outerjoin(Account, open_account)
        .outerjoin(Customer, Customer.id == Account.customer_id)
        .order_by(Meter.drn)
    )


def find_meters(svc: Services, actor: Actor, text: str) -> tuple[FoundMeter, ...]:
    """The meters ``text`` names, as a meter number, a contract number or a customer number,
    in the order meter, contract, customer, then by DRN.

    Refused: an empty or overlong text (:class:`InputError`), nothing found
    (:class:`RecordNotFoundError`).
    """
    authorize(svc, actor, Action.METERS_VIEW)
    wanted = text.strip() if isinstance(text, str) else ""
    if not wanted or len(wanted) > _MAX_TEXT or not wanted.isprintable():
        raise InputError("type a meter number, a contract number or a customer number")
    try:
        drn: str | None = normalise_drn(wanted)
    except StsError:
        drn = None
    found: dict[str, FoundMeter] = {}
    with svc.store.transaction() as conn:
        searches: list[tuple[Literal["meter", "contract", "customer"], ColumnElement[bool]]] = [
            ("contract", Account.contract_number == wanted),
            ("customer", Customer.customer_number == wanted),
        ]
        if drn is not None:
            searches.insert(0, ("meter", Meter.drn == drn))
        for matched, condition in searches:
            for row in conn.execute(_query().where(condition)):
                found.setdefault(row.drn, FoundMeter(
                    drn=row.drn, status=MeterStatus(row.status), contract=row.contract_number,
                    customer=row.customer_number, matched=matched,
                ))  # fmt: skip
    if not found:
        raise RecordNotFoundError(f"no meter, contract or customer number {wanted!r}")
    return tuple(found.values())


def describe(meter: FoundMeter) -> str:
    """One line naming a found meter, for a list to choose from."""
    text = meter.drn
    if meter.contract:
        text += f"  contract {meter.contract}  customer {meter.customer}"
    else:
        text += "  no open account"
    if meter.status is not MeterStatus.ACTIVE:
        text += f"  ({meter.status.value})"
    return text


def end_session(svc: Services, actor: Actor, reason: str, sales: int) -> None:
    """Record the end of a counter session (why, and how many sales it made)."""
    if reason not in SESSION_END_REASONS:
        raise ValueError(f"not a reason a session ends: {reason!r}")
    with svc.store.transaction() as conn:
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="counter.end",
            target=None if actor.shift_id is None else str(actor.shift_id),
            detail={"reason": reason, "sales": sales},
        )
