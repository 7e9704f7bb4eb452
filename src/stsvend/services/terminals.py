"""A vendor's terminals and their API keys: add, list, rotate, revoke, authenticate.

A key is shown once, when it is made (:class:`NewTerminalKey`), and stored only as a SHA-256
hash beside its public prefix: ``stv_<prefix>_<secret>``, the prefix 12 hex digits that name the
key (in logs too), the secret 128 random bits.  A secret of that strength needs no slow hash:
no one can search 2**128 candidates against a stolen hash.  :func:`authenticate` finds the row by
prefix and compares the hashes in constant time; a revoked key, a terminal of an inactive
vendor, or any key that does not match gets the same ``unauthenticated`` answer.

A terminal acts in one role of the one role table (:class:`~stsvend.vending.roles.Role`):
``clerk`` for sales, ``supervisor``, ``engineer`` for engineering tokens, or ``installer``
for an installer's system acknowledging work orders (and nothing else).  Its sales name an
operator row of its own, ``VENDOR/TERMINAL`` (:data:`NO_PIN`: no one can log in as it), and
fall in its open batch (a shift at the terminal ``VENDOR/TERMINAL``), opened by the first sale
after the last batch closed (:func:`terminal_actor`).  A person logged in at the terminal
(:mod:`stsvend.services.sessions`) sells as themselves instead, in their own shift there.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import TYPE_CHECKING

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import InputError, StsError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.errors import DuplicateRecordError, RecordNotFoundError
from stsvend.store.repos import operators as ops
from stsvend.store.repos import vendors as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action, Role

if TYPE_CHECKING:
    from stsvend.services.vendors import VendorInfo

__all__ = [
    "NO_PIN",
    "TERMINAL_ROLES",
    "NewTerminalKey",
    "TerminalIdentity",
    "TerminalInfo",
    "Unauthenticated",
    "add_terminal",
    "authenticate",
    "bind_certificate",
    "key_hash",
    "list_terminals",
    "revoke_terminal",
    "rotate_key",
    "terminal_actor",
    "vendor_float",
]

#: What a terminal operator row holds as its PIN hash: no PIN's hash, so no PIN matches it.
NO_PIN = ops.NO_PIN
#: The longest ``VENDOR/TERMINAL`` (an operator's name).
_NAME_MAX = 40
#: The roles a terminal may act in.
TERMINAL_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.ENGINEER, Role.INSTALLER)
_KEY = re.compile(r"stv_([0-9a-f]{12})_([0-9a-f]{32})")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_DOMAIN = b"stsvend terminal key v1\x00"


class Unauthenticated(StsError):
    """No valid, active terminal key was given."""

    code = "unauthenticated"
    default_message = "a valid terminal key is required"


@frozen
class NewTerminalKey:
    """A terminal's new key: shown this once, never stored in clear."""

    vendor: str
    terminal: str
    role: str
    #: The key's public part (it names the key in logs and listings).
    prefix: str
    #: The whole key, to be given to the terminal now.
    key: str


@frozen
class TerminalInfo:
    vendor: str
    terminal: str
    role: str
    prefix: str
    active: bool
    created_at: str
    key_set_at: str
    revoked_at: str | None
    #: The SHA-256 (hex) of the client certificate the terminal is bound to (None: not bound).
    cert_sha256: str | None = None


@frozen
class TerminalIdentity:
    """Who a valid key is: what every server request acts as."""

    vendor_id: int
    vendor: str
    terminal_id: int
    terminal: str
    role: Role
    prefix: str
    test: bool
    #: The operator row the terminal's sales name, and its open batch (shift), if any: the
    #: terminal's own row, or under a person's session (:mod:`stsvend.services.sessions`) the
    #: person's row and their open shift at this terminal (``role`` is then theirs too).
    operator_id: int = 0
    operator: str = ""
    shift_id: int | None = None
    #: The person's session the request acts under (None: the terminal itself).
    session_id: int | None = None

    @property
    def place(self) -> str:
        """``VENDOR/TERMINAL``: the terminal as receipts and logs name it."""
        return f"{self.vendor}/{self.terminal}"


def key_hash(key: str) -> bytes:
    """What the store keeps of a key (domain-separated SHA-256).

    >>> key_hash("stv_0123456789ab_" + "0" * 32).hex()[:16]
    '68a6555d24a35189'
    """
    return hashlib.sha256(_DOMAIN + key.encode("ascii")).digest()


