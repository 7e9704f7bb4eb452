"""Reversal rules: a supervisor undoes a sale's money; the token itself cannot be undone.

A token entered into a meter cannot be revoked.  A reversal therefore only refunds money and
restores the account; the token stays in the log, marked reversed, and the reversal receipt says
so (:data:`REVERSAL_NOTICE`).  Rules:

* supervisor role, and a reason (at least 5 characters);
* only a sale (a paid credit token) is reversed: not a free issue, emergency credit, key change,
  engineering or test token;
* not one already reversed;
* within the policy's window of its issue (default 24 hours; later it is a refund case);
* only the account's latest sale, so that the balances it changed can be put back exactly
  (:func:`restored_states`): reverse later sales first.

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend.vending.roles import Role
>>> now = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
>>> sale = ReversalCandidate(TokenPurpose.SALE, now - timedelta(hours=1), reversed=False,
...                          latest_for_account=True)
>>> check_reversal(Role.SUPERVISOR, "customer paid twice", sale, now=now)
'customer paid twice'
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.errors import ReversalError
from stsvend.vending.reasons import normalise_reason
from stsvend.vending.roles import Action, Role, check_permission
from stsvend.vending.sale import SaleBreakdown
from stsvend.vending.tokenspec import TokenPurpose

__all__ = [
    "REVERSAL_NOTICE",
    "ReversalCandidate",
    "ReversalPolicy",
    "check_reversal",
    "restored_states",
]

#: Printed on every reversal receipt and shown wherever a reversed token is listed.
REVERSAL_NOTICE = (
    "REVERSED: the money is refunded, but this token cannot be revoked at the meter. "
    "If it was entered, its units stay on the meter."
)


@frozen
class ReversalPolicy:
    """How long after its issue a sale may be reversed."""

    window: timedelta = timedelta(hours=24)


@frozen
class ReversalCandidate:
    """What the store knows about the token a supervisor wants to reverse."""

    purpose: TokenPurpose
    issued_at: datetime
    reversed: bool
    #: True when no later sale exists on the same account.
    latest_for_account: bool


_DEFAULT = ReversalPolicy()


def check_reversal(
    role: Role,
    reason: object,
    candidate: ReversalCandidate,
    *,
    now: datetime,
    policy: ReversalPolicy = _DEFAULT,
) -> str:
    """Check a reversal; returns the normalised reason to log."""
    check_permission(role, Action.REVERSE)
    text = normalise_reason(reason, what="a reversal", error=ReversalError)
    if candidate.purpose is not TokenPurpose.SALE:
        raise ReversalError(
            f"only a sale is reversed; this token is a {candidate.purpose.value.replace('_', ' ')}"
        )
    if candidate.reversed:
        raise ReversalError("this sale is already reversed")
    if now < candidate.issued_at:
        raise ReversalError("the sale's issue time is after now: check the clock")
    if now - candidate.issued_at > policy.window:
        hours = policy.window.total_seconds() / 3600
        raise ReversalError(
            f"a sale is reversed within {hours:g} hours of its issue; this one is older "
            "(handle it as a refund)"
        )
    if not candidate.latest_for_account:
        raise ReversalError("a later sale exists on this account: reverse that one first")
    return text


def restored_states(sale: SaleBreakdown) -> tuple[AccountState, MonthToDate]:
    """The account and month states a reversal of the (latest) ``sale`` puts back."""
    return sale.account_before, sale.month_before
