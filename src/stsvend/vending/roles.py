"""Operator roles and the role × action permission table, as data.

Every CLI command maps to one :class:`Action`; :data:`PERMISSIONS` says which roles
may take it.  ``docs/security.md`` prints the same table (a test keeps the two equal) and says
why each cell is what it is.  The principles: separation of duties (whoever manages operators
and keys does not take money; whoever takes money does not reverse it), least privilege (token
digits in bulk exports only for supervisors; a clerk reprints only receipts of their own open
shift), and every operator can log in (open and close a shift).  An *installer* is no person
at the counter but an installer's system, holding a key like a terminal's: it may acknowledge
work orders and nothing else.

>>> check_permission(Role.CLERK, Action.VEND)
>>> check_permission(Role.CLERK, Action.REVERSE)
Traceback (most recent call last):
...
stsvend.vending.errors.PermissionDenied: a clerk may not reverse a sale (allowed: supervisor)
>>> is_allowed(Role.AUDITOR, Action.LOG_VERIFY)
True
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from stsvend.vending.errors import PermissionDenied

__all__ = [
    "PERMISSIONS",
    "Action",
    "Role",
    "allowed_roles",
    "check_permission",
    "describe",
    "is_allowed",
    "reprint_action",
]


class Role(enum.Enum):
    """Operator roles."""

    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ENGINEER = "engineer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    #: An installer's system acknowledging work orders over the API (a key, never a login).
    INSTALLER = "installer"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise PermissionDenied(f"unknown role {value!r} (roles: {names})") from None


class Action(enum.Enum):
    """Everything an operator can ask for; the value is the command's name."""

    INIT = "init"
    KEYS_LIST = "keys.list"
    KEYS_IMPORT = "keys.import"
    SUPPLY_GROUPS_VIEW = "supply-groups.view"
    SUPPLY_GROUPS_MANAGE = "supply-groups.manage"
    METERS_VIEW = "meters.view"
    METERS_MANAGE = "meters.manage"
    METERS_BLOCK = "meters.block"
    METERS_IMPORT = "meters.import"
    METERS_RELAY = "meters.relay"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_MANAGE = "customers.manage"
    TARIFFS_VIEW = "tariffs.view"
    TARIFFS_MANAGE = "tariffs.manage"
    OPERATORS_VIEW = "operators.view"
    OPERATORS_MANAGE = "operators.manage"
    VEND = "vend"
    TRIAL = "trial"
    REPRINT = "reprint"
    REPRINT_ANY = "reprint.any"
    REVERSE = "reverse"
    FREE_ISSUE = "free-issue"
    EMERGENCY_CREDIT = "emergency-credit"
    ENGINEERING = "engineering"
    TEST_TOKEN = "test-token"
    KEY_CHANGE = "key-change"
    KEY_CHANGE_BULK = "key-change.bulk"
    KEY_CHANGE_CONFIRM = "key-change.confirm"
    LOG_EXPORT = "log.export"
    LOG_EXPORT_DIGITS = "log.export-digits"
    LOG_VERIFY = "log.verify"
    LOG_REANCHOR = "log.reanchor"
    SHIFT_START = "shift.start"
    SHIFT_END = "shift.end"
    REPORTS = "reports"
    VENDORS_VIEW = "vendors.view"
    VENDORS_MANAGE = "vendors.manage"
    VENDORS_DEPOSIT = "vendors.deposit"
    READINGS_VIEW = "readings.view"
    READINGS_INGEST = "readings.ingest"
    READINGS_PURGE = "readings.purge"
    WORKORDERS_VIEW = "workorders.view"
    WORKORDERS_MANAGE = "workorders.manage"
    WORKORDERS_CREDIT = "workorders.credit"
    WORKORDER_ACK = "workorders.ack"


