"""Free issue: units given without payment (a goodwill credit, free basic units by hand).

Rules: a supervisor issues it, with a reason; the units are a value a token carries exactly; a
single issue and the month's free issues per account are capped by the policy.  Free issues do
not count toward the month's inclining blocks, take no money and are logged with their reason.

>>> from stsvend.vending.roles import Role
>>> check_free_issue(Role.SUPERVISOR, 200, "meter fault, WO-88", issued_this_month=0)
'meter fault, WO-88'
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from stsvend import sts
from stsvend.vending.errors import FreeIssueError
from stsvend.vending.reasons import normalise_reason
from stsvend.vending.roles import Action, Role, check_permission

__all__ = ["FreeIssuePolicy", "check_free_issue"]


def _tenths(value: Any) -> int:
    if type(value) is not int or value <= 0:
        raise FreeIssueError(f"a free issue cap is a positive number of tenths, got {value!r}")
    return value


@frozen
class FreeIssuePolicy:
    """Caps on free issues, in STS tenths (defaults: 50 kWh an issue, 100 kWh a month)."""

    max_units: int = field(default=500, converter=_tenths)
    max_units_per_month: int = field(default=1000, converter=_tenths)


_DEFAULT = FreeIssuePolicy()


def check_free_issue(
    role: Role,
    units: int,
    reason: object,
    *,
    issued_this_month: int,
    policy: FreeIssuePolicy = _DEFAULT,
) -> str:
    """Check a free issue; returns the normalised reason to log."""
    check_permission(role, Action.FREE_ISSUE)
    text = normalise_reason(reason, what="a free issue", error=FreeIssueError)
    if type(units) is not int or units <= 0:
        raise FreeIssueError(f"a free issue gives a positive number of tenths, got {units!r}")
    exact = sts.encodable_at_most(units)
    if exact != units:
        raise FreeIssueError(f"{units} tenths cannot be carried exactly (at most {exact} can)")
    if units > policy.max_units:
        raise FreeIssueError(
            f"a free issue is at most {policy.max_units / 10:.1f} units, asked {units / 10:.1f}"
        )
    if issued_this_month + units > policy.max_units_per_month:
        raise FreeIssueError(
            f"this account has had {issued_this_month / 10:.1f} free units this month; "
            f"the monthly cap is {policy.max_units_per_month / 10:.1f}"
        )
    return text
