"""People's sessions at a vendor's terminal: a person logs in to the sale-point server through
the terminal, and the terminal's requests that carry the session's token act as that person.

A session is opened by the person's PIN (:func:`open_session`, through the same check as a
login at the counter, :func:`~stsvend.services.auth.pin_login`: the row locked, wrong PINs
counted, the lock after :data:`~stsvend.services.auth.MAX_FAILED_LOGINS`, a PIN to replace).
Its token, ``svs_`` and 256 random bits, is shown once and stored only as a domain-separated
SHA-256 hash; a secret of that strength needs no slow hash, and the store is searched by the
hash, so the time a search takes says nothing about the token.

Under a session (:func:`resume`) a request acts as the person, in their own role, in their own
shift at ``VENDOR/TERMINAL`` (opened by their first sale there,
:func:`~stsvend.services.terminals.terminal_actor`); the request ids stay the vendor's.  A
session is refused (:class:`SessionExpired`) at another terminal than its own, after a logout
(:func:`end_session`), after ``server_session_idle_seconds`` without a request, after
``server_session_max_seconds`` however busy, and once its person is disabled or locked.

>>> token_hash("svs_" + "0" * 64).hex()[:16]
'fb20e108362f180d'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

import attrs
from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import InputError, StsError
from stsvend.services.auth import MAX_FAILED_LOGINS, pin_login
from stsvend.services.context import Services
from stsvend.services.terminals import TerminalIdentity
from stsvend.store.repos import operators as ops
from stsvend.store.repos import sessions as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Role

__all__ = [
    "LOGIN_PATH",
    "SESSION_HEADER",
    "NewSession",
    "SessionExpired",
    "end_session",
    "open_session",
    "resume",
    "token_hash",
]

#: The request header that carries a session's token, and where a session is opened.
SESSION_HEADER = "X-Stsvend-Session"
LOGIN_PATH = "/v1/sessions"
_TOKEN = re.compile(r"svs_[0-9a-f]{64}")
_DOMAIN = b"stsvend terminal session v1\x00"
#: A session's last use is written at most this often (seconds; less for a short idle time).
_TOUCH_EVERY = 60


class SessionExpired(StsError):
    """The session given is not (or no longer) valid at this terminal."""

    code = "session_expired"
    default_message = (
        "the operator's session has ended, expired or is not this terminal's: log in again"
    )


@frozen
class NewSession:
    """A session just opened: its token is in this answer only."""

    #: The token, for the ``X-Stsvend-Session`` header of the requests that act as the person.
    session: str
    #: The person logged in, and the role they act in.
    operator: str
    role: str
    #: When the session ends however busy it is (local time, ISO 8601 with the offset).
    expires_at: str
    #: It also ends after this many seconds without a request.
    idle_timeout_seconds: int


def token_hash(token: str) -> bytes:
    """What the store keeps of a session's token."""
    return hashlib.sha256(_DOMAIN + token.encode("ascii")).digest()


def open_session(svc: Services, who: TerminalIdentity, username: str, pin: str, *,
                 new_pin: str | None = None) -> NewSession:  # fmt: skip
    """Log ``username`` in at the terminal ``who`` with their PIN; the session's token.

    Refused like a login at the counter: ``permission`` (unknown operator or wrong PIN, the
    same answer for both; locked; disabled), ``pin_change_required`` (give ``new_pin``),
    ``weak_pin``.  A terminal's own operator row is no one's login.
    """
    cfg = svc.config
    token = "svs_" + svc.rng.token_hex(32)
    now = svc.now()
    expires = now + timedelta(seconds=cfg.server_session_max_seconds)

    def start(conn: Connection, operator: ops.OperatorRecord) -> ops.OperatorRecord:
        repo.add_session(conn, token_hash(token), who.terminal_id, operator.id, now, expires)
        return operator

    person = pin_login(svc, username, pin, new_pin=new_pin, terminal=who.place, then=start,
                       detail={"via": "server", "key": who.prefix})  # fmt: skip
    at = expires.astimezone(cfg.zone).isoformat(timespec="seconds")
    return NewSession(token, person.username, person.role, at, cfg.server_session_idle_seconds)


def _live(svc: Services, row: repo.SessionLogin, who: TerminalIdentity, now: datetime) -> bool:
    idle = timedelta(seconds=svc.config.server_session_idle_seconds)
    return (
        row.terminal_id == who.terminal_id
        and row.ended_at is None
        and now < row.expires_at
        and now - row.last_used_at < idle
        and row.active
        and row.failed_logins < MAX_FAILED_LOGINS
    )


def resume(svc: Services, who: TerminalIdentity, token: str) -> TerminalIdentity:
    """The terminal ``who`` acting as the person of session ``token``: their operator row,
    role and open shift at the terminal; :class:`SessionExpired` for anything else (always the
    same answer).  Its last use is written at most once a minute (more often only for an idle
    time under four minutes), so a session used steadily costs one read a request."""
    well_formed = isinstance(token, str) and _TOKEN.fullmatch(token) is not None
    given = token_hash(token if well_formed else "svs_invalid")
    now = svc.now()
    idle = svc.config.server_session_idle_seconds
    touch = timedelta(seconds=min(_TOUCH_EVERY, max(1, idle // 4)))
    with svc.store.transaction() as conn:
        row = repo.session_by_hash(conn, given, who.place) if well_formed else None
        live = (
            row is not None
            and hmac.compare_digest(given, bytes(row.token_hash))
            and _live(svc, row, who, now)
        )
        if live and row is not None and now - row.last_used_at >= touch:
            repo.touch_session(conn, row.id, now)
    if not live or row is None:
        raise SessionExpired()
    return attrs.evolve(who, operator_id=row.operator_id, operator=row.username,
                        role=Role(row.role), shift_id=row.shift_id,
                        session_id=row.id)  # fmt: skip


def end_session(svc: Services, who: TerminalIdentity) -> None:
    """End the session the request acts under (a logout)."""
    if who.session_id is None:
        raise InputError(f"no session to end: give it in the {SESSION_HEADER} header")
    now = svc.now()
    with svc.store.transaction() as conn:
        if repo.end_session(conn, who.session_id, now):
            log_operation(conn, at=now, operator=who.operator, terminal=who.place,
                          action="logout", detail={"via": "server", "key": who.prefix})  # fmt: skip