_DESCRIPTIONS: dict[Action, str] = {
    Action.INIT: "initialise the store",
    Action.KEYS_LIST: "list vending keys",
    Action.KEYS_IMPORT: "import a key file",
    Action.SUPPLY_GROUPS_VIEW: "view supply groups",
    Action.SUPPLY_GROUPS_MANAGE: "manage supply groups",
    Action.METERS_VIEW: "view meters",
    Action.METERS_MANAGE: "register or change meters",
    Action.METERS_BLOCK: "block or unblock a meter",
    Action.METERS_IMPORT: "import meters from a previous system",
    Action.METERS_RELAY: "disconnect or reconnect a meter's supply remotely",
    Action.CUSTOMERS_VIEW: "view customers",
    Action.CUSTOMERS_MANAGE: "manage customers and accounts",
    Action.TARIFFS_VIEW: "view tariffs",
    Action.TARIFFS_MANAGE: "manage tariffs",
    Action.OPERATORS_VIEW: "view operators",
    Action.OPERATORS_MANAGE: "manage operators",
    Action.VEND: "vend credit",
    Action.TRIAL: "run a trial vend",
    Action.REPRINT: "reprint a receipt",
    Action.REPRINT_ANY: "reprint a receipt outside their own open shift",
    Action.REVERSE: "reverse a sale",
    Action.FREE_ISSUE: "make a free issue",
    Action.EMERGENCY_CREDIT: "grant emergency credit",
    Action.ENGINEERING: "issue an engineering token",
    Action.TEST_TOKEN: "issue a test token",
    Action.KEY_CHANGE: "key-change a meter",
    Action.KEY_CHANGE_BULK: "key-change a supply group",
    Action.KEY_CHANGE_CONFIRM: "confirm or cancel a key change",
    Action.LOG_EXPORT: "export the token log or read the operation log",
    Action.LOG_EXPORT_DIGITS: "see token digits in exports",
    Action.LOG_VERIFY: "verify the token log",
    Action.LOG_REANCHOR: "re-anchor the token log after a restore",
    Action.SHIFT_START: "start a shift",
    Action.SHIFT_END: "end a shift",
    Action.REPORTS: "run reports",
    Action.VENDORS_VIEW: "view vendors, their floats and statements",
    Action.VENDORS_MANAGE: "manage vendors, commissions, credit limits and terminals",
    Action.VENDORS_DEPOSIT: "record a vendor's float deposit",
    Action.READINGS_VIEW: "view meter readings",
    Action.READINGS_INGEST: "take in meter readings",
    Action.READINGS_PURGE: "remove meter readings past their retention",
    Action.WORKORDERS_VIEW: "view work orders",
    Action.WORKORDERS_MANAGE: "take in, route and apply work orders",
    Action.WORKORDERS_CREDIT: "deliver a replaced meter's credit to its new meter",
    Action.WORKORDER_ACK: "acknowledge a work order",
}

_C, _S, _E, _A, _D = Role.CLERK, Role.SUPERVISOR, Role.ENGINEER, Role.AUDITOR, Role.ADMIN
_I = Role.INSTALLER
#: Every person's role (an installer's system is no person: it only acknowledges work orders).
_ALL = frozenset(Role) - {_I}

