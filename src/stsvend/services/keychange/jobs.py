"""Supply-group key change jobs: start one, catch up the meters one left behind, run, list.

A job's ``target`` holds the new KRN, KEN and base date; a catch-up job's also names the job it
follows (``catch_up_of``).  A catch-up takes the meters of the group that are not on the
target and have no open key change from that job or an earlier catch-up: meters the job
skipped, meters whose key change was cancelled since, meters imported later on the old key
revision.  It is a job like any other (batches, resumable, parallel workers).

Every answer is a :class:`KeyChangeJob` (its JSON form is
:func:`~stsvend.services.results.as_doc` of it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import IdempotencyMismatch, InputError
from stsvend.services.auth import authorize
from stsvend.services.common import maybe_seal, request_id_of
from stsvend.services.context import Actor, Services
from stsvend.services.keychange.changeset import plan_for
from stsvend.services.keychange.worker import ProgressFn, run_parallel, run_part
from stsvend.store.repos import groups as grp
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.errors import KeyChangeError
from stsvend.vending.key_change import KeyChangeJobState
from stsvend.vending.roles import Action

__all__ = [
    "JobTarget",
    "KeyChangeJob",
    "SkippedMeter",
    "catch_up",
    "job_result",
    "list_jobs",
    "run_job",
    "start_job",
]

_CATCH_UP_OF = "catch_up_of"


@attrs.frozen
class JobTarget:
    """The key revision a job moves its supply group's meters to."""

    #: Whether it is a base date rollover (the key change tokens carry the RO bit).
    rollover: bool
    #: The new key revision number (1 to 9).
    krn: int
    #: The new key expiry number (0 to 255).
    ken: int
    #: The new base date (a year: 1993, 2014 or 2035).
    base_date: int


@attrs.frozen
class SkippedMeter:
    """A meter a job passed over (no key change made), and why."""

    #: The meter number.
    drn: str
    #: Why: already on the target key data, an open key change, or a refusal.
    reason: str


@attrs.frozen
class KeyChangeJob:
    """A supply group key change job and how far it got."""

    #: The job's id (what ``key-change resume`` and ``catch-up`` take).
    job: int
    #: The request id that names it (a repeat finds the same job).
    request_id: str
    #: The supply group code, 6 digits.
    sgc: str
    #: The key revision the job moves the meters to.
    target: JobTarget
    #: For a catch-up job, the id of the job it catches up; None for a first job.
    catch_up_of: int | None
    #: ``running`` while meters are left to do, then ``done``.
    state: KeyChangeJobState
    #: Meters in the group to do when the job started (grows if meters are added meanwhile).
    total: int
    #: Meters done so far (key change made, or skipped).
    done: int
    #: Meters done by the state of their key change (``pending``, ``skipped``...), counts.
    by_state: Mapping[str, int]
    #: The meters skipped, in DRN order.
    skipped: tuple[SkippedMeter, ...]


def _revision(target: dict[str, Any]) -> tuple[int, int, int]:
    return int(target["krn"]), int(target["ken"]), int(target["base_date"])


