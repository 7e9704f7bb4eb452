"""The outbox of notices in the store: enqueue once, claim, settle, list dead letters, resend,
purge; and the customers' opt-outs.

A notice is enqueued under its stable message id with ``INSERT … ON CONFLICT DO NOTHING``: a
second producer round over the same events adds nothing.  A sender claims due notices in one
short transaction (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several senders share the work):
the claim counts the attempt and moves the notice's next attempt a lease ahead, so a sender
that dies while sending leaves the notice to be claimed again when the lease runs out (at least
once, never lost).  A failed attempt waits ``backoff * 2**(attempts-1)`` (capped) before the
next; after ``max_attempts`` the notice is a dead letter until an operator resends it.

>>> RetryPolicy(backoff_seconds=60, max_backoff_seconds=600).delay(1)
60.0
>>> [RetryPolicy(backoff_seconds=60, max_backoff_seconds=600).delay(n) for n in (3, 9)]
[240.0, 600.0]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.base import table_of
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import Customer, NoticeOptOut, NoticeOutbox
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = [
    "DeadLetter",
    "Due",
    "RetryPolicy",
    "claim_due",
    "dead_letters",
    "enqueue",
    "finish",
    "opt_outs",
    "purge",
    "purge_daily",
    "resend",
    "retry_or_bury",
    "set_opt_out",
]

OUTBOX = table_of(NoticeOutbox)
OPT_OUT = table_of(NoticeOptOut)
CUSTOMER = table_of(Customer)
_FINISHED = ("sent", "skipped", "dead")
#: A channel's name, as an adapter's name is written (stsvend.config).
_CHANNEL = re.compile(r"[a-z0-9_-]{1,40}")


@frozen
class RetryPolicy:
    """How often and how long a notice is tried."""

    max_attempts: int = 8
    backoff_seconds: float = 60.0
    max_backoff_seconds: float = 3600.0
    #: How long a claimed notice is the claimer's (longer than one send can take).
    lease_seconds: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones."""
        return float(min(self.backoff_seconds * 2 ** max(attempts - 1, 0),
                         self.max_backoff_seconds))  # fmt: skip


@frozen
class Due:
    """A claimed notice: what a sender needs (the contact is looked up afterwards)."""

    id: int
    message_id: str
    channel: str
    kind: str
    customer_id: int
    customer_number: str
    params: Mapping[str, Any]
    #: This attempt's number (1 for the first).
    attempts: int


@frozen
class DeadLetter:
    """A notice given up on: what an operator sees (never its text or figures)."""

    id: int
    message_id: str
    channel: str
    kind: str
    customer_number: str
    attempts: int
    last_error: str
    created_at: datetime