#: Which roles may take each action.  The source of truth; docs/security.md mirrors it.
PERMISSIONS: Mapping[Action, frozenset[Role]] = {
    Action.INIT: frozenset({_D}),
    Action.KEYS_LIST: frozenset({_S, _E, _A, _D}),
    Action.KEYS_IMPORT: frozenset({_D}),
    Action.SUPPLY_GROUPS_VIEW: frozenset({_S, _E, _A, _D}),
    Action.SUPPLY_GROUPS_MANAGE: frozenset({_D}),
    Action.METERS_VIEW: _ALL,
    Action.METERS_MANAGE: frozenset({_S, _E, _D}),
    Action.METERS_BLOCK: frozenset({_S, _D}),
    Action.METERS_IMPORT: frozenset({_D}),
    Action.METERS_RELAY: frozenset({_E, _D}),
    Action.CUSTOMERS_VIEW: frozenset({_C, _S, _A, _D}),
    Action.CUSTOMERS_MANAGE: frozenset({_S, _D}),
    Action.TARIFFS_VIEW: _ALL,
    Action.TARIFFS_MANAGE: frozenset({_D}),
    Action.OPERATORS_VIEW: frozenset({_S, _A, _D}),
    Action.OPERATORS_MANAGE: frozenset({_D}),
    Action.VEND: frozenset({_C, _S}),
    Action.TRIAL: _ALL,
    Action.REPRINT: frozenset({_C, _S}),
    Action.REPRINT_ANY: frozenset({_S}),
    Action.REVERSE: frozenset({_S}),
    Action.FREE_ISSUE: frozenset({_S}),
    Action.EMERGENCY_CREDIT: frozenset({_C, _S}),
    Action.ENGINEERING: frozenset({_E}),
    Action.TEST_TOKEN: frozenset({_C, _S, _E}),
    Action.KEY_CHANGE: frozenset({_S, _E}),
    Action.KEY_CHANGE_BULK: frozenset({_E, _D}),
    Action.KEY_CHANGE_CONFIRM: frozenset({_S, _E}),
    Action.LOG_EXPORT: frozenset({_S, _A}),
    Action.LOG_EXPORT_DIGITS: frozenset({_S}),
    Action.LOG_VERIFY: frozenset({_S, _A, _D}),
    Action.LOG_REANCHOR: frozenset({_D}),
    Action.SHIFT_START: _ALL,
    Action.SHIFT_END: _ALL,
    Action.REPORTS: frozenset({_S, _A, _D}),
    Action.VENDORS_VIEW: frozenset({_S, _A, _D}),
    Action.VENDORS_MANAGE: frozenset({_D}),
    Action.VENDORS_DEPOSIT: frozenset({_S}),
    Action.READINGS_VIEW: frozenset({_S, _E, _A, _D}),
    Action.READINGS_INGEST: frozenset({_E, _D}),
    Action.READINGS_PURGE: frozenset({_D}),
    Action.WORKORDERS_VIEW: frozenset({_S, _E, _A, _D}),
    Action.WORKORDERS_MANAGE: frozenset({_S, _E, _D}),
    Action.WORKORDERS_CREDIT: frozenset({_S, _E}),
    Action.WORKORDER_ACK: frozenset({_I}),
}


def is_allowed(role: Role, action: Action) -> bool:
    """True if ``role`` may take ``action``."""
    return role in PERMISSIONS[action]


def allowed_roles(action: Action) -> tuple[Role, ...]:
    """The roles that may take ``action``, in :class:`Role` order."""
    return tuple(role for role in Role if role in PERMISSIONS[action])


def describe(action: Action) -> str:
    """A short phrase for messages, e.g. "reverse a sale"."""
    return _DESCRIPTIONS[action]


def check_permission(role: Role, action: Action) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` may take ``action``."""
    if not is_allowed(role, action):
        allowed = ", ".join(r.value for r in allowed_roles(action))
        article = "an" if role.value[0] in "aeiou" else "a"
        raise PermissionDenied(
            f"{article} {role.value} may not {describe(action)} (allowed: {allowed})"
        )


def reprint_action(*, own_open_shift: bool) -> Action:
    """What reprinting a receipt takes: a receipt of the operator's own open shift is a plain
    reprint; any other (another operator's, a closed shift's) holds token digits the operator
    never handed out, and takes :attr:`Action.REPRINT_ANY`.

    >>> reprint_action(own_open_shift=True), reprint_action(own_open_shift=False)
    (<Action.REPRINT: 'reprint'>, <Action.REPRINT_ANY: 'reprint.any'>)
    """
    return Action.REPRINT if own_open_shift else Action.REPRINT_ANY
