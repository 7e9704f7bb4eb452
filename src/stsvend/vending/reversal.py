"""Reversal rules: a supervisor undoes a sale's money; the token itself cannot be undone.

A token entered into a meter cannot be revoked.  A reversal therefore only refunds money and
restores the account; the token stays in the log, marked reversed, and the reversal receipt says
so (:data:`REVERSAL_NOTICE`).

Every reversal, whoever asks for it (:func:`check_reversal_limits`):

* only a sale (a paid credit token) is reversed: not a free issue, emergency credit, key change,
  engineering or test token;
* not one already reversed;
* within the policy's window of its issue and up to its amount cap (larger or older: a refund
  case, handled outside the counter);
* only the account's latest sale, so that the balances it changed can be put back exactly
  (:func:`restored_states`): reverse later sales first.

A discretionary reversal at the counter (:func:`check_reversal`) also needs the supervisor role,
a reason (at least 5 characters), and **another operator than the one who sold**: otherwise one
person could sell, hand the token over and take the cash back.  An automatic reversal (a
terminal's "not delivered" advice) is another path with its own, tighter policy; it reuses
:func:`check_reversal_limits`.

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend.vending.roles import Role
>>> now = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
>>> sale = ReversalCandidate(TokenPurpose.SALE, now - timedelta(hours=1), reversed=False,
...                          latest_for_account=True, seller_id=3,
...                          amount=Money.parse("50.00", "ZAR"))
>>> check_reversal(Role.SUPERVISOR, "customer paid twice", sale, reverser_id=4, now=now)
'customer paid twice'
>>> check_reversal(Role.SUPERVISOR, "customer paid twice", sale, reverser_id=3, now=now)
Traceback (most recent call last):
...
stsvend.vending.errors.ReversalError: a sale is reversed by another operator than the one who \
sold it: ask a second supervisor
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.errors import ReversalError
from stsvend.vending.money import Money
from stsvend.vending.reasons import normalise_reason
from stsvend.vending.roles import Action, Role, check_permission
from stsvend.vending.sale import SaleBreakdown
from stsvend.vending.tokenspec import TokenPurpose

__all__ = [
    "REVERSAL_NOTICE",
    "ReversalCandidate",
    "ReversalPolicy",
    "check_reversal",
    "check_reversal_limits",
    "restored_states",
]

#: Printed on every reversal receipt and shown wherever a reversed token is listed.
REVERSAL_NOTICE = (
    "REVERSED: the money is refunded, but this token cannot be revoked at the meter. "
    "If it was entered, its units stay on the meter."
)


@frozen
class ReversalPolicy:
    """How long after its issue, and up to which amount, a sale may be reversed."""

    window: timedelta = timedelta(hours=24)
    #: The largest sale reversed (None: no cap); a cap in another currency refuses everything.
    max_amount: Money | None = None


@frozen
class ReversalCandidate:
    """What the store knows about the token a supervisor wants to reverse."""

    purpose: TokenPurpose
    issued_at: datetime
    reversed: bool
    #: True when no later sale exists on the same account.
    latest_for_account: bool
    #: The operator who sold it.
    seller_id: int
    #: The money tendered for it.
    amount: Money


_DEFAULT = ReversalPolicy()


def check_reversal(
    role: Role,
    reason: object,
    candidate: ReversalCandidate,
    *,
    reverser_id: int,
    now: datetime,
    policy: ReversalPolicy = _DEFAULT,
) -> str:
    """Check a discretionary reversal by operator ``reverser_id``; returns the reason to log."""
    check_permission(role, Action.REVERSE)
    text = normalise_reason(reason, what="a reversal", error=ReversalError)
    if reverser_id == candidate.seller_id:
        raise ReversalError(
            "a sale is reversed by another operator than the one who sold it: "
            "ask a second supervisor"
        )
    check_reversal_limits(candidate, now=now, policy=policy)
    return text


def check_reversal_limits(
    candidate: ReversalCandidate, *, now: datetime, policy: ReversalPolicy = _DEFAULT
) -> None:
    """The rules every reversal keeps, whoever asks: which sale, how old, how large."""
    if candidate.purpose is not TokenPurpose.SALE:
        raise ReversalError(
            f"only a sale is reversed; this token is a {candidate.purpose.value.replace('_', ' ')}"
        )
    if candidate.reversed:
        raise ReversalError("this sale is already reversed")
    if now < candidate.issued_at:
        raise ReversalError("the sale's issue time is after now: check the clock")
    if now - candidate.issued_at > policy.window:
        seconds = policy.window.total_seconds()
        within = f"{seconds / 3600:g} hours" if seconds % 3600 == 0 else f"{seconds / 60:g} minutes"
        raise ReversalError(
            f"a sale is reversed within {within} of its issue; this one is older "
            "(handle it as a refund)"
        )
    cap = policy.max_amount
    if cap is not None and (
        cap.currency != candidate.amount.currency or candidate.amount.minor > cap.minor
    ):
        raise ReversalError(
            f"a sale of more than {cap} is not reversed at the counter; this one is "
            f"{candidate.amount} (handle it as a refund)"
        )
    if not candidate.latest_for_account:
        raise ReversalError("a later sale exists on this account: reverse that one first")


def restored_states(sale: SaleBreakdown) -> tuple[AccountState, MonthToDate]:
    """The account and month states a reversal of the (latest) ``sale`` puts back."""
    return sale.account_before, sale.month_before
