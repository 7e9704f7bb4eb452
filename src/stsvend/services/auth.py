"""Operators, PIN login, shifts and permission checks (each refusal is in the operation log).

A login checks the PIN against its scrypt hash and gives an :class:`Actor` bound to the
configured terminal and to the operator's open shift there, if any.  Five wrong PINs in a row
lock the operator until an admin sets a new PIN or unlocks them (or, when no admin can log in,
the break-glass unlock of :mod:`stsvend.services.recovery`).  A PIN set by an admin for someone
else must be replaced by its owner at the next login.  ``stsvend init`` makes the first admin;
after that only an admin manages operators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import InputError, StsError
from stsvend.services.context import Actor, Services
from stsvend.services.pin import (
    MIN_PIN_LENGTH,
    WeakPinError,
    check_new_pin,
    hash_pin,
    spend_check,
    verify_pin,
)
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.repos import operators as ops
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.errors import PermissionDenied, VendingError
from stsvend.vending.roles import Action, Role, check_permission

__all__ = [
    "MAX_FAILED_LOGINS",
    "OperatorView",
    "PinChangeRequired",
    "ShiftClosedDuringSale",
    "ShiftError",
    "add_operator",
    "authorize",
    "bootstrap_admin",
    "list_operators",
    "login",
    "parse_username",
    "pin_login",
    "require_open_shift",
    "require_shift",
    "set_operator_active",
    "set_pin",
    "start_shift",
    "unlock_operator",
]

MAX_FAILED_LOGINS = 5
T = TypeVar("T")


class PinChangeRequired(PermissionDenied):
    """The PIN was right, but was set by someone else or is too short: choose a new one."""

    code = "pin_change_required"
    default_message = "the operator must choose a new PIN before anything else"


class ShiftError(VendingError):
    """No shift is open where one is needed, or one is already open."""

    code = "refused"
    default_message = "the operator has no open shift at this terminal"


class ShiftClosedDuringSale(ShiftError):
    """The shift (a terminal's batch) was closed while a sale into it was being made: nothing
    was sold (a sale-point purchase goes on in the terminal's next batch by itself)."""

    default_message = "the shift was closed while this sale was being made: nothing was sold"


def parse_username(name: str) -> str:
    """An operator name as stored (refused unless 1-40 letters, digits, ".", "_" or "-")."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 40 or not all(c.isalnum() or c in "._-" for c in text):
        raise InputError("an operator name is 1-40 letters, digits, '.', '_' or '-'")
    return text


def _log_refusal(svc: Services, actor: Actor, action: str, reason: str) -> None:
    # Its own transaction: the refused operation's transaction never commits.  The actor's
    # terminal, not this process's: at a sale point it is VENDOR/TERMINAL.
    with svc.store.transaction() as conn:
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action=action,
            outcome="refused",
            detail={"reason": reason},
        )


def _check_login(
    operator: ops.OperatorRecord | None, pin: str, new_pin: str | None
) -> tuple[str | None, StsError | None]:
    """(refusal reason for the operation log, error to raise) of one login; (None, None): ok."""
    if operator is None or not operator.active:
        spend_check(pin)
        reason = "unknown operator" if operator is None else "disabled"
        return reason, PermissionDenied("unknown operator or wrong PIN")
    if operator.failed_logins >= MAX_FAILED_LOGINS:
        return "locked", _locked(operator.username)
    if not verify_pin(pin, operator.pin_hash):
        if operator.failed_logins + 1 >= MAX_FAILED_LOGINS:
            return "wrong PIN", _locked(operator.username)
        return "wrong PIN", PermissionDenied("unknown operator or wrong PIN")
    if new_pin is None:
        if operator.must_change_pin:
            return "PIN change required", PinChangeRequired(
                f"operator {operator.username!r} must choose a new PIN ({MIN_PIN_LENGTH} to 12 "
                "digits) before anything else"
            )
    elif verify_pin(new_pin, operator.pin_hash):
        return "new PIN same as old", WeakPinError("the new PIN must differ from the current one")
    return None, None


def _locked(username: str) -> PermissionDenied:
    return PermissionDenied(
        f"operator {username!r} is locked after {MAX_FAILED_LOGINS} wrong PINs: an admin must "
        "set a new PIN (`stsvend operators set-pin` or `unlock`); if no admin can log in, see "
        "the break-glass unlock in docs/security.md"
    )


def pin_login(
    svc: Services, username: str, pin: str, *, new_pin: str | None, terminal: str,
    then: Callable[[Connection, ops.OperatorRecord], T], detail: dict[str, object] | None = None,
) -> T:  # fmt: skip
    """Check an operator's PIN at ``terminal``; on success, ``then(conn, operator)`` in the same
    transaction, and its value.  What :func:`login` and a session at a sale-point terminal
    (:mod:`stsvend.services.sessions`) both go through.

    The operator's row is locked while the PIN is checked and the outcome counted, so that
    logins at the same moment are judged one after the other: no more than
    :data:`MAX_FAILED_LOGINS` wrong PINs are ever checked before the lock holds.  ``new_pin``
    replaces the PIN once this one is verified (required when ``must_change_pin`` is set).  A
    terminal's own operator row (:data:`~stsvend.store.repos.operators.NO_PIN`) is no one's
    login: it is answered as an unknown operator, and nothing is counted.  Every attempt is in
    the operation log (``login``; a refusal with its reason, never the PIN), with ``detail``.
    """
    name = parse_username(username)
    if new_pin is not None:
        check_new_pin(new_pin)  # before anything is checked or counted
    with svc.store.transaction() as conn:
        try:
            operator: ops.OperatorRecord | None = ops.get_operator(conn, name, lock=True)
        except RecordNotFoundError:
            operator = None
        if operator is not None and operator.pin_hash == ops.NO_PIN:
            operator = None
        reason, error = _check_login(operator, pin, new_pin)
        pin_right = reason is None or reason in ("PIN change required", "new PIN same as old")
        if operator is not None:
            ops.record_login(conn, operator.id, ok=pin_right)
            if reason is None and new_pin is not None:
                ops.update_operator(
                    conn, operator.id, pin_hash=hash_pin(new_pin), must_change_pin=False
                )
        noted = {**(detail or {}), **({"reason": reason} if reason else {})}
        if reason is None and new_pin:
            noted["pin_changed"] = True
        log_operation(conn, at=svc.now(), operator=name, terminal=terminal, action="login",
                      outcome="ok" if reason is None else "refused",
                      detail=noted or None)  # fmt: skip
        done = then(conn, operator) if operator is not None and error is None else None
    if error is not None or operator is None:
        raise error or PermissionDenied("unknown operator or wrong PIN")
    return cast(T, done)


def login(svc: Services, username: str, pin: str, *, new_pin: str | None = None) -> Actor:
    """Check the PIN (:func:`pin_login`); the actor carries the open shift at this terminal
    (if any)."""
    terminal = svc.config.terminal

    def acting(conn: Connection, operator: ops.OperatorRecord) -> Actor:
        shift = ops.open_shift_of(conn, operator.id, terminal)
        return Actor(operator.id, operator.username, operator.role, terminal,
                     shift.id if shift else None)  # fmt: skip

    return pin_login(svc, username, pin, new_pin=new_pin, terminal=terminal, then=acting)


def authorize(svc: Services, actor: Actor, action: Action) -> None:
    """Refuse (and log the refusal) unless the actor's role may take ``action``."""
    try:
        check_permission(Role.parse(actor.role), action)
    except PermissionDenied as exc:
        _log_refusal(svc, actor, action.value, exc.message)
        raise


def require_shift(actor: Actor) -> int:
    if actor.shift_id is None:
        raise ShiftError(
            f"{actor.username} has no open shift at terminal {actor.terminal}: "
            "start one with `stsvend shift start`"
        )
    return actor.shift_id


def require_open_shift(svc: Services, actor: Actor) -> int:
    """The actor's shift, refused unless it is still open in the store (a long session's shift
    may have been ended by another process meanwhile)."""
    shift_id = require_shift(actor)
    with svc.store.transaction() as conn:
        if ops.get_shift(conn, shift_id).closed_at is not None:
            raise ShiftError(
                f"shift {shift_id} of {actor.username} has been closed: start a new session"
            )
    return shift_id


def bootstrap_admin(svc: Services, username: str, pin: str) -> bool:
    """Create the first admin if there is no operator yet; False if operators exist."""
    with svc.store.transaction() as conn:
        if ops.count_operators(conn):
            return False
        ops.add_operator(conn, parse_username(username), Role.ADMIN.value, hash_pin(pin), svc.now())
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
    if parsed is Role.INSTALLER:
        # An installer is a system with a key (a terminal of role installer), never a login.
        raise InputError("an installer is no operator: add a terminal of role installer "
                         "(stsvend terminals add VENDOR CODE --role installer)")
    with svc.store.transaction() as conn:
        ops.add_operator(
            conn, parse_username(username), parsed.value, hash_pin(pin), svc.now(),
            must_change_pin=True,
        )  # fmt: skip
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="operators.add",
            target=username,
            detail={"role": parsed.value},
        )


@frozen
class OperatorView:
    """An operator as the operator list shows them (never their PIN or its hash)."""

    #: The login name.
    username: str
    #: ``"clerk"``, ``"supervisor"``, ``"engineer"``, ``"auditor"`` or ``"admin"``.
    role: str
    #: May log in (an admin disables and enables operators).
    active: bool
    #: Wrong PINs in a row; at :data:`MAX_FAILED_LOGINS` the operator is locked.
    failed_logins: int
    #: Must choose a new PIN at the next login.
    must_change_pin: bool


def list_operators(svc: Services, actor: Actor) -> tuple[OperatorView, ...]:
    authorize(svc, actor, Action.OPERATORS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(
            OperatorView(op.username, op.role, op.active, op.failed_logins, op.must_change_pin)
            for op in ops.list_operators(conn)
        )


def set_pin(svc: Services, actor: Actor, username: str, pin: str) -> None:
    """An admin sets a new PIN (and unlocks the operator); anyone else's PIN set this way must
    be changed by its owner at the next login."""
    authorize(svc, actor, Action.OPERATORS_MANAGE)
    stored = hash_pin(pin)
    with svc.store.transaction() as conn:
        operator = ops.get_operator(conn, parse_username(username), lock=True)
        ops.update_operator(
            conn, operator.id, pin_hash=stored, failed_logins=0,
            must_change_pin=operator.id != actor.operator_id,
        )  # fmt: skip
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="operators.set-pin",
            target=username,
        )


def unlock_operator(svc: Services, actor: Actor, username: str) -> None:
    """An admin clears the wrong-PIN count; the owner must choose a new PIN at the next login
    (someone has been guessing it)."""
    authorize(svc, actor, Action.OPERATORS_MANAGE)
    with svc.store.transaction() as conn:
        operator = ops.get_operator(conn, parse_username(username), lock=True)
        ops.update_operator(conn, operator.id, failed_logins=0, must_change_pin=True)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="operators.unlock",
            target=operator.username,
            detail={"failed_logins": operator.failed_logins},
        )


def set_operator_active(svc: Services, actor: Actor, username: str, active: bool) -> None:
    authorize(svc, actor, Action.OPERATORS_MANAGE)
    if username == actor.username and not active:
        raise InputError("an admin cannot disable themselves")
    with svc.store.transaction() as conn:
        operator = ops.get_operator(conn, parse_username(username))
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
