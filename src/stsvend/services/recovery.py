"""The break-glass unlock: recovering operators (admins included) when no admin can log in.

Anyone at a terminal can lock an operator with five wrong PINs, every admin included.  The way
back needs what only the key custodians hold, the key-encryption key: the installation's sealed
keystore must open under the KEK offered, and its token log key must be this store's.  The
unlock clears the operator's wrong-PIN count, makes them choose a new PIN at the next login
(optionally it sets a temporary PIN first, for an operator who has forgotten theirs) and is
written to the operation log under the name ``break-glass``.  See docs/security.md.
"""

from __future__ import annotations

from attrs import frozen

from stsvend.keystore.errors import KeystoreFileError
from stsvend.keystore.kek import KekSource
from stsvend.keystore.sealed import SealedKeystore
from stsvend.services.auth import parse_username
from stsvend.services.bootstrap import (
    LogKeyMismatch,
    demo_keystore_path,
    keystore_path,
    log_key_of,
)
from stsvend.services.context import Services
from stsvend.services.pin import hash_pin
from stsvend.store.repos import operators as ops
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.settings import get_setting

__all__ = ["BREAK_GLASS", "BreakGlassUnlock", "break_glass_unlock"]

#: The name the operation log gives the break-glass unlock (no operator is logged in).
BREAK_GLASS = "break-glass"


@frozen
class BreakGlassUnlock:
    """What the break-glass unlock did.

    >>> from stsvend.services.results import as_doc
    >>> as_doc(BreakGlassUnlock("ann", "admin", 5, False, True))["failed_logins_cleared"]
    5
    """

    #: The operator unlocked.
    operator: str
    #: Their role.
    role: str
    #: The wrong-PIN count the unlock cleared.
    failed_logins_cleared: int
    #: A temporary PIN was set as well.
    pin_set: bool
    #: They must choose a new PIN at the next login (always, after an unlock).
    must_change_pin: bool


def _prove_kek(svc: Services, kek: KekSource) -> str:
    """Open this installation's keystore under ``kek``; its log key check value."""
    path = keystore_path(svc.config)
    if not path.exists():
        if demo_keystore_path(svc.config).exists():
            raise KeystoreFileError(
                "this installation has only the TEST demo keystore, whose key-encryption key is "
                "kept beside it and proves nothing: there is no break-glass unlock for it"
            )
        raise KeystoreFileError(
            f"no keystore at {path}: the break-glass unlock needs the installation's keystore "
            "and its key-encryption key"
        )
    if kek.generated:
        raise KeystoreFileError("the break-glass unlock needs an explicit key-encryption key")
    store = SealedKeystore.open(path, kek)  # a wrong KEK stops here: nothing written
    check = log_key_of(store).check_value
    with svc.store.transaction() as conn:
        stored = get_setting(conn, "log_key_check")
    if stored is not None and stored != check:
        raise LogKeyMismatch(
            f"the keystore {path} is not this store's (token log key {check}, the store's "
            f"{stored}): nothing was changed"
        )
    return check


def break_glass_unlock(
    svc: Services, username: str, kek: KekSource, *, new_pin: str | None = None
) -> BreakGlassUnlock:
    """Unlock ``username`` on proof of the KEK; the owner must choose a new PIN at next login.

    ``new_pin`` (already read from the environment or a prompt, never the command line) sets a
    temporary PIN as well.  Returns what was done, for the command's output.
    """
    name = parse_username(username)
    stored_pin = hash_pin(new_pin) if new_pin is not None else None
    log_key = _prove_kek(svc, kek)
    with svc.store.transaction() as conn:
        operator = ops.get_operator(conn, name, lock=True)
        values: dict[str, object] = {"failed_logins": 0, "must_change_pin": True}
        if stored_pin is not None:
            values["pin_hash"] = stored_pin
        ops.update_operator(conn, operator.id, **values)
        log_operation(
            conn,
            at=svc.now(),
            operator=BREAK_GLASS,
            terminal=svc.config.terminal,
            action="operators.unlock",
            target=operator.username,
            detail={
                "break_glass": True,
                "kek": kek.kind,
                "log_key": log_key,
                "failed_logins": operator.failed_logins,
                "pin_set": stored_pin is not None,
            },
        )
    return BreakGlassUnlock(
        operator.username, operator.role, operator.failed_logins, stored_pin is not None, True
    )
