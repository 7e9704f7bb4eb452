"""A key change set: the plan for one meter, its tokens from the security module, its row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import evolve, frozen

from stsvend import sts
from stsvend.services.common import key_data_to_dict
from stsvend.services.context import Services
from stsvend.services.issue import Issued
from stsvend.store.repos.meters import MeterRecord
from stsvend.sts.layouts import TokenClass, key_sections
from stsvend.vending.key_change import (
    KeyChangePlan,
    KeyChangeState,
    plan_key_change,
    plan_rollover,
)
from stsvend.vending.tokenspec import TokenPurpose

__all__ = [
    "KEY_CHANGE_CLASS",
    "Shape",
    "make_change",
    "note",
    "plan_for",
    "reason",
    "row",
    "shape",
    "tokens",
]

#: Per EA, the subclasses of a key change set in entry order (from the layout table).
_SUBCLASSES = {ea: tuple(int(s.subclass) for s in key_sections(ea.value)) for ea in sts.EA}
KEY_CHANGE_CLASS = int(TokenClass.METER_MANAGEMENT)


def reason(plan: KeyChangePlan) -> str:
    """Why, whole: every field that changes, after "commissioning" or "rollover" if it is one.

    >>> old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
    >>> reason(plan_rollover(old, krn=4))
    'rollover: base_date,krn'
    """
    fields = ",".join(sorted(r.value for r in plan.reasons))
    if plan.commissioning:
        return f"commissioning: {fields}"
    if plan.rollover:
        return f"rollover: {fields}"
    return fields


@frozen
class Shape:
    """What a key change row and its log rows take from the plan alone (not from the meter)."""

    reason: str
    old_key: dict[str, Any]
    new_key: dict[str, Any]
    subclasses: tuple[int, ...]


def shape(plan: KeyChangePlan) -> Shape:
    return Shape(reason(plan), key_data_to_dict(plan.current), key_data_to_dict(plan.target),
                 _SUBCLASSES[plan.current.ea])  # fmt: skip


def tokens(
    svc: Services, meter: MeterRecord, plan: KeyChangePlan, shaped: Shape
) -> tuple[list[tuple[str, int]], str]:
    """The key change set as (digits, subclass) pairs, and the current decoder key's KCV."""
    hsm = svc.hsm
    identity = meter.identity
    digits = hsm.key_change_tokens(
        identity, plan.current, plan.target, rollover=plan.rollover, with_sgc=plan.with_sgc
    )
    kcv = hsm.decoder_key_check_value(identity, plan.current)
    return list(zip(digits, shaped.subclasses, strict=False)), kcv


def row(
    meter: MeterRecord,
    shaped: Shape,
    pairs: list[tuple[str, int]],
    kcv: str,
    now: datetime,
    job_id: int | None,
) -> dict[str, Any]:
    return {
        "meter_id": meter.id,
        "job_id": job_id,
        "state": KeyChangeState.PENDING.value,
        "reason": shaped.reason,
        "old_key": shaped.old_key,
        "new_key": shaped.new_key,
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
    shaped = shape(plan)
    pairs, kcv = tokens(svc, meter, plan, shaped)
    made = row(meter, shaped, pairs, kcv, now, job_id)
    issued = [
        Issued(
            label=f"Key change {i} of {len(pairs)}",
            digits=d,
            token_class=KEY_CHANGE_CLASS,
            subclass=s,
            purpose=TokenPurpose.KEY_CHANGE,
            sgc=plan.current.sgc,
            krn=plan.current.krn,
            ti=plan.current.ti,
            kcv=kcv,
        )
        for i, (d, s) in enumerate(pairs, start=1)
    ]
    return made, issued


def note(plan: KeyChangePlan) -> str:
    t = plan.target
    return (
        f"to SGC {t.sgc:06d} KRN {t.krn} TI {t.ti} KT {int(t.key_type)} "
        f"base {int(t.base_date)} KEN {t.ken}" + (" (rollover)" if plan.rollover else "")
    )


def plan_for(
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
    """The plan for a key change asked for by field (None: that field stays)."""
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