def start_job(
    svc: Services,
    actor: Actor,
    sgc: int,
    *,
    rollover: bool = False,
    krn: int | None = None,
    ken: int | None = None,
    request_id: str | None = None,
) -> KeyChangeJob:
    """Create (or find, for a repeated request id) a key change job for a supply group."""
    authorize(svc, actor, Action.KEY_CHANGE_BULK)
    if not rollover and krn is None and ken is None:
        raise InputError("a group key change needs --rollover, a new --krn or a new --ken")
    request_id = request_id_of(svc, request_id)
    now = svc.now()
    with svc.store.transaction() as conn:
        existing = kc.find_job(conn, request_id)
        if existing is not None:
            _same_job(existing, request_id, sgc=sgc, rollover=rollover, krn=krn, ken=ken)
            return job_result(conn, existing)
        group = grp.get_group(conn, sgc)
        current = sts.KeyData(
            sgc=group.sgc, ti=1, krn=group.krn, key_type=group.key_type, ea=group.ea,
            base_date=group.base_date, ken=group.ken,
        )  # fmt: skip
        try:
            plan = plan_for(
                current, now, rollover=rollover, sgc=None, krn=krn, ti=None, ken=ken,
                key_type=None, sgc_token=False,
            )  # fmt: skip
        except KeyChangeError as exc:
            last = kc.latest_job(conn, sgc)
            if last is None or _revision(last.target) != (group.krn, group.ken, group.base_date):
                raise
            raise KeyChangeError(
                f"{exc.message} (supply group {sgc:06d} moved to it by job {last.id}); for the "
                f"meters left behind run `stsvend key-change catch-up {last.id}`"
            ) from None
        svc.hsm.key_record_for(plan.target)  # refuse now, not at the first batch
        target = {
            "rollover": rollover,
            "krn": plan.target.krn,
            "ken": plan.target.ken,
            "base_date": int(plan.target.base_date),
        }
        job_id = _add_job(svc, conn, actor, request_id, sgc, target, kc.count_to_do(conn, sgc))
        # New meters of the group are registered straight onto the new key revision.
        grp.update_group(
            conn, sgc, krn=plan.target.krn, ken=plan.target.ken,
            base_date=int(plan.target.base_date),
        )  # fmt: skip
        return job_result(conn, kc.get_job(conn, job_id))


def _add_job(
    svc: Services,
    conn: Connection,
    actor: Actor,
    request_id: str,
    sgc: int,
    target: dict[str, Any],
    total: int,
) -> int:
    now = svc.now()
    job_id = kc.add_job(
        conn,
        {
            "request_id": request_id,
            "sgc": sgc,
            "target": target,
            "state": KeyChangeJobState.RUNNING.value,
            "total": total,
            "operator_id": actor.operator_id,
            "created_at": now,
        },
    )
    log_operation(
        conn,
        at=now,
        operator=actor.username,
        terminal=actor.terminal,
        action="key-change.catch-up" if _CATCH_UP_OF in target else "key-change.bulk",
        target=f"{sgc:06d}",
        detail={"job": job_id, **target, "meters": total},
    )
    return job_id


def _behind(
    conn: Connection, sgc: int, target: dict[str, Any], job_id: int | None = None
) -> kc.Behind | None:
    """A catch-up job's selection (None for a first job)."""
    root = target.get(_CATCH_UP_OF)
    if root is None:
        return None
    lineage = [
        j.id for j in kc.jobs_of_group(conn, sgc)
        if j.id != job_id and (j.id == root or j.target.get(_CATCH_UP_OF) == root)
    ]  # fmt: skip
    return _revision(target), lineage


def _same_job(
    job: kc.JobRecord, request_id: str, *, sgc: int, rollover: bool, krn: int | None,
    ken: int | None,
) -> None:  # fmt: skip
    """A repeated request id finds its job only if it asks for the same key change."""
    target = job.target
    if (
        job.sgc != sgc
        or bool(target.get("rollover")) != rollover
        or (krn is not None and target.get("krn") != krn)
        or (ken is not None and target.get("ken") != ken)
    ):
        raise IdempotencyMismatch(
            f"request id {request_id!r} was already used for a different key change job "
            f"(job {job.id}): a repeat must match the first request exactly; use a new "
            "request id"
        )