def _new_key(svc: Services) -> tuple[str, str]:
    prefix = svc.rng.token_hex(6)
    return prefix, f"stv_{prefix}_{svc.rng.token_hex(16)}"


def _code(text: str, what: str) -> str:
    value = text.strip() if isinstance(text, str) else ""
    if not _CODE.fullmatch(value):
        raise InputError(f"a {what} code is 1-32 letters, digits and dashes, starting with one")
    return value.upper()


def _role(text: str) -> Role:
    role = Role.parse(text)
    if role not in TERMINAL_ROLES:
        allowed = ", ".join(r.value for r in TERMINAL_ROLES)
        raise InputError(f"a terminal acts as {allowed}, not {role.value}")
    return role


def _info(vendor: str, row: repo.TerminalRecord) -> TerminalInfo:
    return TerminalInfo(
        vendor, row.code, row.role, row.key_prefix, row.active, row.created_at.isoformat(),
        row.key_set_at.isoformat(), None if row.revoked_at is None else row.revoked_at.isoformat(),
        row.cert_sha256,
    )  # fmt: skip


def _oplog(svc: Services, conn: Connection, actor: Actor, action: str, target: str,
           **detail: object) -> None:  # fmt: skip
    log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                  action=action, target=target, detail=detail)  # fmt: skip


def add_terminal(
    svc: Services, actor: Actor, vendor: str, terminal: str, *, role: str = "clerk"
) -> NewTerminalKey:
    """A new terminal of ``vendor`` and its key (admin); the key is in this answer only."""
    authorize(svc, actor, Action.VENDORS_MANAGE)
    code, acting = _code(terminal, "terminal"), _role(role)
    prefix, key = _new_key(svc)
    with svc.store.transaction() as conn:
        owner = repo.get_vendor(conn, _code(vendor, "vendor"))
        name = f"{owner.code}/{code}"
        if len(name) > _NAME_MAX:
            raise InputError(
                f"vendor code and terminal code together are at most {_NAME_MAX - 1} characters: "
                f"{owner.code}'s terminals take codes of {_NAME_MAX - 1 - len(owner.code)} or fewer"
            )
        try:
            repo.get_terminal(conn, owner.id, code)
        except RecordNotFoundError:
            pass
        else:
            raise DuplicateRecordError(f"vendor {owner.code} has a terminal {code} already")
        operator = ops.add_operator(conn, name, acting.value, NO_PIN, svc.now())
        repo.add_terminal(conn, svc.now(), vendor_id=owner.id, code=code, role=acting.value,
                          operator_id=operator.id, key_prefix=prefix,
                          key_hash=key_hash(key))  # fmt: skip
        _oplog(svc, conn, actor, "terminals.add", f"{owner.code}/{code}", role=acting.value,
               prefix=prefix)  # fmt: skip
    return NewTerminalKey(owner.code, code, acting.value, prefix, key)


def rotate_key(svc: Services, actor: Actor, vendor: str, terminal: str) -> NewTerminalKey:
    """A new key for the terminal (admin); the old one stops working at once."""
    authorize(svc, actor, Action.VENDORS_MANAGE)
    prefix, key = _new_key(svc)
    with svc.store.transaction() as conn:
        owner = repo.get_vendor(conn, _code(vendor, "vendor"))
        row = repo.get_terminal(conn, owner.id, _code(terminal, "terminal"))
        if not row.active:
            raise InputError(f"terminal {row.code} is revoked: add a new terminal instead")
        repo.set_terminal(conn, row.id, key_prefix=prefix, key_hash=key_hash(key),
                          key_set_at=svc.now())  # fmt: skip
        _oplog(svc, conn, actor, "terminals.rotate", f"{owner.code}/{row.code}",
               old_prefix=row.key_prefix, prefix=prefix)  # fmt: skip
    return NewTerminalKey(owner.code, row.code, row.role, prefix, key)


def revoke_terminal(svc: Services, actor: Actor, vendor: str, terminal: str) -> TerminalInfo:
    """Revoke the terminal's key for good (admin)."""
    authorize(svc, actor, Action.VENDORS_MANAGE)
    with svc.store.transaction() as conn:
        owner = repo.get_vendor(conn, _code(vendor, "vendor"))
        row = repo.get_terminal(conn, owner.id, _code(terminal, "terminal"))
        repo.set_terminal(conn, row.id, active=False, revoked_at=svc.now())
        _oplog(svc, conn, actor, "terminals.revoke", f"{owner.code}/{row.code}",
               prefix=row.key_prefix)  # fmt: skip
        return _info(owner.code, repo.get_terminal(conn, owner.id, row.code))


