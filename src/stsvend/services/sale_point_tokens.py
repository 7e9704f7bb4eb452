"""Tokens a sale point hands out besides credit: engineering tokens, a meter's key change
tokens, emergency credit and free issue.

Each runs the vending service of its own (:mod:`~stsvend.services.engineering`,
:mod:`~stsvend.services.keychange.meter`, :mod:`~stsvend.services.grants`) as the terminal, in
its open batch; the service's own permission check decides which terminal roles may (one role
table, :mod:`stsvend.vending.roles`).  A role that may not is refused before anything else, so
a refused request does not open a batch.  Request ids are the vendor's own, exactly like
purchase ids: the same id with the same content replays the stored answer, with other content
it is refused (``idempotency_mismatch``).
"""

from __future__ import annotations

from stsvend.errors import InputError
from stsvend.plaintext import parse_fixed, parse_whole
from stsvend.services.auth import authorize
from stsvend.services.common import request_id_of
from stsvend.services.context import Actor, Services
from stsvend.services.engineering import engineering_token
from stsvend.services.grants import emergency_credit, free_issue
from stsvend.services.keychange.meter import issue_key_change
from stsvend.services.receipt_model import SaleReceipt
from stsvend.services.terminals import TerminalIdentity, terminal_actor
from stsvend.vending.roles import Action, is_allowed

__all__ = ["emergency", "engineering", "free_units", "key_change"]


def _allowed(svc: Services, who: TerminalIdentity, action: Action) -> None:
    """Refuse (and log) unless the terminal's role may take ``action``."""
    if not is_allowed(who.role, action):
        bare = Actor(who.operator_id, who.operator, who.role.value, who.place,
                     vendor_id=who.vendor_id)  # fmt: skip
        authorize(svc, bare, action)


def _acting(svc: Services, who: TerminalIdentity, action: Action, request_id: str) -> Actor:
    """The terminal's actor in its batch, once its role may take ``action`` and the request id
    is well formed (no refusal opens a batch)."""
    _allowed(svc, who, action)
    if not isinstance(request_id, str) or not request_id:
        raise InputError("the request needs the client's request id")
    request_id_of(svc, request_id)
    return terminal_actor(svc, who)


def engineering(
    svc: Services, who: TerminalIdentity, *, request_id: str, meter: str, kind: str,
    work_order: str, value: str | None = None,
) -> SaleReceipt:  # fmt: skip
    """A class 2 engineering token under a work order (an engineer's terminal).

    ``value``: plain digits, what the kind sets (watts, a register); left out when it takes
    none.
    """
    _allowed(svc, who, Action.ENGINEERING)
    if not isinstance(work_order, str) or not work_order.strip():
        raise InputError("an engineering token needs its work order reference")
    number = None if value is None else parse_whole(value, "value", 0, 2**32 - 1)
    actor = _acting(svc, who, Action.ENGINEERING, request_id)
    return engineering_token(svc, actor, meter, kind, work_order=work_order, value=number,
                             request_id=request_id)  # fmt: skip


def key_change(svc: Services, who: TerminalIdentity, *, request_id: str, meter: str
               ) -> SaleReceipt:  # fmt: skip
    """The tokens of the meter's open key change, on their own (update meter key)."""
    actor = _acting(svc, who, Action.KEY_CHANGE, request_id)
    return issue_key_change(svc, actor, meter, request_id=request_id)


def emergency(svc: Services, who: TerminalIdentity, *, request_id: str, meter: str
              ) -> SaleReceipt:  # fmt: skip
    """The account's emergency credit: a token now, a debt later purchases repay."""
    actor = _acting(svc, who, Action.EMERGENCY_CREDIT, request_id)
    return emergency_credit(svc, actor, meter, request_id=request_id)


def free_units(
    svc: Services, who: TerminalIdentity, *, request_id: str, meter: str, units: str,
    reason: str,
) -> SaleReceipt:  # fmt: skip
    """A free issue of ``units`` (such as ``"5.0"``: steps of 0.1 of the meter's unit), with
    its reason (a supervisor's terminal; capped per month)."""
    _allowed(svc, who, Action.FREE_ISSUE)
    tenths = parse_fixed(units, 1, "units", max_whole_digits=9)
    if tenths <= 0:
        raise InputError(f"units are positive, in steps of 0.1: {units!r}")
    actor = _acting(svc, who, Action.FREE_ISSUE, request_id)
    return free_issue(svc, actor, meter, tenths, reason, request_id=request_id)
