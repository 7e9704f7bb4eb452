"""Meter readings in the store: monthly partitions, idempotent inserts, heads, retention.

>>> from datetime import UTC, datetime
>>> name, start, end = month_bounds(datetime(2026, 12, 31, 23, tzinfo=UTC))
>>> name, start.isoformat(), end.isoformat()
('meter_reading_y2026m12', '2026-12-01T00:00:00+00:00', '2027-01-01T00:00:00+00:00')
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from attrs import frozen
from sqlalchemy import Engine, bindparam, delete, select, text, tuple_, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.reading_models import MeterReading, ReadingHead
from stsvend.store.sql import insert_ignore, upsert

__all__ = [
    "Head",
    "StoredReading",
    "ensure_partitions",
    "good_before",
    "insert_readings",
    "list_readings",
    "lock_heads",
    "month_bounds",
    "purge_before",
    "readings_since",
    "save_heads",
    "set_flags",
    "stored_energy",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Partitions known to exist, per engine (made once; a restart asks the database again).
_KNOWN: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


@frozen
class Head:
    """A meter's latest reading time and its latest good reading (None: none yet)."""

    meter_id: int
    last_at: datetime | None
    good_at: datetime | None
    good_wh: int | None


@frozen
class StoredReading:
    read_at: datetime
    energy_wh: int
    interval_wh: int | None
    status: int
    source: str
    flag: str | None
    received_at: datetime


def month_bounds(at: datetime) -> tuple[str, datetime, datetime]:
    """The partition that holds ``at``: its name and its [start, end) in UTC."""
    at = at.astimezone(UTC)
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    end = datetime(at.year + (at.month == 12), at.month % 12 + 1, 1, tzinfo=UTC)
    return f"meter_reading_y{at.year:04d}m{at.month:02d}", start, end