def bind_certificate(
    svc: Services, actor: Actor, vendor: str, terminal: str, *, pem: str | None
) -> TerminalInfo:
    """Bind the terminal to the TLS client certificate ``pem`` (None: unbind it) (admin).

    A bound terminal is admitted only over a mutual TLS connection that showed that certificate.
    """
    import ssl

    authorize(svc, actor, Action.VENDORS_MANAGE)
    seen = None
    if pem is not None:
        try:
            der = ssl.PEM_cert_to_DER_cert(pem.strip())
        except ValueError:
            raise InputError("a client certificate is one PEM certificate") from None
        seen = hashlib.sha256(der).hexdigest()
    with svc.store.transaction() as conn:
        owner = repo.get_vendor(conn, _code(vendor, "vendor"))
        row = repo.get_terminal(conn, owner.id, _code(terminal, "terminal"))
        repo.set_terminal(conn, row.id, cert_sha256=seen)
        _oplog(svc, conn, actor, "terminals.bind", f"{owner.code}/{row.code}", cert_sha256=seen)
        return _info(owner.code, repo.get_terminal(conn, owner.id, row.code))


def list_terminals(svc: Services, actor: Actor, vendor: str) -> tuple[TerminalInfo, ...]:
    authorize(svc, actor, Action.VENDORS_VIEW)
    with svc.store.transaction() as conn:
        owner = repo.get_vendor(conn, _code(vendor, "vendor"))
        return tuple(_info(owner.code, row) for row in repo.list_terminals(conn, owner.id))


def authenticate(svc: Services, key: str, *, client_cert: str | None = None) -> TerminalIdentity:
    """The terminal a key belongs to; :class:`Unauthenticated` for anything else (malformed,
    unknown, revoked, a vendor no longer active, or a terminal bound to a client certificate
    that ``client_cert``, the connection's certificate's SHA-256, is not), always with the same
    message."""
    found = _KEY.fullmatch(key) if isinstance(key, str) else None
    given = key_hash(key if found else "stv_invalid")
    with svc.store.transaction() as conn:
        login = repo.terminal_login(conn, found.group(1)) if found else None
    stored = login.terminal.key_hash if login is not None else bytes(32)
    # Compared even when nothing was found, so the answer takes the same time.
    same = hmac.compare_digest(given, bytes(stored))
    if login is None or not same or not login.terminal.active or not login.vendor_active:
        raise Unauthenticated()
    row = login.terminal
    bound = row.cert_sha256
    if bound is not None and not hmac.compare_digest(bound, client_cert or ""):
        raise Unauthenticated()
    if row.operator_id is None or login.operator is None:
        raise Unauthenticated()  # not reachable after migration 0008, which gives each one
    return TerminalIdentity(row.vendor_id, login.vendor_code, row.id, row.code, Role(row.role),
                            row.key_prefix, login.vendor_test, row.operator_id, login.operator,
                            login.shift_id)  # fmt: skip


def terminal_actor(svc: Services, who: TerminalIdentity) -> Actor:
    """The actor a terminal's requests run as: its operator row (or the person's, under a
    session), in that row's open shift at ``VENDOR/TERMINAL`` — the terminal's batch, or the
    person's own shift there — opened now, and logged, when none is open."""
    shift_id = who.shift_id
    if shift_id is None:
        with svc.store.transaction() as conn:
            shift = ops.open_shift_of(conn, who.operator_id, who.place)
            if shift is None:
                shift = ops.open_shift(conn, who.operator_id, who.place, svc.now())
                log_operation(conn, at=svc.now(), operator=who.operator, terminal=who.place,
                              action="shift.start", target=str(shift.id))  # fmt: skip
            shift_id = shift.id
    return Actor(who.operator_id, who.operator, who.role.value, who.place, shift_id,
                 vendor_id=who.vendor_id)  # fmt: skip


def vendor_float(svc: Services, who: TerminalIdentity) -> VendorInfo:
    """The float of the vendor a terminal belongs to (every terminal may read its own)."""
    from stsvend.services.vendors import describe

    with svc.store.transaction() as conn:
        owner = repo.vendor_by_id(conn, who.vendor_id)
        if owner is None:
            raise Unauthenticated()
        return describe(conn, owner)
