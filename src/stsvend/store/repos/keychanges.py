"""Key changes of meters (pending → issued → confirmed, or cancelled) and bulk key change jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from attrs import frozen
from sqlalchemy import and_, bindparam, exists, func, insert, not_, or_, select, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.bulk import bulk_insert
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import KeyChange, KeyChangeJob, Meter, SupplyGroup
from stsvend.store.repos.meters import MeterRecord
from stsvend.vending.key_change import OPEN_KEY_CHANGE_STATES, KeyChangeState

__all__ = [
    "Behind",
    "JobRecord",
    "KeyChangeRecord",
    "ReportRow",
    "add_job",
    "add_key_changes",
    "count_to_do",
    "find_job",
    "get_job",
    "job_progress",
    "jobs_of_group",
    "latest_job",
    "list_jobs",
    "next_batch",
    "open_key_change",
    "open_key_changes_for",
    "report_rows",
    "set_job_state",
    "set_state",
    "skipped_meters",
]

#: A catch-up job's selection: the target (KRN, KEN, base date) meters are not on yet, and the
#: jobs (the first and its catch-ups) whose open key changes already take a meter there.
Behind = tuple[tuple[int, int, int], Sequence[int]]


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


_METER_COLUMNS = [getattr(Meter, a.name) for a in attrs.fields(MeterRecord)]
_OPEN_STATES = [s.value for s in OPEN_KEY_CHANGE_STATES]
_OPEN = select(*_KC).where(KeyChange.meter_id == bindparam("m"), KeyChange.state.in_(_OPEN_STATES))


def open_key_change(conn: Connection, meter_id: int) -> KeyChangeRecord | None:
    row = conn.execute(_OPEN, {"m": meter_id}).first()
    return None if row is None else KeyChangeRecord(*row)


def open_key_changes_for(conn: Connection, meter_ids: Sequence[int]) -> dict[int, str]:
    """Which of these meters have an open (pending or issued) key change, and its state."""
    if not meter_ids:
        return {}
    rows = conn.execute(
        select(KeyChange.meter_id, KeyChange.state).where(
            KeyChange.meter_id.in_(list(meter_ids)), KeyChange.state.in_(_OPEN_STATES)
        )
    )
    return {meter_id: state for meter_id, state in rows}


def add_key_changes(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert key change rows (all with the same keys; COPY on PostgreSQL for a batch)."""
    if rows:
        bulk_insert(conn, table_of(KeyChange), rows)


def set_state(
    conn: Connection, key_change_id: int, state: KeyChangeState | str, now: datetime
) -> None:
    state = KeyChangeState(state)
    values: dict[str, Any] = {"state": state.value}
    if state is KeyChangeState.ISSUED:
        values["issued_at"] = now
    elif state is KeyChangeState.CONFIRMED:
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
        update(KeyChangeJob)
        .where(KeyChangeJob.id == job_id)
        .values(state=str(state), finished_at=now)
    )


def latest_job(conn: Connection, sgc: int) -> JobRecord | None:
    """The newest key change job of a supply group (None: the group never had one)."""
    stmt = select(*_JOB).where(KeyChangeJob.sgc == sgc).order_by(KeyChangeJob.id.desc())
    row = conn.execute(stmt.limit(1)).first()
    return None if row is None else JobRecord(*row)


def jobs_of_group(conn: Connection, sgc: int) -> list[JobRecord]:
    stmt = select(*_JOB).where(KeyChangeJob.sgc == sgc).order_by(KeyChangeJob.id)
    return [JobRecord(*r) for r in conn.execute(stmt)]


def skipped_meters(conn: Connection, job_id: int) -> list[tuple[str, str]]:
    """(DRN, why) of every meter the job skipped, in DRN order."""
    rows = conn.execute(
        select(Meter.drn, KeyChange.reason)
        .join(Meter, Meter.id == KeyChange.meter_id)
        .where(KeyChange.job_id == job_id, KeyChange.state == KeyChangeState.SKIPPED.value)
        .order_by(Meter.drn)
    )
    return [(drn, reason) for drn, reason in rows]


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
    behind: Behind | None = None,
) -> list[int]:
    """Ids of the group's meters this job has not done yet, after ``after_meter_id``.

    ``behind`` (a catch-up job) takes only the meters not on the target and with no open key
    change from the first job or an earlier catch-up.

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
    if behind is not None:
        stmt = stmt.where(*_behind(behind))
    k, n = part
    if n > 1:
        stmt = stmt.where(Meter.id % n == k)
    return list(conn.execute(stmt).scalars())


def _behind(behind: Behind) -> list[Any]:
    """Meters not on the target and not already on their way there."""
    (krn, ken, base_date), lineage = behind
    on_their_way = (
        select(KeyChange.meter_id)
        .where(KeyChange.job_id.in_(list(lineage)), KeyChange.state.in_(_OPEN_STATES))
    )  # fmt: skip
    return [
        not_(and_(Meter.krn == krn, Meter.ken == ken, Meter.base_date == base_date)),
        Meter.id.not_in(on_their_way),
    ]


def count_to_do(conn: Connection, sgc: int, behind: Behind | None = None) -> int:
    """How many meters a new job of the group will take (one COUNT, no meter is loaded)."""
    stmt = select(func.count()).select_from(Meter).where(Meter.sgc == sgc)
    if behind is not None:
        stmt = stmt.where(*_behind(behind))
    return int(conn.execute(stmt).scalar_one())


@frozen
class ReportRow:
    """A meter for the key report, with its open key change and its group's key revision."""

    meter: MeterRecord
    open_state: str | None
    #: True: the group moved to a new key revision (by a job) and the meter is not on it and
    #: has no open key change to take it there.
    behind_group: bool


def report_rows(conn: Connection, *, sgc: int | None, limit: int) -> list[ReportRow]:
    """The key report's meters in one query: each with its open key change (at most one, by
    the partial unique index) and whether it is behind its group's key revision."""
    had_job = exists().where(KeyChangeJob.sgc == Meter.sgc)
    off_group = or_(
        Meter.krn != SupplyGroup.krn,
        Meter.ken != SupplyGroup.ken,
        Meter.base_date != SupplyGroup.base_date,
    )
    stmt = (
        select(*_METER_COLUMNS, KeyChange.state, and_(off_group, had_job))
        .outerjoin(SupplyGroup, SupplyGroup.sgc == Meter.sgc)
        .outerjoin(
            KeyChange, and_(KeyChange.meter_id == Meter.id, KeyChange.state.in_(_OPEN_STATES))
        )
        .order_by(Meter.drn)
        .limit(limit)
    )
    if sgc is not None:
        stmt = stmt.where(Meter.sgc == sgc)
    out: list[ReportRow] = []
    width = len(_METER_COLUMNS)
    for row in conn.execute(stmt):
        state = row[width]
        out.append(ReportRow(MeterRecord(*row[:width]), state,
                             bool(row[width + 1]) and state is None))  # fmt: skip
    return out
