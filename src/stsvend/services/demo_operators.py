"""The TEST demo store's operators: one per role, with PINs the demo prints.

Only the demo store (marked by ``stsvend demo``, :func:`~stsvend.services.identity.is_demo_store`)
has them.  Their PINs are derived from a random seed kept in that store's settings
(``demo.pin_seed``): the same store gives the same PINs on every run, so the demo can print
them each time, while the operator rows keep only salted scrypt hashes, like every PIN.  The
seed is TEST data in a TEST store; a store set up by ``stsvend init`` never gets one, and its
PINs are never printed (docs/operations.md, *The demo store*).

>>> pin = derive_pin(bytes(16), "clerk")
>>> len(pin), pin.isdigit(), pin == derive_pin(bytes(16), "clerk") != derive_pin(bytes(16), "admin")
(8, True, True)
>>> from stsvend.services.results import as_doc
>>> as_doc(DemoOperator("demo-clerk", "clerk", None))
{'name': 'demo-clerk', 'role': 'clerk', 'pin': None}
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import StsError
from stsvend.services.context import Actor, Services
from stsvend.services.identity import is_demo_store
from stsvend.services.pin import WeakPinError, check_new_pin, hash_pin, verify_pin
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.repos import operators as ops
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.settings import get_setting, put_setting

__all__ = [
    "DEMO_ROLES",
    "DemoOperator",
    "NotTheDemoStore",
    "demo_operator_name",
    "derive_pin",
    "ensure_demo_operators",
]

#: Every role, in the order the demo shows them.
DEMO_ROLES = ("clerk", "supervisor", "engineer", "auditor", "admin")
#: Roles whose demo operator has a shift open at the demo's terminal (they sell).
_SHIFT_ROLES = frozenset({"clerk", "supervisor", "engineer"})
_SEED_SETTING = "demo.pin_seed"
_PIN_DIGITS = 8


class NotTheDemoStore(StsError):
    """Demo operators (and printed PINs) asked of a store that is not the TEST demo store."""

    code = "keystore_mode"
    default_message = "only the TEST demo store has demo operators"


@frozen
class DemoOperator:
    """A demo operator as the demo shows it (its JSON form: ``as_doc``)."""

    #: The login name (``demo-clerk``, …).
    name: str
    #: Its role, one per operator.
    role: str
    #: The PIN the demo prints, 8 digits (None: its owner chose another).
    pin: str | None


def demo_operator_name(role: str) -> str:
    """The demo operator of ``role``.

    >>> demo_operator_name("auditor")
    'demo-auditor'
    """
    return f"demo-{role}"


def derive_pin(seed: bytes, role: str) -> str:
    """The demo PIN of ``role`` from the store's seed: 8 digits that :func:`check_new_pin` takes."""
    counter = 0
    while True:
        mac = hmac.new(seed, f"{role}:{counter}".encode(), hashlib.sha256).digest()
        candidate = str(int.from_bytes(mac[:8], "big") % 10**_PIN_DIGITS).zfill(_PIN_DIGITS)
        try:
            return check_new_pin(candidate)
        except WeakPinError:  # pragma: no cover - about one seed in ten million
            counter += 1


def _seed(conn: Connection) -> bytes:
    text = get_setting(conn, _SEED_SETTING)
    if text is None:
        text = secrets.token_hex(16)
        put_setting(conn, _SEED_SETTING, text)
    return bytes.fromhex(text)


def ensure_demo_operators(svc: Services) -> tuple[list[DemoOperator], dict[str, Actor]]:
    """Create the demo operators that are missing and open a shift for those who sell.

    A demo operator whose PIN nobody knows (made by an older demo) gets its demo PIN back; one
    whose owner chose another PIN keeps it, and is shown without a PIN.  Returns the operators
    as shown and an :class:`Actor` per role, for the demo's own steps.
    """
    shown: list[DemoOperator] = []
    actors: dict[str, Actor] = {}
    now = svc.now()
    terminal = svc.config.terminal
    with svc.store.transaction() as conn:
        if not is_demo_store(conn):
            raise NotTheDemoStore(
                "this store is not the TEST demo store: its operators' PINs are never printed"
            )
        seed = _seed(conn)
        for role in DEMO_ROLES:
            name, pin = demo_operator_name(role), derive_pin(seed, role)
            try:
                op = ops.get_operator(conn, name)
            except RecordNotFoundError:
                op = ops.add_operator(conn, name, role, hash_pin(pin), now)
                log_operation(
                    conn, at=now, operator=name, terminal=terminal, action="demo.operator",
                    target=name, detail={"role": role},
                )  # fmt: skip
            if not verify_pin(pin, op.pin_hash):
                if op.must_change_pin:
                    # Made by an older demo with a random PIN nobody was told: give it its own.
                    ops.update_operator(conn, op.id, pin_hash=hash_pin(pin), must_change_pin=False)
                else:
                    pin = ""
            if pin:
                ops.update_operator(conn, op.id, failed_logins=0, active=True)
            shown.append(DemoOperator(name, role, pin or None))
            shift = ops.open_shift_of(conn, op.id, terminal)
            if shift is None and role in _SHIFT_ROLES:
                shift = ops.open_shift(conn, op.id, terminal, now)
            actors[role] = Actor(op.id, name, role, terminal, shift.id if shift else None)
    return shown, actors