def catch_up(
    svc: Services, actor: Actor, job_id: int, *, request_id: str | None = None
) -> KeyChangeJob:
    """A job for the meters that ``job_id`` (or the job it caught up) left behind."""
    authorize(svc, actor, Action.KEY_CHANGE_BULK)
    request_id = request_id_of(svc, request_id)
    with svc.store.transaction() as conn:
        existing = kc.find_job(conn, request_id)
        if existing is not None:
            if _CATCH_UP_OF not in existing.target:
                raise IdempotencyMismatch(
                    f"request id {request_id!r} was already used for job {existing.id}: a "
                    "repeat must match the first request exactly; use a new request id"
                )
            return job_result(conn, existing)
        job = kc.get_job(conn, job_id)
        root = kc.get_job(conn, int(job.target.get(_CATCH_UP_OF, job.id)))
        for earlier in kc.jobs_of_group(conn, job.sgc):
            if earlier.state == KeyChangeJobState.RUNNING:
                raise KeyChangeError(
                    f"job {earlier.id} of supply group {job.sgc:06d} is still running: "
                    f"finish it first (`stsvend key-change resume {earlier.id}`)"
                )
        group = grp.get_group(conn, job.sgc)
        last = kc.latest_job(conn, job.sgc)
        if _revision(root.target) != (group.krn, group.ken, group.base_date) or (
            last is not None and last.target.get(_CATCH_UP_OF, last.id) != root.id
        ):
            newest = last.target.get(_CATCH_UP_OF, last.id) if last is not None else root.id
            raise KeyChangeError(
                f"supply group {job.sgc:06d} has moved on since job {root.id}: catch up "
                f"with job {newest} instead"
            )
        target = {**{k: v for k, v in root.target.items() if k != _CATCH_UP_OF},
                  _CATCH_UP_OF: root.id}  # fmt: skip
        total = kc.count_to_do(conn, job.sgc, _behind(conn, job.sgc, target))
        new_id = _add_job(svc, conn, actor, request_id, job.sgc, target, total)
        return job_result(conn, kc.get_job(conn, new_id))


def job_result(conn: Connection, job: kc.JobRecord) -> KeyChangeJob:
    """The job as it stands now (its progress read in ``conn``)."""
    progress = kc.job_progress(conn, job.id)
    target = job.target
    catch_up_of = target.get(_CATCH_UP_OF)
    return KeyChangeJob(
        job=job.id,
        request_id=job.request_id,
        sgc=f"{job.sgc:06d}",
        target=JobTarget(
            rollover=target["rollover"],
            krn=target["krn"],
            ken=target["ken"],
            base_date=target["base_date"],
        ),
        catch_up_of=None if catch_up_of is None else int(catch_up_of),
        state=KeyChangeJobState(job.state),
        total=job.total,
        done=sum(progress.values()),
        by_state=progress,
        skipped=tuple(SkippedMeter(d, r) for d, r in kc.skipped_meters(conn, job.id)),
    )


def run_job(
    svc: Services,
    actor: Actor,
    job_id: int,
    *,
    batch_size: int = 1000,
    progress: ProgressFn | None = None,
    max_batches: int | None = None,
    workers: int = 1,
    opener: Callable[[], Services] | None = None,
) -> KeyChangeJob:
    """Work a job's remaining meters in batches (each one transaction); resumable at will.

    ``max_batches`` stops early (the job stays running: run it again to go on).
    ``workers`` > 1 runs that many processes on disjoint parts of the group (by meter id);
    each opens its own services with ``opener`` (a picklable function).  Worth it on
    PostgreSQL; SQLite has one writer at a time.
    """
    authorize(svc, actor, Action.KEY_CHANGE_BULK)
    if batch_size < 1 or workers < 1:
        raise InputError("the batch size and the number of workers are at least 1")
    if workers > 1 and opener is None:
        raise InputError("parallel workers need a way to open the services (opener)")
    with svc.store.transaction() as conn:
        job = kc.get_job(conn, job_id)
        done = sum(kc.job_progress(conn, job_id).values())
        if job.state == KeyChangeJobState.DONE:
            return job_result(conn, job)
        behind = _behind(conn, job.sgc, job.target, job.id)
    total = max(job.total, done)
    if progress is not None:
        progress(done, total)
    if workers == 1:
        finished = run_part(svc, actor, job, batch_size, max_batches, (0, 1), progress,
                            done, total, behind)  # fmt: skip
    else:
        assert opener is not None
        finished = run_parallel(opener, actor, job, batch_size, max_batches, workers,
                                progress, done, total, behind)  # fmt: skip
    if finished:
        with svc.store.transaction() as conn:
            kc.set_job_state(conn, job.id, KeyChangeJobState.DONE, svc.now())
    maybe_seal(svc)
    with svc.store.transaction() as conn:
        return job_result(conn, kc.get_job(conn, job_id))


def list_jobs(svc: Services, actor: Actor) -> tuple[KeyChangeJob, ...]:
    """Every supply group key change job, oldest first."""
    authorize(svc, actor, Action.KEY_CHANGE_BULK)
    with svc.store.transaction() as conn:
        return tuple(job_result(conn, job) for job in kc.list_jobs(conn))
