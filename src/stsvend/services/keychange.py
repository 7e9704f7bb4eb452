"""Key changes: one meter, or a whole supply group in resumable batches.

A key change is made (its tokens computed under the meter's current key and written to the
token log) in state *pending*; its tokens go on the next receipt of the meter (state *issued*)
and again on every receipt until someone confirms that the meter took them (*confirmed*: the
meter's key data becomes the target).  Credit meanwhile is made under the target key data.

A supply group key change (the 1993 → 2014 rollover is the worked case) is a job: each batch of
meters is one transaction (key changes and token log rows together), the job remembers nothing
but which meters it has done (a unique (job, meter) constraint), so a job killed at any point
and run again does every meter exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attrs import evolve, frozen
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import InputError, StsError
from stsvend.services.auth import authorize
from stsvend.services.common import (
    issue_once,
    key_data_from_dict,
    key_data_to_dict,
    load_meter,
    local_times,
    maybe_seal,
    replay,
)
from stsvend.services.context import Actor, Services
from stsvend.services.issue import Issued, log_issued
from stsvend.store.repos import groups as grp
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.meters import MeterRecord, count_meters, meters_by_ids, set_key_data
from stsvend.store.repos.meters import list_meters as repo_list_meters
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.sales import insert_sale
from stsvend.sts.layouts import TokenClass, key_sections
from stsvend.tokenlog.writer import append_values
from stsvend.vending.errors import KeyChangeError
from stsvend.vending.key_change import (
    KeyChangeEvent,
    KeyChangePlan,
    KeyChangeState,
    next_state,
    plan_key_change,
    plan_rollover,
)
from stsvend.vending.periods import LocalCalendar
from stsvend.vending.roles import Action
from stsvend.vending.tids import key_health
from stsvend.vending.tokenspec import TokenPurpose

__all__ = [
    "KeyChangeJobError",
    "ProgressFn",
    "cancel",
    "confirm",
    "key_change_meter",
    "key_report",
    "list_jobs",
    "make_change",
    "run_job",
    "start_job",
]

#: Called after each batch with (meters done, meters in the job).
ProgressFn = Callable[[int, int], None]

#: Per EA, the subclasses of a key change set in entry order (from the layout table).
_SUBCLASSES = {ea: tuple(int(s.subclass) for s in key_sections(ea.value)) for ea in sts.EA}
_KCT = int(TokenClass.METER_MANAGEMENT)


def _reason(plan: KeyChangePlan) -> str:
    if plan.commissioning:
        return "commissioning"
    if plan.rollover:
        return "rollover"
    return ",".join(sorted(r.value for r in plan.reasons))[:16]


@frozen
class _Shape:
    """What a key change row and its log rows take from the plan alone (not from the meter)."""

    reason: str
    old_key: dict[str, Any]
    new_key: dict[str, Any]
    subclasses: tuple[int, ...]


def _shape(plan: KeyChangePlan) -> _Shape:
    return _Shape(_reason(plan), key_data_to_dict(plan.current), key_data_to_dict(plan.target),
                  _SUBCLASSES[plan.current.ea])  # fmt: skip


def _tokens(
    svc: Services, meter: MeterRecord, plan: KeyChangePlan, shape: _Shape
) -> tuple[list[tuple[str, int]], str]:
    """The key change set as (digits, subclass) pairs, and the current decoder key's KCV."""
    hsm = svc.hsm
    identity = meter.identity
    digits = hsm.key_change_tokens(
        identity, plan.current, plan.target, rollover=plan.rollover, with_sgc=plan.with_sgc
    )
    kcv = hsm.decoder_key_check_value(identity, plan.current)
    return list(zip(digits, shape.subclasses, strict=False)), kcv


def _row(
    meter: MeterRecord,
    shape: _Shape,
    pairs: list[tuple[str, int]],
    kcv: str,
    now: datetime,
    job_id: int | None,
) -> dict[str, Any]:
    return {
        "meter_id": meter.id,
        "job_id": job_id,
        "state": KeyChangeState.PENDING.value,
        "reason": shape.reason,
        "old_key": shape.old_key,
        "new_key": shape.new_key,
        "tokens": [{"digits": d, "subclass": s, "kcv": kcv} for d, s in pairs],
        "created_at": now,
    }


