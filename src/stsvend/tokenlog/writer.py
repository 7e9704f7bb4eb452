"""Appending to the token log and sealing it, inside the caller's transaction.

:func:`append` gives each entry the next sequence number of its chain, computes the MACs and
inserts the rows; the chain heads it moves are locked for the rest of the transaction, one row
per meter, so vends for different meters never wait for each other.  The services lock the
meter first, so a chain head is only ever contended by work on the same meter.

:func:`write_seal` commits, in one HMAC, to every chain head that moved since the previous
seal.  Seals are written by one transaction at a time (an advisory lock on PostgreSQL, the
write lock on SQLite) and vends never touch the sealer's tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.bulk import COPY_FROM, bulk_insert, bulk_update_heads, sqlite_executemany
from stsvend.store.models import LogHead, LogSeal, LogSealedHead, LogSealEntry, TokenLog
from stsvend.store.pipeline import Write
from stsvend.store.sql import insert_ignore, upsert
from stsvend.tokenlog.chain import GENESIS, LogEntry, LogKey, SealHead

__all__ = ["SealResult", "append", "append_values", "last_seal", "open_chains", "write_seal"]

_HEADS = table_of(LogHead)
_ROWS = table_of(TokenLog)
# Any constant will do: it names "the token log sealer" among advisory locks.
_SEAL_LOCK_ID = 0x5754_5345_414C


# Built once: these run on every vend.
_SELECT_HEADS = (
    select(LogHead.chain, LogHead.seq, LogHead.mac)
    .where(LogHead.chain.in_(bindparam("chains", expanding=True)))
    .with_for_update()
)
_INSERT_ROWS = _ROWS.insert()
_MOVE_HEADS = (
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("c"))
    .values(seq=bindparam("s"), mac=bindparam("m"))
)


def _lock_heads(conn: Connection, chains: Sequence[str]) -> dict[str, tuple[int, bytes]]:
    rows = conn.execute(_SELECT_HEADS, {"chains": list(chains)})
    heads = {r.chain: (r.seq, r.mac) for r in rows}
    missing = [c for c in chains if c not in heads]
    if missing:  # a chain's first row: create its head (another writer may race us to it)
        conn.execute(
            insert_ignore(conn.dialect, _HEADS, ["chain"]),
            [{"chain": c, "seq": 0, "mac": GENESIS} for c in missing],
        )
        rows = conn.execute(_SELECT_HEADS, {"chains": missing})
        heads.update({r.chain: (r.seq, r.mac) for r in rows})
    return heads


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
    writes: list[Write] | None = None,
) -> int:
    """Insert ``entries`` (their ``seq`` is ignored and assigned here); returns how many.

    Entries of one chain keep their order.  Must run inside the business transaction.
    ``heads`` may give the chains' heads already read by a caller that holds the lock that
    guards them (the meter's row); otherwise they are read and locked here.  With ``writes``,
    the INSERT and the head update are queued there for the caller to run (in one round trip).
    """
    rows = [entry.as_row() for entry in entries]
    return append_values(conn, key, rows, heads=heads, writes=writes)


def append_values(
    conn: Connection,
    key: LogKey,
    values: Sequence[dict[str, Any]],
    *,
    heads: dict[str, tuple[int, bytes]] | None = None,
    writes: list[Write] | None = None,
) -> int:
    """:func:`append` for rows given as column values (every field of
    :class:`~stsvend.tokenlog.chain.LogEntry`; ``seq`` is assigned here).  Bulk writers use it
    to skip building an object per row."""
    if not values:
        return 0
    chains = sorted({v["chain"] for v in values})  # sorted: a fixed lock order, no deadlock
    if heads is None or any(c not in heads for c in chains):
        heads = _lock_heads(conn, chains)
    else:
        heads = dict(heads)
    rows: list[dict[str, Any]] = []
    for given in values:
        chain = given["chain"]
        seq, prev_mac = heads[chain]
        row = {**given, "seq": seq + 1}
        mac = key.values_mac(row, prev_mac)
        heads[chain] = (seq + 1, mac)
        row["prev_mac"], row["mac"] = prev_mac, mac
        rows.append(row)
    moved = [{"c": c, "s": heads[c][0], "m": heads[c][1]} for c in chains]
    if writes is not None:
        writes += [(_INSERT_ROWS, rows), (_MOVE_HEADS, moved)]
    elif len(rows) >= COPY_FROM:  # a batch job: COPY and one UPDATE on PostgreSQL
        bulk_insert(conn, _ROWS, rows)
        if bulk_update_heads(conn, {c: heads[c] for c in chains}):
            pass
        elif not sqlite_executemany(conn, _MOVE_HEADS, ("c", "s", "m"), moved):
            conn.execute(_MOVE_HEADS, moved)
    else:
        conn.execute(_INSERT_ROWS, rows)
        conn.execute(_MOVE_HEADS, moved)
    return len(rows)


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


def write_seal(
    conn: Connection, key: LogKey, now: datetime, *, wait: bool = True
) -> SealResult | None:
    """Seal the heads that moved since the last seal; None if nothing moved (or busy).

    With ``wait=False`` a sealer already at work elsewhere makes this return None at once.
    """
    if conn.dialect.name == "postgresql":
        if wait:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK_ID})
        elif not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK_ID}
        ).scalar():
            return None
    previous = last_seal(conn)
    moved_stmt = (
        select(LogHead.chain, LogHead.seq, LogHead.mac)
        .outerjoin(LogSealedHead, LogSealedHead.chain == LogHead.chain)
        .where(LogHead.seq > func.coalesce(LogSealedHead.seq, 0))
        .order_by(LogHead.chain)
    )
    heads = [SealHead(r.chain, r.seq, r.mac) for r in conn.execute(moved_stmt)]
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
        upsert(conn.dialect, table_of(LogSealedHead), ["chain"], ["seq"]),
        [{"chain": h.chain, "seq": h.seq} for h in heads],
    )
    return SealResult(seal_id, now, len(heads), mac)
