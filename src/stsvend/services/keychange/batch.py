"""One batch of a supply-group job: its meters' key changes and log rows in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import evolve

from stsvend import sts
from stsvend.services.common import key_data_to_dict
from stsvend.services.context import Actor, Services
from stsvend.services.keychange.changeset import KEY_CHANGE_CLASS, Shape, note, row, shape, tokens
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.meters import MeterRecord, meters_by_ids
from stsvend.tokenlog.writer import append_values
from stsvend.vending.errors import KeyChangeError
from stsvend.vending.key_change import KeyChangePlan, KeyChangeState, plan_key_change
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["ALREADY", "run_batch"]

#: Why a job skips a meter (stored whole in the key change row; shown with the meter's DRN).
ALREADY = "already on the target key data"


def _busy(state: str) -> str:
    return f"an open key change ({state})"


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
        "state": KeyChangeState.SKIPPED.value,
        "reason": why,
        "old_key": data,
        "new_key": data,
        "tokens": [],
        "created_at": now,
    }


def run_batch(
    svc: Services,
    actor: Actor,
    job: kc.JobRecord,
    after: int,
    size: int,
    part: tuple[int, int] = (0, 1),
    behind: kc.Behind | None = None,
) -> tuple[int, int]:
    """One batch in one transaction; returns (meters handled, last meter id)."""
    now = svc.now()
    with svc.store.transaction() as conn:
        ids = kc.next_batch(conn, job.id, job.sgc, after, size, part, behind)
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
            "token_class": KEY_CHANGE_CLASS, "base_date": None, "tid": None, "amount": None,
            "ref_seq": None,
        }  # fmt: skip
        # Every meter of a group has the same key data, so plan once per distinct key data
        # (the plan depends on nothing else: the target and ``now`` are fixed for the batch).
        plans: dict[sts.KeyData, tuple[KeyChangePlan, Shape, str] | str] = {}
        for meter in meters:
            open_state = busy.get(meter.id)
            if open_state is not None:
                rows.append(_skipped(meter, job.id, _busy(open_state), now))
                continue
            current = meter.key_data
            planned = plans.get(current)
            if planned is None:
                try:
                    plan = _job_plan(meter, job.target, now)
                except KeyChangeError as exc:
                    planned = f"refused: {exc.message}"
                else:
                    planned = ALREADY if plan is None else (plan, shape(plan), note(plan))
                plans[current] = planned
            if isinstance(planned, str):
                rows.append(_skipped(meter, job.id, planned, now))
                continue
            plan, shaped, told = planned
            pairs, kcv = tokens(svc, meter, plan, shaped)
            rows.append(row(meter, shaped, pairs, kcv, now, job.id))
            sgc, krn, ti = plan.current.sgc, plan.current.krn, plan.current.ti
            entries.extend(
                {**common, "chain": meter.drn, "meter": meter.drn, "subclass": s,
                 "sgc": sgc, "krn": krn, "ti": ti, "kcv": kcv, "digits": d, "note": told}
                for d, s in pairs
            )  # fmt: skip
        kc.add_key_changes(conn, rows)
        append_values(conn, svc.log_key, entries)
        return len(meters), ids[-1]