def make_change(
    svc: Services,
    meter: MeterRecord,
    plan: KeyChangePlan,
    now: datetime,
    *,
    job_id: int | None = None,
) -> tuple[dict[str, Any], list[Issued]]:
    """The key change row (pending) and its tokens, made by the security module."""
    shape = _shape(plan)
    pairs, kcv = _tokens(svc, meter, plan, shape)
    row = _row(meter, shape, pairs, kcv, now, job_id)
    issued = [
        Issued(
            label=f"Key change {i} of {len(pairs)}",
            digits=d,
            token_class=_KCT,
            subclass=s,
            purpose=TokenPurpose.KEY_CHANGE,
            sgc=plan.current.sgc,
            krn=plan.current.krn,
            ti=plan.current.ti,
            kcv=kcv,
        )
        for i, (d, s) in enumerate(pairs, start=1)
    ]
    return row, issued


def _note(plan: KeyChangePlan) -> str:
    t = plan.target
    return (
        f"to SGC {t.sgc:06d} KRN {t.krn} TI {t.ti} KT {int(t.key_type)} "
        f"base {int(t.base_date)} KEN {t.ken}" + (" (rollover)" if plan.rollover else "")
    )


def _plan_for(
    current: sts.KeyData,
    now: datetime,
    *,
    rollover: bool,
    sgc: int | None,
    krn: int | None,
    ti: int | None,
    ken: int | None,
    key_type: int | None,
    sgc_token: bool,
) -> KeyChangePlan:
    if rollover:
        plan = plan_rollover(current, krn=krn, sgc=sgc, ken=ken, sgc_token=sgc_token, now=now)
        if ti is None and key_type is None:
            return plan
        target = evolve(
            plan.target,
            ti=plan.target.ti if ti is None else ti,
            key_type=plan.target.key_type if key_type is None else key_type,
        )
        return plan_key_change(current, target, sgc_token=sgc_token, now=now)
    target = evolve(
        current,
        sgc=current.sgc if sgc is None else sgc,
        krn=current.krn if krn is None else krn,
        ti=current.ti if ti is None else ti,
        ken=current.ken if ken is None else ken,
        key_type=current.key_type if key_type is None else key_type,
    )
    return plan_key_change(current, target, sgc_token=sgc_token, now=now)


