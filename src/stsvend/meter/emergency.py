"""Meter-side emergency (reserve) credit.

Some meters hold an allowance programmed at commissioning.  The customer switches it on at the
keypad when credit runs low; the consumption register may then run down to minus the allowance.
The next credit token pays the debt back first (the token's amount lands on the negative
register), and once the register is back at zero or above, emergency credit switches off and has
to be switched on again next time.

The vending side has its own emergency credit — a token issued on account and repaid through
the account — so a utility uses one or the other per meter: :class:`EmergencyPolicy` in the
profile says which.  Under ``VENDING`` or ``NONE`` the meter has no allowance.

>>> refusal(EmergencyPolicy.METER, active=False, credit=20, allowance=50, threshold=50)
>>> refusal(EmergencyPolicy.METER, active=False, credit=80, allowance=50, threshold=50)
'credit is above the emergency threshold (80 > 50)'
>>> floor(active=True, allowance=50)
-50
"""

from __future__ import annotations

import enum
from collections.abc import Callable

__all__ = ["EmergencyPolicy", "floor", "refusal"]


class EmergencyPolicy(enum.Enum):
    """Who provides emergency credit for a meter."""

    NONE = "none"  #: nobody
    METER = "meter"  #: the meter's own allowance, switched on by the customer
    VENDING = "vending"  #: the vending side, as a token repaid through the account


def floor(*, active: bool, allowance: int) -> int:
    """The lowest value the consumption register may reach."""
    return -allowance if active else 0


def refusal(
    policy: EmergencyPolicy,
    *,
    active: bool,
    credit: int,
    allowance: int,
    threshold: int,
    show: Callable[[int], str] = str,
) -> str | None:
    """Why emergency credit cannot be switched on now, or None if it can.

    ``show`` formats register values for the message (e.g. ``RegisterKind.format``).
    """
    if policy is EmergencyPolicy.VENDING:
        return "this meter's emergency credit is issued by the vending system as a token"
    if policy is not EmergencyPolicy.METER or allowance <= 0:
        return "this meter has no emergency credit"
    if active:
        return "emergency credit is already on"
    if credit > threshold:
        return f"credit is above the emergency threshold ({show(credit)} > {show(threshold)})"
    return None
