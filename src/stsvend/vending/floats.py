"""A vendor's prepaid float: commission, and the float kept in slots so sales don't queue.

A vendor (a shop chain, an agent, a bank, a mobile-money switch) pays the utility in advance;
each sale takes its amount from that float and gives the vendor its commission back.  The float
is held in :data:`FLOAT_SLOTS` rows ("slots"), each with a floor (its part of the vendor's
credit limit, as a negative balance), so that two terminals of one vendor selling at the same
moment usually debit different rows: no row becomes the lock every sale of the vendor waits on.
A slot that cannot cover a sale is refilled from the others (:func:`rebalance`); only when the
whole float cannot cover it is the sale refused.

Everything here is arithmetic on integers (minor units); the store keeps the slots and the
ledger, and a database constraint keeps every slot at or above its floor.

>>> commission(10_000, 250)          # 2.5 % of 100.00
250
>>> floors(1_000, 3)                 # a credit limit of 10.00 over three slots
(-334, -333, -333)
>>> plan = rebalance((0, 50, 400), (0, 0, 0), slot=0, need=300)
>>> plan, sum(plan)
((350, 50, 50), 450)
"""

from __future__ import annotations

from collections.abc import Sequence

from stsvend.vending.errors import InsufficientFunds

__all__ = [
    "BASIS_POINTS",
    "FLOAT_SLOTS",
    "InsufficientFunds",
    "commission",
    "floors",
    "rebalance",
    "slot_for",
    "spread",
]

#: Slots per vendor: as many terminals as this can debit the float at the same moment.
FLOAT_SLOTS = 8
#: Commission rates are in basis points: 10 000 is 100 %.
BASIS_POINTS = 10_000


def commission(amount: int, rate_bp: int) -> int:
    """The vendor's commission on a sale of ``amount`` minor units at ``rate_bp`` basis points,
    rounded down: a vendor is never paid more than its rate.

    >>> commission(999, 100)   # 1 % of 9.99 is 9.99 cents: 9
    9
    """
    if amount < 0 or not 0 <= rate_bp <= BASIS_POINTS:
        raise ValueError("an amount is not negative and a rate is 0..10 000 basis points")
    return amount * rate_bp // BASIS_POINTS


def floors(credit_limit: int, slots: int = FLOAT_SLOTS) -> tuple[int, ...]:
    """Each slot's floor: the credit limit split over the slots (the first ones take the
    remainder), as negative balances that sum to ``-credit_limit``."""
    if credit_limit < 0:
        raise ValueError("a credit limit is not negative")
    return tuple(-v for v in spread(credit_limit, slots))


def spread(amount: int, slots: int = FLOAT_SLOTS) -> tuple[int, ...]:
    """``amount`` in ``slots`` parts as equal as integers allow (the first ones are larger).

    >>> spread(10, 4)
    (3, 3, 2, 2)
    """
    if slots < 1:
        raise ValueError("there is at least one slot")
    share, extra = divmod(amount, slots)
    return tuple(share + (1 if i < extra else 0) for i in range(slots))


def slot_for(terminal_id: int, slots: int = FLOAT_SLOTS) -> int:
    """The slot a terminal debits first: terminals of one vendor spread over the slots."""
    return terminal_id % slots


def rebalance(
    balances: Sequence[int], slot_floors: Sequence[int], *, slot: int, need: int
) -> tuple[int, ...]:
    """New balances for the slots so that ``slot`` can be debited ``need``: what the float has
    above its floors is given out again, ``need`` to ``slot`` first and the rest evenly.  The
    total never changes.  Raises :class:`InsufficientFunds` when the whole float cannot cover
    ``need``.
    """
    if len(balances) != len(slot_floors) or not 0 <= slot < len(balances):
        raise ValueError("one floor per slot, and the slot among them")
    if need < 0:
        raise ValueError("a debit is not negative")
    free = sum(b - f for b, f in zip(balances, slot_floors, strict=True))
    if free < need:
        raise InsufficientFunds(
            "the vendor's float cannot cover this sale: ask the vendor to deposit more"
        )
    parts = list(spread(free - need, len(balances)))
    parts[slot] += need
    return tuple(f + p for f, p in zip(slot_floors, parts, strict=True))
