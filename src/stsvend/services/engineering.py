"""Engineering tokens (engineer role, work order) and class 1 test tokens, all logged.

An engineering token is made under the key data the meter will have when it is entered: if a
key change is open, its tokens go first on the receipt and the engineering token is made under
the target key, as a credit token would be.  A class 1 test token needs no key; it is logged
on the meter's chain when a meter is named, else on the chain of tokens for every meter.
"""

from __future__ import annotations

from typing import Any

from stsvend import sts
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    calendar,
    issue_once,
    key_change_issued,
    load_meter,
    local_times,
    normalise_drn,
    replay,
    request_content,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.issue import Issued, issue_for_meter, log_issued
from stsvend.store.repos.keychanges import set_state
from stsvend.store.repos.sales import insert_sale, sale_row
from stsvend.vending.engineering import (
    EngineeringKind,
    EngineeringRequest,
    TestTokenRequest,
    check_engineering,
    check_test_token,
    engineering_spec,
    test_token_spec,
)
from stsvend.vending.errors import EngineeringRuleError
from stsvend.vending.key_change import KeyChangeEvent, KeyChangeState, next_state
from stsvend.vending.notices import KEY_CHANGE_NOTICE
from stsvend.vending.requests import request_digest
from stsvend.vending.roles import Action, Role

__all__ = ["engineering_token", "issue_test_token"]

def _kind(text: str | EngineeringKind) -> EngineeringKind:
    if isinstance(text, EngineeringKind):
        return text
    value = str(text).strip().lower().replace("-", "_")
    try:
        return EngineeringKind(value)
    except ValueError:
        names = ", ".join(k.value.replace("_", "-") for k in EngineeringKind)
        raise EngineeringRuleError(
            f"unknown engineering token {text!r} (one of: {names})"
        ) from None


def _sale_row(
    svc: Services, actor: Actor, kind: str, request_id: str, now: Any, meter_id: int | None,
    reason: str | None, result: dict[str, Any], digest: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "request_id": request_id,
        "request_digest": digest,
        "kind": kind,
        "meter_id": meter_id,
        "operator_id": actor.operator_id,
        "shift_id": actor.shift_id,
        "terminal": actor.terminal,
        "created_at": now,
        "local_day": calendar(svc).local(now).date(),
        "reason": reason,
        "test": svc.hsm.test,
        "result": result,
    }


