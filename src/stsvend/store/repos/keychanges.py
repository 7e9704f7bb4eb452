"""Key changes of meters (pending → issued → confirmed, or cancelled) and bulk key change jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.bulk import bulk_insert
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import KeyChange, KeyChangeJob, Meter

__all__ = [
    "JobRecord",
    "KeyChangeRecord",
    "add_job",
    "add_key_changes",
    "find_job",
    "get_job",
    "job_progress",
    "list_jobs",
    "next_batch",
    "open_key_change",
    "open_key_changes_for",
    "set_job_state",
    "set_state",
]


@frozen
class KeyChangeRecord:
    id: int
    meter_id: int
    job_id: int | None
    state: str
    reason: str
    old_key: dict[str, Any]
    new_key: dict[str, Any]
    tokens: list[dict[str, Any]]
    created_at: datetime


@frozen
class JobRecord:
    id: int
    request_id: str
    sgc: int
    target: dict[str, Any]
    state: str
    total: int
    operator_id: int
    created_at: datetime
    finished_at: datetime | None


_KC = (
    KeyChange.id,
    KeyChange.meter_id,
    KeyChange.job_id,
    KeyChange.state,
    KeyChange.reason,
    KeyChange.old_key,
    KeyChange.new_key,
    KeyChange.tokens,
    KeyChange.created_at,
)
_JOB = (
    KeyChangeJob.id,
    KeyChangeJob.request_id,
    KeyChangeJob.sgc,
    KeyChangeJob.target,
    KeyChangeJob.state,
    KeyChangeJob.total,
    KeyChangeJob.operator_id,
    KeyChangeJob.created_at,
    KeyChangeJob.finished_at,
)


_OPEN = select(*_KC).where(
    KeyChange.meter_id == bindparam("m"), KeyChange.state.in_(("pending", "issued"))
)


def open_key_change(conn: Connection, meter_id: int) -> KeyChangeRecord | None:
    row = conn.execute(_OPEN, {"m": meter_id}).first()
    return None if row is None else KeyChangeRecord(*row)


def open_key_changes_for(conn: Connection, meter_ids: Sequence[int]) -> set[int]:
    """Which of these meters have an open (pending or issued) key change."""
    if not meter_ids:
        return set()
    rows = conn.execute(
        select(KeyChange.meter_id).where(
            KeyChange.meter_id.in_(list(meter_ids)), KeyChange.state.in_(("pending", "issued"))
        )
    )
    return set(rows.scalars())


def add_key_changes(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert key change rows (all with the same keys; COPY on PostgreSQL for a batch)."""
    if rows:
        bulk_insert(conn, table_of(KeyChange), rows)


def set_state(conn: Connection, key_change_id: int, state: str, now: datetime) -> None:
    values: dict[str, Any] = {"state": state}
    if state == "issued":
        values["issued_at"] = now
    elif state == "confirmed":
        values["confirmed_at"] = now
    conn.execute(update(KeyChange).where(KeyChange.id == key_change_id).values(values))


def add_job(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(insert(KeyChangeJob).values(values).returning(KeyChangeJob.id)).scalar_one()
    )


def get_job(conn: Connection, job_id: int, *, lock: bool = False) -> JobRecord:
    stmt = select(*_JOB).where(KeyChangeJob.id == job_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise RecordNotFoundError(f"no key change job {job_id}")
    return JobRecord(*row)


def find_job(conn: Connection, request_id: str) -> JobRecord | None:
    row = conn.execute(select(*_JOB).where(KeyChangeJob.request_id == request_id)).first()
    return None if row is None else JobRecord(*row)


def list_jobs(conn: Connection) -> list[JobRecord]:
    return [JobRecord(*r) for r in conn.execute(select(*_JOB).order_by(KeyChangeJob.id))]


def set_job_state(conn: Connection, job_id: int, state: str, now: datetime | None) -> None:
    conn.execute(
        update(KeyChangeJob).where(KeyChangeJob.id == job_id).values(state=state, finished_at=now)
    )


def job_progress(conn: Connection, job_id: int) -> dict[str, int]:
    rows = conn.execute(
        select(KeyChange.state, func.count())
        .where(KeyChange.job_id == job_id)
        .group_by(KeyChange.state)
    )
    return {state: int(n) for state, n in rows}


def next_batch(
    conn: Connection,
    job_id: int,
    sgc: int,
    after_meter_id: int,
    size: int,
    part: tuple[int, int] = (0, 1),
) -> list[int]:
    """Ids of the group's meters this job has not done yet, after ``after_meter_id``.

    ``part`` = (k, n) takes only meters whose id is k modulo n: parallel workers take disjoint
    parts.  The caller locks the meters (:func:`~stsvend.store.repos.meters.meters_by_ids`);
    the unique (job, meter) constraint makes sure that no meter is done twice, whatever
    happens.
    """
    done = select(KeyChange.meter_id).where(KeyChange.job_id == job_id)
    stmt = (
        select(Meter.id)
        .where(Meter.sgc == sgc, Meter.id > after_meter_id, Meter.id.not_in(done))
        .order_by(Meter.id)
        .limit(size)
    )
    k, n = part
    if n > 1:
        stmt = stmt.where(Meter.id % n == k)
    return list(conn.execute(stmt).scalars())