def key_change_meter(
    svc: Services,
    actor: Actor,
    drn: str,
    *,
    rollover: bool = False,
    sgc: int | None = None,
    krn: int | None = None,
    ti: int | None = None,
    ken: int | None = None,
    key_type: int | None = None,
    sgc_token: bool = False,
    issue: bool = False,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Flag one meter for a key change (``issue``: hand its tokens out now)."""
    authorize(svc, actor, Action.KEY_CHANGE)
    request_id = request_id or svc.new_request_id()

    def work() -> dict[str, Any]:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx = load_meter(conn, drn)
            stored = replay(conn, request_id, "key_change", ctx.meter.id)
            if stored is not None:
                return stored
            if ctx.key_change is not None:
                raise KeyChangeError(
                    f"meter {ctx.meter.drn} already has a key change that is "
                    f"{ctx.key_change.state}: confirm or cancel it first"
                )
            plan = _plan_for(
                ctx.meter.key_data, now, rollover=rollover, sgc=sgc, krn=krn, ti=ti, ken=ken,
                key_type=key_type, sgc_token=sgc_token,
            )  # fmt: skip
            svc.hsm.key_record_for(plan.target)  # the new key must be in the keystore
            row, issued = make_change(svc, ctx.meter, plan, now)
            if issue:
                row["state"] = KeyChangeState.ISSUED.value
                row["issued_at"] = now
            kc.add_key_changes(conn, [row])
            result = {
                "kind": "key_change",
                "request_id": request_id,
                **local_times(svc, now),
                "operator": actor.username,
                "terminal": actor.terminal,
                "test": svc.hsm.test,
                "utility": svc.config.utility_name,
                "tax_number": svc.config.tax_number,
                "meter": {"drn": ctx.meter.drn, "iin": ctx.meter.iin,
                          **key_data_to_dict(plan.current)},
                "target": key_data_to_dict(plan.target),
                "reason": row["reason"],
                "rollover": plan.rollover,
                "state": row["state"],
                "tokens": [t.as_dict() for t in issued],
                "notes": [] if issue else [
                    "The key change is pending: its tokens print first on the meter's next "
                    "receipt."
                ],
            }  # fmt: skip
            sale_id = insert_sale(
                conn,
                {
                    "request_id": request_id,
                    "kind": "key_change",
                    "meter_id": ctx.meter.id,
                    "operator_id": actor.operator_id,
                    "shift_id": actor.shift_id,
                    "terminal": actor.terminal,
                    "created_at": now,
                    "local_day": LocalCalendar(svc.config.timezone).local(now).date(),
                    "reason": row["reason"],
                    "test": svc.hsm.test,
                    "result": result,
                },
            )
            log_issued(
                svc, conn, actor, ctx.meter.drn, issued, request_id=request_id,
                sale_id=sale_id, now=now, note=_note(plan),
            )  # fmt: skip
            return {**result, "receipt": sale_id, "replayed": False}

    return issue_once(svc, request_id, "key_change", drn, work)


def _transition(
    svc: Services, actor: Actor, drn: str, event: KeyChangeEvent, reason: str | None
) -> dict[str, Any]:
    authorize(svc, actor, Action.KEY_CHANGE_CONFIRM)
    now = svc.now()
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        change = ctx.key_change
        if change is None:
            raise KeyChangeError(f"meter {ctx.meter.drn} has no open key change")
        state = next_state(KeyChangeState(change.state), event)
        kc.set_state(conn, change.id, state.value, now)
        target = key_data_from_dict(change.new_key)
        if state is KeyChangeState.CONFIRMED:
            set_key_data(conn, ctx.meter.id, target)
        log_operation(
            conn,
            at=now,
            operator=actor.username,
            terminal=actor.terminal,
            action=f"key-change.{event.value}",
            target=ctx.meter.drn,
            detail={"key_change": change.id, "reason": reason, "target": change.new_key},
        )
    return {"meter": ctx.meter.drn, "state": state.value, "target": change.new_key}


def confirm(svc: Services, actor: Actor, drn: str) -> dict[str, Any]:
    """The meter took its key change: it now runs on the target key data."""
    return _transition(svc, actor, drn, KeyChangeEvent.CONFIRM, None)


def cancel(svc: Services, actor: Actor, drn: str, reason: str) -> dict[str, Any]:
    """Withdraw an open key change (its tokens stay in the log)."""
    if not isinstance(reason, str) or len(reason.strip()) < 5:
        raise InputError("cancelling a key change needs a reason of at least 5 characters")
    return _transition(svc, actor, drn, KeyChangeEvent.CANCEL, reason.strip())


# -- supply group jobs ------------------------------------------------------------------------


def start_job(
    svc: Services,
    actor: Actor,
    sgc: int,
    *,
    rollover: bool = False,
    krn: int | None = None,
    ken: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Create (or find, for a repeated request id) a key change job for a supply group."""
    authorize(svc, actor, Action.KEY_CHANGE_BULK)
    if not rollover and krn is None and ken is None:
        raise InputError("a group key change needs --rollover, a new --krn or a new --ken")
    request_id = request_id or svc.new_request_id()
    now = svc.now()
    with svc.store.transaction() as conn:
        existing = kc.find_job(conn, request_id)
        if existing is not None:
            return _job_doc(conn, existing)
        group = grp.get_group(conn, sgc)
        current = sts.KeyData(
            sgc=group.sgc, ti=1, krn=group.krn, key_type=group.key_type, ea=group.ea,
            base_date=group.base_date, ken=group.ken,
        )  # fmt: skip
        plan = _plan_for(
            current, now, rollover=rollover, sgc=None, krn=krn, ti=None, ken=ken,
            key_type=None, sgc_token=False,
        )  # fmt: skip
        svc.hsm.key_record_for(plan.target)  # refuse now, not at the first batch
        target = {
            "rollover": rollover,
            "krn": plan.target.krn,
            "ken": plan.target.ken,
            "base_date": int(plan.target.base_date),
        }
        total = len(repo_list_meters(conn, sgc=sgc, limit=10**9))
        job_id = kc.add_job(
            conn,
            {
                "request_id": request_id,
                "sgc": sgc,
                "target": target,
                "state": "running",
                "total": total,
                "operator_id": actor.operator_id,
                "created_at": now,
            },
        )
        # New meters of the group are registered straight onto the new key revision.
        grp.update_group(
            conn, sgc, krn=plan.target.krn, ken=plan.target.ken,
            base_date=int(plan.target.base_date),
        )  # fmt: skip
        log_operation(
            conn,
            at=now,
            operator=actor.username,
            terminal=actor.terminal,
            action="key-change.bulk",
            target=f"{sgc:06d}",
            detail={"job": job_id, **target, "meters": total},
        )
        return _job_doc(conn, kc.get_job(conn, job_id))


def _job_doc(conn: Connection, job: kc.JobRecord) -> dict[str, Any]:
    progress = kc.job_progress(conn, job.id)
    return {
        "job": job.id,
        "request_id": job.request_id,
        "sgc": f"{job.sgc:06d}",
        "target": job.target,
        "state": job.state,
        "total": job.total,
        "done": sum(progress.values()),
        "by_state": progress,
    }


def _job_plan(meter: MeterRecord, target: dict[str, Any], now: datetime) -> KeyChangePlan | None:
    current = meter.key_data
    want = evolve(current, krn=target["krn"], ken=target["ken"], base_date=target["base_date"])
    if want == current:
        return None  # already there (registered after the job started, or imported so)
    return plan_key_change(current, want, now=now)


def _skipped(meter: MeterRecord, job_id: int, why: str, now: datetime) -> dict[str, Any]:
    data = key_data_to_dict(meter.key_data)
    return {
        "meter_id": meter.id,
        "job_id": job_id,
        "state": "skipped",
        "reason": why[:16],
        "old_key": data,
        "new_key": data,
        "tokens": [],
        "created_at": now,
    }


def _run_batch(
    svc: Services,
    actor: Actor,
    job: kc.JobRecord,
    after: int,
    size: int,
    part: tuple[int, int] = (0, 1),
) -> tuple[int, int]:
    """One batch in one transaction; returns (meters handled, last meter id)."""
    now = svc.now()
    with svc.store.transaction() as conn:
        ids = kc.next_batch(conn, job.id, job.sgc, after, size, part)
        if not ids:
            return 0, after
        meters = meters_by_ids(conn, ids, lock=True)
        busy = kc.open_key_changes_for(conn, ids)
        rows: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        common = {
            "seq": 0, "at": now, "event": "token", "purpose": TokenPurpose.KEY_CHANGE.value,
            "request_id": f"{job.request_id}:{ids[0]}", "operator": actor.username,
            "terminal": actor.terminal, "test": svc.hsm.test, "sale_id": None,
            "token_class": _KCT, "base_date": None, "tid": None, "amount": None, "ref_seq": None,
        }  # fmt: skip
        # Every meter of a group has the same key data, so plan once per distinct key data
        # (the plan depends on nothing else: the target and ``now`` are fixed for the batch).
        plans: dict[sts.KeyData, tuple[KeyChangePlan, _Shape, str] | str] = {}
        for meter in meters:
            if meter.id in busy:
                rows.append(_skipped(meter, job.id, "open_key_change", now))
                continue
            current = meter.key_data
            planned = plans.get(current)
            if planned is None:
                try:
                    plan = _job_plan(meter, job.target, now)
                except KeyChangeError:
                    planned = "refused"
                else:
                    planned = "already" if plan is None else (plan, _shape(plan), _note(plan))
                plans[current] = planned
            if isinstance(planned, str):
                rows.append(_skipped(meter, job.id, planned, now))
                continue
            plan, shape, note = planned
            pairs, kcv = _tokens(svc, meter, plan, shape)
            rows.append(_row(meter, shape, pairs, kcv, now, job.id))
            sgc, krn, ti = plan.current.sgc, plan.current.krn, plan.current.ti
            entries.extend(
                {**common, "chain": meter.drn, "meter": meter.drn, "subclass": s,
                 "sgc": sgc, "krn": krn, "ti": ti, "kcv": kcv, "digits": d, "note": note}
                for d, s in pairs
            )  # fmt: skip
        kc.add_key_changes(conn, rows)
        append_values(conn, svc.log_key, entries)
        return len(meters), ids[-1]


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
) -> dict[str, Any]:
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
    if job.state == "done":
        with svc.store.transaction() as conn:
            return _job_doc(conn, job)
    total = max(job.total, done)
    if progress is not None:
        progress(done, total)
    if workers == 1:
        finished = _run_part(svc, actor, job, batch_size, max_batches, (0, 1), progress,
                             done, total)  # fmt: skip
    else:
        assert opener is not None
        finished = _run_parallel(opener, actor, job, batch_size, max_batches, workers,
                                 progress, done, total)  # fmt: skip
    if finished:
        with svc.store.transaction() as conn:
            kc.set_job_state(conn, job.id, "done", svc.now())
    maybe_seal(svc)
    with svc.store.transaction() as conn:
        return _job_doc(conn, kc.get_job(conn, job_id))