def engineering_token(
    svc: Services,
    actor: Actor,
    drn: str,
    kind: str | EngineeringKind,
    *,
    work_order: str,
    value: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A class 2 management token for one meter, under a work order."""
    authorize(svc, actor, Action.ENGINEERING)
    require_shift(actor)
    request_id = request_id_of(svc, request_id)
    what = _kind(kind)
    meter = normalise_drn(drn)
    digest = request_digest("engineering", request_content(
        actor, meter=meter, engineering=what.value, work_order=str(work_order).strip(),
        value=value))  # fmt: skip

    def work() -> dict[str, Any]:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx = load_meter(conn, meter)
            stored = replay(conn, request_id, "engineering", ctx.meter.id, digest)
            if stored is not None:
                return stored
            request = check_engineering(
                Role.parse(actor.role),
                EngineeringRequest(what, work_order, value),
                resource=sts.Resource(ctx.meter.resource),
            )
            tokens: list[Issued] = []
            notes: list[str] = []
            if ctx.key_change is not None:
                state = next_state(KeyChangeState(ctx.key_change.state), KeyChangeEvent.ISSUE)
                set_state(conn, ctx.key_change.id, state.value, now)
                tokens = key_change_issued(ctx.key_change, ctx.meter)
                notes.append(KEY_CHANGE_NOTICE)
            made = issue_for_meter(
                svc, conn, ctx.meter, ctx.token_key_data,
                [(str(what.layout.label),
                  lambda tid, rnd: engineering_spec(request, tid=tid, rnd=rnd))],
                now,
            )  # fmt: skip
            result = {
                "kind": "engineering",
                "request_id": request_id,
                **local_times(svc, now),
                "operator": actor.username,
                "terminal": actor.terminal,
                "test": svc.hsm.test,
                "utility": svc.config.utility_name,
                "tax_number": svc.config.tax_number,
                "meter": {"drn": ctx.meter.drn, "iin": ctx.meter.iin,
                          "sgc": f"{ctx.token_key_data.sgc:06d}",
                          "krn": ctx.token_key_data.krn, "ti": ctx.token_key_data.ti,
                          "base_date": int(ctx.token_key_data.base_date)},
                "engineering": what.value,
                "value": request.value,
                "work_order": request.work_order,
                "tokens": [t.as_dict() for t in tokens + made],
                "notes": notes,
            }  # fmt: skip
            values = _sale_row(svc, actor, "engineering", request_id, now, ctx.meter.id,
                               request.work_order, result, digest)  # fmt: skip
            sale_id = insert_sale(conn, values)
            log_issued(
                svc, conn, actor, ctx.meter.drn, made, request_id=request_id, sale_id=sale_id,
                now=now, note=f"work order {request.work_order}",
                sale=(sale_row(values, sale_id), []),
            )  # fmt: skip
            return {**result, "receipt": sale_id, "replayed": False}

    return issue_once(svc, actor, request_id, "engineering", meter, digest, work)


def issue_test_token(
    svc: Services,
    actor: Actor,
    control: int,
    *,
    manufacturer_code: int = 0,
    four_digit: bool = False,
    extended: bool = False,
    drn: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A class 1 test/display token (no key, no TID), logged like every token."""
    authorize(svc, actor, Action.TEST_TOKEN)
    require_shift(actor)
    request = check_test_token(
        Role.parse(actor.role),
        TestTokenRequest(control, manufacturer_code, four_digit=four_digit, extended=extended),
    )
    spec = test_token_spec(request)
    request_id = request_id_of(svc, request_id)
    number = None if drn is None else normalise_drn(drn)
    digest = request_digest("test", request_content(
        actor, meter=number, control=request.control,
        manufacturer_code=request.manufacturer_code, four_digit=four_digit,
        extended=extended))  # fmt: skip

    def work() -> dict[str, Any]:
        now = svc.now()
        with svc.store.transaction() as conn:
            meter = None if number is None else load_meter(conn, number).meter
            meter_id = None if meter is None else meter.id
            stored = replay(conn, request_id, "test", meter_id, digest)
            if stored is not None:
                return stored
            identity = (
                sts.MeterIdentity.parse(None, "00000000000") if meter is None else (meter.identity)
            )
            key_data = (
                sts.KeyData(sgc=0, ti=0, krn=1, key_type=2) if meter is None else (meter.key_data)
            )  # class 1 tokens are not encrypted: the key data is not used
            digits = svc.hsm.encode_token(
                identity, key_data, spec.token_class, spec.subclass, spec.fields
            )
            token = Issued(
                label="Test token",
                digits=digits,
                token_class=spec.token_class,
                subclass=spec.subclass,
                purpose=spec.purpose,
                amount=request.control,
            )
            result = {
                "kind": "test",
                "request_id": request_id,
                **local_times(svc, now),
                "operator": actor.username,
                "terminal": actor.terminal,
                "test": svc.hsm.test,
                "utility": svc.config.utility_name,
                "tax_number": svc.config.tax_number,
                "meter": None if meter is None else {"drn": meter.drn, "iin": meter.iin},
                "control": request.control,
                "manufacturer_code": request.manufacturer_code,
                "tokens": [token.as_dict()],
                "notes": [],
            }
            values = _sale_row(svc, actor, "test", request_id, now, meter_id, None, result, digest)
            sale_id = insert_sale(conn, values)
            log_issued(
                svc, conn, actor, None if meter is None else meter.drn, [token],
                request_id=request_id, sale_id=sale_id, now=now,
                sale=(sale_row(values, sale_id), []),
            )  # fmt: skip
            return {**result, "receipt": sale_id, "replayed": False}

    return issue_once(svc, actor, request_id, "test", number, digest, work)
