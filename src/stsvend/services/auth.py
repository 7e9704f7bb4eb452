"""Operators, PIN login, shifts and permission checks (each refusal is in the operation log).

A login checks the PIN against its scrypt hash and gives an :class:`Actor` bound to the
configured terminal and to the operator's open shift there, if any.  Five wrong PINs in a row
lock the operator until an admin sets a new PIN.  ``stsvend init`` makes the first admin; after
that only an admin manages operators.
"""

from __future__ import annotations

from typing import Any

from stsvend.errors import InputError
from stsvend.services.context import Actor, Services
from stsvend.services.pin import hash_pin, verify_pin
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.repos import operators as ops
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.errors import PermissionDenied, VendingError
from stsvend.vending.roles import Action, Role, check_permission

__all__ = [
    "MAX_FAILED_LOGINS",
    "ShiftError",
    "add_operator",
    "authorize",
    "bootstrap_admin",
    "end_shift",
    "list_operators",
    "login",
    "require_shift",
    "set_operator_active",
    "set_pin",
    "start_shift",
]

MAX_FAILED_LOGINS = 5


class ShiftError(VendingError):
    """No shift is open where one is needed, or one is already open."""

    code = "refused"
    default_message = "the operator has no open shift at this terminal"


def _username(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 40 or not all(c.isalnum() or c in "._-" for c in text):
        raise InputError("an operator name is 1-40 letters, digits, '.', '_' or '-'")
    return text


def _log_refusal(svc: Services, actor_name: str, action: str, reason: str) -> None:
    # Its own transaction: the refused operation's transaction never commits.
    with svc.store.transaction() as conn:
        log_operation(
            conn,
            at=svc.now(),
            operator=actor_name,
            terminal=svc.config.terminal,
            action=action,
            outcome="refused",
            detail={"reason": reason},
        )


def login(svc: Services, username: str, pin: str) -> Actor:
    """Check the PIN; the actor carries the open shift at this terminal (if any)."""
    terminal = svc.config.terminal
    with svc.store.transaction() as conn:
        try:
            operator = ops.get_operator(conn, _username(username))
        except RecordNotFoundError:
            operator = None
        ok = (
            operator is not None
            and operator.active
            and operator.failed_logins < MAX_FAILED_LOGINS
            and verify_pin(pin, operator.pin_hash)
        )
        if operator is not None:
            ops.record_login(conn, operator.id, ok=ok)
        log_operation(
            conn,
            at=svc.now(),
            operator=str(username)[:40],
            terminal=terminal,
            action="login",
            outcome="ok" if ok else "refused",
        )
        shift = ops.open_shift_of(conn, operator.id, terminal) if ok and operator else None
    if not ok or operator is None:
        if operator is not None and operator.failed_logins + 1 >= MAX_FAILED_LOGINS:
            raise PermissionDenied(
                f"operator {operator.username!r} is locked after {MAX_FAILED_LOGINS} wrong "
                "PINs: an admin must set a new PIN"
            )
        raise PermissionDenied("unknown operator or wrong PIN")
    return Actor(
        operator.id, operator.username, operator.role, terminal, shift.id if shift else None
    )


def authorize(svc: Services, actor: Actor, action: Action) -> None:
    """Refuse (and log the refusal) unless the actor's role may take ``action``."""
    try:
        check_permission(Role.parse(actor.role), action)
    except PermissionDenied as exc:
        _log_refusal(svc, actor.username, action.value, exc.message)
        raise


def require_shift(actor: Actor) -> int:
    if actor.shift_id is None:
        raise ShiftError(
            f"{actor.username} has no open shift at terminal {actor.terminal}: "
            "start one with `stsvend shift start`"
        )
    return actor.shift_id


def bootstrap_admin(svc: Services, username: str, pin: str) -> bool:
    """Create the first admin if there is no operator yet; False if operators exist."""
    with svc.store.transaction() as conn:
        if ops.count_operators(conn):
            return False
        ops.add_operator(conn, _username(username), Role.ADMIN.value, hash_pin(pin), svc.now())
        log_operation(
            conn,
            at=svc.now(),
            operator=username,
            terminal=svc.config.terminal,
            action="init",
            target=username,
            detail={"role": "admin"},
        )
    return True


def add_operator(svc: Services, actor: Actor, username: str, role: str, pin: str) -> None:
    authorize(svc, actor, Action.OPERATORS_MANAGE)
    parsed = Role.parse(role)
    with svc.store.transaction() as conn:
        ops.add_operator(conn, _username(username), parsed.value, hash_pin(pin), svc.now())
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="operators.add",
            target=username,
            detail={"role": parsed.value},
        )


def list_operators(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    authorize(svc, actor, Action.OPERATORS_VIEW)
    with svc.store.transaction() as conn:
        return [op.as_dict() for op in ops.list_operators(conn)]


def set_pin(svc: Services, actor: Actor, username: str, pin: str) -> None:
    """An admin sets a new PIN (and unlocks the operator)."""
    authorize(svc, actor, Action.OPERATORS_MANAGE)
    with svc.store.transaction() as conn:
        operator = ops.get_operator(conn, _username(username))
        ops.update_operator(conn, operator.id, pin_hash=hash_pin(pin), failed_logins=0)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="operators.set-pin",
            target=username,
        )


def set_operator_active(svc: Services, actor: Actor, username: str, active: bool) -> None:
    authorize(svc, actor, Action.OPERATORS_MANAGE)
    if username == actor.username and not active:
        raise InputError("an admin cannot disable themselves")
    with svc.store.transaction() as conn:
        operator = ops.get_operator(conn, _username(username))
        ops.update_operator(conn, operator.id, active=active)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="operators.enable" if active else "operators.disable",
            target=username,
        )


def start_shift(svc: Services, actor: Actor) -> Actor:
    """Open a shift for the actor at this terminal."""
    authorize(svc, actor, Action.SHIFT_START)
    with svc.store.transaction() as conn:
        if ops.open_shift_of(conn, actor.operator_id, actor.terminal) is not None:
            raise ShiftError(
                f"{actor.username} already has an open shift at terminal {actor.terminal}"
            )
        shift = ops.open_shift(conn, actor.operator_id, actor.terminal, svc.now())
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="shift.start",
            target=str(shift.id),
        )
    return Actor(actor.operator_id, actor.username, actor.role, actor.terminal, shift.id)


def end_shift(svc: Services, actor: Actor) -> dict[str, Any]:
    """Close the actor's shift; returns its totals (by kind of sale) for the shift report."""
    authorize(svc, actor, Action.SHIFT_END)
    shift_id = require_shift(actor)
    from stsvend.store.repos.sales import sale_totals

    with svc.store.transaction() as conn:
        shift = ops.get_shift(conn, shift_id)
        now = svc.now()
        ops.close_shift(conn, shift_id, now)
        totals = sale_totals(conn, shift_id=shift_id)
        log_operation(
            conn,
            at=now,
            operator=actor.username,
            terminal=actor.terminal,
            action="shift.end",
            target=str(shift_id),
        )
    return {
        "shift": shift_id,
        "operator": actor.username,
        "terminal": actor.terminal,
        "opened_at": shift.opened_at.isoformat(),
        "closed_at": now.isoformat(),
        "totals": totals,
    }