def _run_part(
    svc: Services,
    actor: Actor,
    job: kc.JobRecord,
    batch_size: int,
    max_batches: int | None,
    part: tuple[int, int],
    progress: ProgressFn | None,
    done: int,
    total: int,
) -> bool:
    """Batches of one part until it is finished (True) or ``max_batches`` ran (False)."""
    after, batches = 0, 0
    while max_batches is None or batches < max_batches:
        handled, after = _run_batch(svc, actor, job, after, batch_size, part)
        if not handled:
            return True
        batches += 1
        done += handled
        total = max(total, done)
        if progress is not None:
            progress(done, total)
    return False


def _worker(
    opener: Callable[[], Services],
    actor: Actor,
    job: kc.JobRecord,
    batch_size: int,
    max_batches: int | None,
    part: tuple[int, int],
    queue: Any,
) -> None:
    """A worker process: its part of the job.  Reports ("batch", meters) after each batch,
    then ("finished" | "stopped", part) or ("error", message)."""
    try:
        svc = opener()
        seen = [0]

        def report(done: int, _total: int) -> None:
            queue.put(("batch", done - seen[0]))
            seen[0] = done

        try:
            finished = _run_part(svc, actor, job, batch_size, max_batches, part, report, 0, 0)
        finally:
            svc.store.dispose()
        queue.put(("finished" if finished else "stopped", part[0]))
    except BaseException as exc:  # the parent turns it into an error for the user
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