def ensure_partitions(engine: Engine, times: Iterable[datetime]) -> None:
    """Make the monthly partitions these times fall in (PostgreSQL; SQLite has one table).

    Each in a short transaction of its own, before the readings' transaction: making a
    partition locks the parent table, which must not be held while readings are written.
    """
    if engine.dialect.name != "postgresql":
        return
    known = _KNOWN.setdefault(engine, set())
    for name, start, end in sorted({month_bounds(t) for t in times}):
        if name in known:
            continue
        with engine.begin() as conn:
            conn.execute(text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF meter_reading "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            ))  # fmt: skip
        known.add(name)


def lock_heads(conn: Connection, meter_ids: Sequence[int]) -> dict[int, Head]:
    """The heads of these meters, locked (PostgreSQL) in meter order so that two batches
    never deadlock; a meter with no readings yet gets an empty head."""
    if not meter_ids:
        return {}
    wanted = sorted(meter_ids)
    stmt = (select(ReadingHead.meter_id, ReadingHead.last_at, ReadingHead.good_at,
                   ReadingHead.good_wh)
            .where(ReadingHead.meter_id.in_(bindparam("ids", expanding=True)))
            .order_by(ReadingHead.meter_id))  # fmt: skip
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found = {row[0]: row for row in conn.execute(stmt, {"ids": wanted})}
    missing = [m for m in wanted if m not in found]
    if missing:  # a meter's first readings: its head is made, then locked like the others
        conn.execute(insert_ignore(conn.dialect, table_of(ReadingHead), ["meter_id"]),
                     [{"meter_id": m, "last_at": _EPOCH} for m in missing])  # fmt: skip
        found.update({row[0]: row for row in conn.execute(stmt, {"ids": missing})})
    return {
        m: Head(m, None if last == _EPOCH else last, good_at, good_wh)
        for m, last, good_at, good_wh in found.values()
    }


def save_heads(conn: Connection, heads: Iterable[Head]) -> None:
    rows = [{"meter_id": h.meter_id, "last_at": h.last_at or _EPOCH, "good_at": h.good_at,
             "good_wh": h.good_wh} for h in heads]  # fmt: skip
    if rows:
        stmt = upsert(conn.dialect, table_of(ReadingHead), ["meter_id"],
                      ["last_at", "good_at", "good_wh"])  # fmt: skip
        conn.execute(stmt, rows)


def insert_readings(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[tuple[int, datetime]]:
    """Insert the readings that are not stored yet; the (meter, time) of those inserted."""
    if not rows:
        return set()
    stmt = insert_ignore(conn.dialect, table_of(MeterReading), ["meter_id", "read_at"])
    stmt = stmt.returning(MeterReading.meter_id, MeterReading.read_at)
    result = conn.execute(stmt, list(rows))
    return {(m, at.astimezone(UTC)) for m, at in result.all()}


def stored_energy(
    conn: Connection, keys: Sequence[tuple[int, datetime]]
) -> dict[tuple[int, datetime], int]:
    """The stored register of each (meter, time) given."""
    if not keys:
        return {}
    stmt = select(MeterReading.meter_id, MeterReading.read_at, MeterReading.energy_wh).where(
        tuple_(MeterReading.meter_id, MeterReading.read_at).in_(list(keys))
    )
    return {(m, at.astimezone(UTC)): wh for m, at, wh in conn.execute(stmt)}


def good_before(conn: Connection, meter_id: int, at: datetime) -> tuple[datetime, int] | None:
    """The meter's last good reading before ``at``."""
    row = conn.execute(
        select(MeterReading.read_at, MeterReading.energy_wh)
        .where(MeterReading.meter_id == meter_id, MeterReading.read_at < at,
               MeterReading.flag.is_(None))
        .order_by(MeterReading.read_at.desc()).limit(1)
    ).first()  # fmt: skip
    return None if row is None else (row[0].astimezone(UTC), row[1])


def readings_since(
    conn: Connection, meter_id: int, since: datetime
) -> list[tuple[datetime, int, str | None]]:
    """(time, register, flag) of the meter's readings from ``since`` on, oldest first."""
    rows = conn.execute(
        select(MeterReading.read_at, MeterReading.energy_wh, MeterReading.flag)
        .where(MeterReading.meter_id == meter_id, MeterReading.read_at >= since)
        .order_by(MeterReading.read_at)
    )  # fmt: skip
    return [(at.astimezone(UTC), wh, flag) for at, wh, flag in rows]


def set_flags(conn: Connection, changes: Sequence[tuple[int, datetime, str | None]]) -> None:
    if not changes:
        return
    conn.execute(
        update(table_of(MeterReading))
        .where(MeterReading.meter_id == bindparam("m"), MeterReading.read_at == bindparam("at"))
        .values(flag=bindparam("f")),
        [{"m": m, "at": at, "f": flag} for m, at, flag in changes],
    )  # fmt: skip


def list_readings(
    conn: Connection, meter_id: int, since: datetime | None, until: datetime | None, limit: int
) -> list[StoredReading]:
    """The meter's readings in [since, until), the newest ``limit`` of them, oldest first."""
    stmt = select(MeterReading.read_at, MeterReading.energy_wh, MeterReading.interval_wh,
                  MeterReading.status, MeterReading.source, MeterReading.flag,
                  MeterReading.received_at).where(MeterReading.meter_id == meter_id)  # fmt: skip
    if since is not None:
        stmt = stmt.where(MeterReading.read_at >= since)
    if until is not None:
        stmt = stmt.where(MeterReading.read_at < until)
    rows = conn.execute(stmt.order_by(MeterReading.read_at.desc()).limit(limit)).all()
    return [StoredReading(r[0].astimezone(UTC), r[1], r[2], r[3], r[4], r[5],
                          r[6].astimezone(UTC)) for r in reversed(rows)]  # fmt: skip


def purge_before(conn: Connection, cutoff: datetime) -> int:
    """Remove every reading before ``cutoff`` (the first instant of a month): whole monthly
    partitions on PostgreSQL, rows on SQLite.  The number of readings removed."""
    if conn.dialect.name != "postgresql":
        result = conn.execute(delete(table_of(MeterReading)).where(MeterReading.read_at < cutoff))
        return int(result.rowcount or 0)
    removed = 0
    parts = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'meter_reading'"
    )).scalars().all()  # fmt: skip
    cutoff_name = month_bounds(cutoff)[0]
    for name in sorted(parts):
        if name.startswith("meter_reading_y") and name < cutoff_name:
            removed += int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
            conn.execute(text(f"DROP TABLE {name}"))
            for known in _KNOWN.values():
                known.discard(name)
    return removed