def enqueue(
    conn: Connection,
    *,
    message_id: str,
    channel: str,
    kind: str,
    customer_id: int,
    params: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Put a notice in the outbox unless its message id is there; True when it was added."""
    values = dict(message_id=message_id, channel=channel, kind=kind, customer_id=customer_id,
                  params=dict(params), state="pending", attempts=0, next_attempt_at=now,
                  created_at=now)  # fmt: skip
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(OUTBOX).values(**values).on_conflict_do_nothing(
            index_elements=["message_id"])  # fmt: skip
    elif dialect == "sqlite":
        stmt = sqlite.insert(OUTBOX).values(**values).on_conflict_do_nothing(
            index_elements=["message_id"])  # fmt: skip
    else:  # pragma: no cover - the store runs on SQLite and PostgreSQL only
        if conn.execute(select(OUTBOX.c.id).where(OUTBOX.c.message_id == message_id)).first():
            return False
        stmt = insert(OUTBOX).values(**values)
    # RETURNING tells whether a row went in (a conflict returns none) on every driver.
    return conn.execute(stmt.returning(OUTBOX.c.id)).first() is not None


def opt_outs(conn: Connection, customer_ids: Sequence[int]) -> set[tuple[int, str]]:
    """The (customer, channel) pairs among ``customer_ids`` that take no notices."""
    if not customer_ids:
        return set()
    rows = conn.execute(select(OPT_OUT.c.customer_id, OPT_OUT.c.channel)
                        .where(OPT_OUT.c.customer_id.in_(list(customer_ids))))  # fmt: skip
    return {(int(r[0]), str(r[1])) for r in rows}


def claim_due(svc: Services, policy: RetryPolicy, *, limit: int = 50) -> list[Due]:
    """Claim up to ``limit`` due notices (oldest due first) for one sender."""
    now = svc.now()
    with svc.store.transaction() as conn:
        query = (
            select(OUTBOX.c.id, OUTBOX.c.message_id, OUTBOX.c.channel, OUTBOX.c.kind,
                   OUTBOX.c.customer_id, CUSTOMER.c.customer_number, OUTBOX.c.params,
                   OUTBOX.c.attempts)
            .join(CUSTOMER, CUSTOMER.c.id == OUTBOX.c.customer_id)
            .where(and_(OUTBOX.c.state == "pending", OUTBOX.c.next_attempt_at <= now))
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )  # fmt: skip
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=OUTBOX, skip_locked=True)
        rows = conn.execute(query).all()
        lease = now + timedelta(seconds=policy.lease_seconds)
        claimed = []
        for row in rows:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id)
                         .values(attempts=row.attempts + 1, next_attempt_at=lease))  # fmt: skip
            claimed.append(Due(int(row.id), row.message_id, row.channel, row.kind,
                               int(row.customer_id), row.customer_number, dict(row.params),
                               int(row.attempts) + 1))  # fmt: skip
    return claimed


def finish(svc: Services, notice_id: int, state: str, reason: str | None = None) -> None:
    """Settle a notice as ``sent`` or ``skipped`` (opted out, no usable contact)."""
    with svc.store.transaction() as conn:
        conn.execute(update(OUTBOX).where(OUTBOX.c.id == notice_id)
                     .values(state=state, finished_at=svc.now(),
                             last_error=None if reason is None else reason[:200]))  # fmt: skip


def retry_or_bury(svc: Services, due: Due, error: str, policy: RetryPolicy,
                  *, permanent: bool = False) -> str:
    """After a failed attempt: ``pending`` again after the backoff, or ``dead``."""
    now = svc.now()
    dead = permanent or due.attempts >= policy.max_attempts
    values: dict[str, Any] = {"last_error": error[:200]}
    if dead:
        values.update(state="dead", finished_at=now)
    else:
        values.update(next_attempt_at=now + timedelta(seconds=policy.delay(due.attempts)))
    with svc.store.transaction() as conn:
        conn.execute(update(OUTBOX).where(OUTBOX.c.id == due.id).values(**values))
    return "dead" if dead else "pending"


def dead_letters(svc: Services, actor: Actor, *, limit: int = 1000) -> list[DeadLetter]:
    """The dead letters, oldest first (their text and figures are not shown)."""
    authorize(svc, actor, Action.CUSTOMERS_VIEW)
    with svc.store.transaction() as conn:
        rows = conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.message_id, OUTBOX.c.channel, OUTBOX.c.kind,
                   CUSTOMER.c.customer_number, OUTBOX.c.attempts, OUTBOX.c.last_error,
                   OUTBOX.c.created_at)
            .join(CUSTOMER, CUSTOMER.c.id == OUTBOX.c.customer_id)
            .where(OUTBOX.c.state == "dead").order_by(OUTBOX.c.id).limit(limit)
        ).all()  # fmt: skip
    return [DeadLetter(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6] or "", r[7])
            for r in rows]  # fmt: skip


def resend(svc: Services, actor: Actor, notice_id: int) -> DeadLetter:
    """Make a dead letter due again, with its attempts counted afresh."""
    authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    now = svc.now()
    with svc.store.transaction() as conn:
        row = conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.message_id, OUTBOX.c.channel, OUTBOX.c.kind,
                   CUSTOMER.c.customer_number, OUTBOX.c.attempts, OUTBOX.c.last_error,
                   OUTBOX.c.created_at, OUTBOX.c.state)
            .join(CUSTOMER, CUSTOMER.c.id == OUTBOX.c.customer_id)
            .where(OUTBOX.c.id == notice_id)
        ).first()  # fmt: skip
        if row is None:
            raise RecordNotFoundError(f"no notice {notice_id}")
        if row.state != "dead":
            raise InputError(f"notice {notice_id} is {row.state}, not a dead letter")
        conn.execute(update(OUTBOX).where(OUTBOX.c.id == notice_id)
                     .values(state="pending", attempts=0, next_attempt_at=now,
                             finished_at=None))  # fmt: skip
        log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                      action="notices.resend", target=row.message_id,
                      detail={"channel": row.channel, "kind": row.kind})  # fmt: skip
    return DeadLetter(int(row[0]), row[1], row[2], row[3], row[4], 0, row[6] or "", row[7])


def purge(svc: Services, actor: Actor | None, older_than_days: int) -> int:
    """Blank the text and figures of notices finished more than ``older_than_days`` ago.

    The rows stay (state ``purged``, no values): their message ids keep a later scan from
    enqueuing the same events again.  ``actor`` None: the worker's daily purge.
    """
    if actor is not None:
        authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    if older_than_days < 0:
        raise InputError("--older-than takes a number of days, 0 or more")
    now = svc.now()
    cutoff = now - timedelta(days=older_than_days)
    with svc.store.transaction() as conn:
        done = conn.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.state.in_(_FINISHED), OUTBOX.c.finished_at <= cutoff))
            .values(state="purged", params={})
        ).rowcount  # fmt: skip
        if actor is not None:
            log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                          action="notices.purge",
                          detail={"older_than_days": older_than_days, "purged": done})  # fmt: skip
    return int(done)


def _customer_id(conn: Connection, customer_number: str) -> int:
    found = conn.execute(select(CUSTOMER.c.id)
                         .where(CUSTOMER.c.customer_number == customer_number)).first()  # fmt: skip
    if found is None:
        raise RecordNotFoundError("no such customer")
    return int(found[0])


def set_opt_out(
    svc: Services, actor: Actor, customer_number: str, channel: str, *, opted_out: bool
) -> bool:
    """Record that a customer takes (``opted_out`` False) or refuses a channel's notices;
    True when that changed anything."""
    authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    channel = channel.strip().lower()
    if not _CHANNEL.fullmatch(channel):
        raise InputError("a channel is named by 1-40 of a-z 0-9 _ - (file, smtp, http-sms, …)")
    now = svc.now()
    with svc.store.transaction() as conn:
        customer_id = _customer_id(conn, customer_number.strip())
        where = and_(OPT_OUT.c.customer_id == customer_id, OPT_OUT.c.channel == channel)
        there = conn.execute(select(OPT_OUT.c.customer_id).where(where)).first() is not None
        if opted_out and not there:
            conn.execute(insert(OPT_OUT).values(customer_id=customer_id, channel=channel,
                                                created_at=now))  # fmt: skip
        elif not opted_out and there:
            conn.execute(delete(OPT_OUT).where(where))
        changed = opted_out != there
        log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                      action="notices.opt-out" if opted_out else "notices.opt-in",
                      target=customer_number.strip(),
                      detail={"channel": channel, "changed": changed})  # fmt: skip
    return changed


def purge_daily(svc: Services, older_than_days: int) -> int | None:
    """The worker's purge: at most once a day (None: it is not due yet)."""
    from stsvend.store.models import NoticeWatermark

    marks = table_of(NoticeWatermark)
    now = svc.now()
    with svc.store.transaction() as conn:
        last = conn.execute(select(marks.c.at).where(marks.c.name == "purge")).first()
        if last is not None and now - last[0] < timedelta(days=1):
            return None
        if last is None:
            conn.execute(insert(marks).values(name="purge", at=now))
        else:
            conn.execute(update(marks).where(marks.c.name == "purge").values(at=now))
    return purge(svc, None, older_than_days)
