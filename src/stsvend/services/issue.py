"""Issuing tokens inside a business transaction: TIDs, the security module, the token log.

Every token stsvend hands out passes here:

1. :func:`allocate` locks the meter's ``meter_tid`` row for the key data's base date and takes
   the next TIDs (strictly increasing, from the UTC minute, never the reserved minute, never
   past the KEN — :func:`stsvend.vending.tids.allocate_tids`);
2. the domain builds each :class:`~stsvend.vending.tokenspec.TokenSpec` with its TID and a
   random RND, and the security module makes the digits under the meter's key;
3. :func:`log_issued` appends one token log row per token, in the same transaction.

The caller has locked the meter row first, so everything here is serialised per meter only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.services.context import Actor, Services
from stsvend.store.repos.meters import MeterRecord, locked_last_tid, set_last_tid
from stsvend.tokenlog.chain import NO_METER_CHAIN, LogEntry
from stsvend.tokenlog.records import SALE_EVENT, sale_digest
from stsvend.tokenlog.writer import append
from stsvend.vending.tids import allocate_tids, require_base_date
from stsvend.vending.tokenspec import TokenPurpose, TokenSpec

__all__ = [
    "UNREAD",
    "Issued",
    "SpecMaker",
    "allocate",
    "group4",
    "issue_for_meter",
    "log_issued",
    "sale_entry",
    "token_entries",
]

#: Builds a token spec once its TID and RND are known.
SpecMaker = Callable[[int, int], TokenSpec]


def group4(digits: str) -> str:
    """A token in groups of four, as printed on receipts.

    >>> group4("12345678901234567890")
    '1234 5678 9012 3456 7890'
    """
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


@frozen
class Issued:
    """A token made for a customer: what the receipt shows and the log records."""

    label: str
    digits: str
    token_class: int
    subclass: int
    purpose: TokenPurpose
    tid: int | None = None
    base_date: int | None = None
    amount: int | None = None
    sgc: int | None = None
    krn: int | None = None
    ti: int | None = None
    kcv: str | None = None


#: "Read the last TID from the store" (as opposed to a last TID the caller read already).
UNREAD = -1


def allocate(
    conn: Connection,
    meter: MeterRecord,
    key_data: sts.KeyData,
    now: datetime,
    count: int,
    *,
    last_tid: int | None = UNREAD,
) -> tuple[int, ...]:
    """``count`` TIDs for the meter under ``key_data``'s base date (row locked until commit).

    ``last_tid`` may give the last TID as read under the meter's lock (a vend's snapshot).
    """
    require_base_date(now, key_data, meter.drn)
    base = int(key_data.base_date)
    last = locked_last_tid(conn, meter.id, base) if last_tid == UNREAD else last_tid
    tids = allocate_tids(now, key_data.base_date, last, count, ken=key_data.ken)
    set_last_tid(conn, meter.id, base, tids[-1])
    return tids


def issue_for_meter(
    svc: Services,
    conn: Connection,
    meter: MeterRecord,
    key_data: sts.KeyData,
    makers: Sequence[tuple[str, SpecMaker]],
    now: datetime,
    *,
    last_tid: int | None = UNREAD,
) -> list[Issued]:
    """Make TID-bearing tokens (credit, engineering) for ``meter`` under ``key_data``."""
    if not makers:
        return []
    hsm = svc.hsm
    identity = meter.identity
    tids = allocate(conn, meter, key_data, now, len(makers), last_tid=last_tid)
    kcv = hsm.decoder_key_check_value(identity, key_data)
    out: list[Issued] = []
    for (label, make), tid in zip(makers, tids, strict=True):
        spec = make(tid, svc.rnd())
        out.append(
            Issued(
                label=label,
                digits=hsm.encode_token(
                    identity, key_data, spec.token_class, spec.subclass, spec.fields
                ),
                token_class=spec.token_class,
                subclass=spec.subclass,
                purpose=spec.purpose,
                tid=tid,
                base_date=int(key_data.base_date),
                amount=spec.amount,
                sgc=key_data.sgc,
                krn=key_data.krn,
                ti=key_data.ti,
                kcv=kcv,
            )
        )
    return out


def sale_entry(
    actor: Actor,
    meter_drn: str | None,
    sale: dict[str, Any],
    ledger: Sequence[dict[str, Any]],
    *,
    now: datetime,
) -> LogEntry:
    """The token log row that records a sale and its ledger lines (docs/token-log.md)."""
    return LogEntry(
        chain=meter_drn or NO_METER_CHAIN, seq=0, at=now, event=SALE_EVENT,
        purpose=sale["kind"], request_id=sale["request_id"], operator=actor.username,
        terminal=actor.terminal, test=bool(sale["test"]), sale_id=sale["id"], meter=meter_drn,
        amount=sale["amount"], digest=sale_digest(sale, ledger),
    )  # fmt: skip


def token_entries(
    svc: Services,
    actor: Actor,
    meter_drn: str | None,
    issued: Sequence[Issued],
    *,
    request_id: str,
    sale_id: int | None,
    now: datetime,
    note: str | None = None,
) -> list[LogEntry]:
    """One token log row per token made now (``note`` on each)."""
    test = svc.hsm.test if svc.has_hsm else False
    return [
        LogEntry(
            chain=meter_drn or NO_METER_CHAIN,
            seq=0,
            at=now,
            event="token",
            purpose=token.purpose.value,
            request_id=request_id,
            operator=actor.username,
            terminal=actor.terminal,
            test=test,
            sale_id=sale_id,
            meter=meter_drn,
            token_class=token.token_class,
            subclass=token.subclass,
            base_date=token.base_date,
            tid=token.tid,
            amount=token.amount,
            sgc=token.sgc,
            krn=token.krn,
            ti=token.ti,
            kcv=token.kcv,
            digits=token.digits,
            note=note,
        )
        for token in issued
    ]


def log_issued(
    svc: Services,
    conn: Connection,
    actor: Actor,
    meter_drn: str | None,
    issued: Sequence[Issued],
    *,
    request_id: str,
    sale_id: int | None,
    now: datetime,
    note: str | None = None,
) -> int:
    """Log tokens made outside a sale (a commissioning key change, a group job's tokens):
    one token log row each, in the caller's transaction."""
    entries = token_entries(
        svc, actor, meter_drn, issued, request_id=request_id, sale_id=sale_id, now=now, note=note
    )
    return append(conn, svc.log_key, entries)