class KeyChangeJobError(StsError):
    """A worker of a parallel supply-group key change failed (the job can be resumed)."""

    code = "storage"
    default_message = "a key change worker failed; run the job again to resume it"


def _run_parallel(
    opener: Callable[[], Services],
    actor: Actor,
    job: kc.JobRecord,
    batch_size: int,
    max_batches: int | None,
    workers: int,
    progress: ProgressFn | None,
    done: int,
    total: int,
) -> bool:
    """Run the parts in ``workers`` processes; True when every part finished."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [
        context.Process(
            target=_worker,
            args=(opener, actor, job, batch_size, max_batches, (k, workers), queue),
        )
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    outcomes: list[str] = []
    errors: list[str] = []
    while len(outcomes) + len(errors) < workers:
        kind, value = queue.get()
        if kind == "batch":
            done += int(value)
            total = max(total, done)
            if progress is not None:
                progress(done, total)
        elif kind == "error":
            errors.append(str(value))
        else:
            outcomes.append(str(kind))
    for proc in procs:
        proc.join()
    if errors:
        raise KeyChangeJobError("a key change worker failed: " + "; ".join(errors[:3]))
    return all(kind == "finished" for kind in outcomes)


def list_jobs(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    authorize(svc, actor, Action.KEY_CHANGE_BULK)
    with svc.store.transaction() as conn:
        return [_job_doc(conn, job) for job in kc.list_jobs(conn)]


def key_report(
    svc: Services, actor: Actor, *, sgc: int | None = None, limit: int = 10_000
) -> dict[str, Any]:
    """Meters near key expiry, needing or past a rollover, or with an unconfirmed key change."""
    authorize(svc, actor, Action.REPORTS)
    from datetime import timedelta

    now = svc.now()
    warn = timedelta(days=svc.config.key_warning_days)
    rows: list[dict[str, Any]] = []
    with svc.store.transaction() as conn:
        meters: Sequence[MeterRecord] = repo_list_meters(conn, sgc=sgc, limit=limit)
        total = count_meters(conn)
        for meter in meters:
            health = key_health(now, meter.key_data, warn_within=warn)
            change = kc.open_key_change(conn, meter.id)
            if health.ok and change is None:
                continue
            rows.append(
                {
                    "drn": meter.drn,
                    "sgc": f"{meter.sgc:06d}",
                    "krn": meter.krn,
                    "base_date": meter.base_date,
                    "ken": meter.ken,
                    "statuses": sorted(s.value for s in health.statuses if s.value != "ok"),
                    "key_expires_at": None
                    if health.key_expires_at is None
                    else health.key_expires_at.isoformat(),
                    "base_date_ends_at": health.base_date_ends_at.isoformat(),
                    "open_key_change": None if change is None else change.state,
                }
            )
    return {"at": now.isoformat(), "meters": total, "listed": rows}
