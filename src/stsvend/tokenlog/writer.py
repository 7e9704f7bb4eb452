"""Appending to the token log and sealing it, inside the caller's transaction.

:func:`append` gives each entry the next sequence number of its chain, computes the MACs and
inserts the rows; the chain heads it moves are locked for the rest of the transaction, one row
per meter, so vends for different meters never wait for each other.  The services lock the
meter first, so a chain head is only ever contended by work on the same meter.

:func:`write_seal` commits, in one HMAC, to every chain head that moved since it was last
sealed, building only on a previous seal it has verified.  Seals are written by one
transaction at a time (an advisory lock on PostgreSQL, the write lock on SQLite) and vends
never touch the sealer's tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from stsvend.errors import StsError
from stsvend.store.base import table_of
from stsvend.store.bulk import COPY_FROM, bulk_insert, bulk_update_heads, sqlite_executemany
from stsvend.store.models import (
    LogHead,
    LogSeal,
    LogSealedHead,
    LogSealEntry,
    SaleRecord,
    TokenLog,
)
from stsvend.store.sql import insert_ignore, upsert
from stsvend.store.writes import flush, stage
from stsvend.tokenlog.chain import GENESIS, LogEntry, LogKey, SealHead
from stsvend.tokenlog.heads import MOVE_HEADS, lock_heads
from stsvend.tokenlog.oplog import adopt_pending, authenticate_boundary

__all__ = [
    "SealRefused",
    "SealResult",
    "append",
    "append_values",
    "last_seal",
    "open_chains",
    "write_seal",
]

_HEADS = table_of(LogHead)
_ROWS = table_of(TokenLog)
# Any constant will do: it names "the token log sealer" among advisory locks.
_SEAL_LOCK_ID = 0x5754_5345_414C


_INSERT_ROWS = _ROWS.insert()
_RECORDS = table_of(SaleRecord)
_INSERT_RECORDS = _RECORDS.insert()
_RECORD_COLUMNS = tuple(c.name for c in _RECORDS.columns if c.name != "id")


def open_chains(conn: Connection, chains: Sequence[str]) -> None:
    """Create the (empty) chains of new meters, so that a vend finds its head in its snapshot.

    A chain created here and never written verifies as empty; once written, its head is
    sealed like any other.
    """
    if chains:
        conn.execute(
            insert_ignore(conn.dialect, _HEADS, ["chain"]),
            [{"chain": c, "seq": 0, "mac": GENESIS} for c in chains],
        )


def append(
    conn: Connection,
    key: LogKey,
    entries: Sequence[LogEntry],
    *,
    heads: dict[str, tuple[int, bytes]] | None = None,
) -> int:
    """Insert ``entries`` (their ``seq`` is ignored and assigned here); returns how many.

    Entries of one chain keep their order.  Must run inside the business transaction.
    ``heads`` may give the chains' heads already read by a caller that holds the lock that
    guards them (the meter's row); otherwise they are read and locked here.  The INSERTs and
    the head update are staged (:mod:`stsvend.store.writes`): they reach the database with the
    transaction's other writes.
    """
    rows = [entry.as_row() for entry in entries]
    return append_values(conn, key, rows, heads=heads)


def append_values(
    conn: Connection,
    key: LogKey,
    values: Sequence[dict[str, Any]],
    *,
    heads: dict[str, tuple[int, bytes]] | None = None,
) -> int:
    """:func:`append` for rows given as column values (every field of
    :class:`~stsvend.tokenlog.chain.LogEntry`; ``seq`` is assigned here).  Bulk writers use it
    to skip building an object per row."""
    if not values:
        return 0
    chains = sorted({v["chain"] for v in values})  # sorted: a fixed lock order, no deadlock
    if heads is None or any(c not in heads for c in chains):
        heads = lock_heads(conn, chains)
    else:
        heads = dict(heads)
    rows: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for given in values:
        chain = given["chain"]
        seq, prev_mac = heads[chain]
        row = {**given, "seq": seq + 1}
        mac = key.values_mac(row, prev_mac)
        heads[chain] = (seq + 1, mac)
        row["prev_mac"], row["mac"] = prev_mac, mac
        if row.get("digest") is None:
            row.pop("digest", None)
            rows.append(row)
        else:  # a sale's record: same chain, its own table
            records.append({name: row[name] for name in _RECORD_COLUMNS})
    moved = [{"c": c, "s": heads[c][0], "m": heads[c][1]} for c in chains]
    if records:
        stage(conn, _INSERT_RECORDS, records)
    if len(rows) >= COPY_FROM:  # a batch job: COPY and one UPDATE on PostgreSQL
        flush(conn)
        bulk_insert(conn, _ROWS, rows)
        if bulk_update_heads(conn, {c: heads[c] for c in chains}):
            pass
        elif not sqlite_executemany(conn, MOVE_HEADS, ("c", "s", "m"), moved):
            conn.execute(MOVE_HEADS, moved)
        return len(rows) + len(records)
    if rows:
        stage(conn, _INSERT_ROWS, rows)
    stage(conn, MOVE_HEADS, moved)
    return len(rows) + len(records)


@frozen
class SealResult:
    seal_id: int
    at: datetime
    heads: int
    mac: bytes


def last_seal(conn: Connection) -> SealResult | None:
    row = conn.execute(
        select(LogSeal.id, LogSeal.at, LogSeal.entries, LogSeal.mac)
        .order_by(LogSeal.id.desc())
        .limit(1)
    ).first()
    return None if row is None else SealResult(row.id, row.at, row.entries, row.mac)


class SealRefused(StsError):
    """The newest seal does not verify under the log key: sealing on top of it would bless a
    tampered log (``stsvend log verify`` says what changed)."""

    code = "refused"
    default_message = "the newest seal does not verify: run `stsvend log verify`"


def _check_previous(conn: Connection, key: LogKey, previous: SealResult | None) -> None:
    """The seal to build on must verify: its MAC over its own entries and its link."""
    if previous is None:
        return
    row = conn.execute(select(LogSeal).where(LogSeal.id == previous.seal_id)).one()
    heads = [
        SealHead(e.chain, e.seq, e.mac)
        for e in conn.execute(select(LogSealEntry).where(LogSealEntry.seal_id == row.id))
    ]
    if len(heads) != row.entries or key.seal_mac(row.id, row.at, heads, row.prev_mac) != row.mac:
        raise SealRefused(f"seal {row.id} does not verify under the log key: nothing was sealed")


# A chain needs sealing unless the sealer's index names a seal entry that records exactly its
# head.  The index alone decides nothing: the entry it names is covered by that seal's MAC, so
# an index raised or rewound by hand only makes the sealer seal again (see docs/token-log.md).
_ENTRY = table_of(LogSealEntry).alias("recorded")
_MOVED = (
    select(LogHead.chain, LogHead.seq, LogHead.mac)
    .outerjoin(LogSealedHead, LogSealedHead.chain == LogHead.chain)
    .outerjoin(
        _ENTRY,
        (_ENTRY.c.seal_id == LogSealedHead.seal_id) & (_ENTRY.c.chain == LogHead.chain),
    )
    .where(
        LogHead.seq > 0,
        _ENTRY.c.seal_id.is_(None) | (_ENTRY.c.seq != LogHead.seq) | (_ENTRY.c.mac != LogHead.mac),
    )
    .order_by(LogHead.chain)
)


def write_seal(
    conn: Connection, key: LogKey, now: datetime, *, wait: bool = True
) -> SealResult | None:
    """Seal the heads that moved since they were last sealed; None if nothing moved (or busy).

    The previous seal is verified first (:class:`SealRefused` if it does not).  Operation-log
    entries written without the log key are chained first (:func:`adopt_pending`).  With
    ``wait=False`` a sealer already at work elsewhere makes this return None at once.
    """
    if conn.dialect.name == "postgresql":
        if wait:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK_ID})
        elif not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK_ID}
        ).scalar():
            return None
    previous = last_seal(conn)
    _check_previous(conn, key, previous)
    authenticate_boundary(conn, key)
    adopt_pending(conn, key)
    heads = [SealHead(r.chain, r.seq, r.mac) for r in conn.execute(_MOVED)]
    if not heads:
        return None
    seal_id = 1 if previous is None else previous.seal_id + 1
    prev_mac = GENESIS if previous is None else previous.mac
    mac = key.seal_mac(seal_id, now, heads, prev_mac)
    conn.execute(
        table_of(LogSeal).insert(),
        {"id": seal_id, "at": now, "entries": len(heads), "prev_mac": prev_mac, "mac": mac},
    )
    conn.execute(
        table_of(LogSealEntry).insert(),
        [{"seal_id": seal_id, "chain": h.chain, "seq": h.seq, "mac": h.mac} for h in heads],
    )
    conn.execute(
        upsert(conn.dialect, table_of(LogSealedHead), ["chain"], ["seq", "seal_id"]),
        [{"chain": h.chain, "seq": h.seq, "seal_id": seal_id} for h in heads],
    )
    return SealResult(seal_id, now, len(heads), mac)
