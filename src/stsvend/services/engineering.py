"""Engineering tokens (engineer role, work order) and class 1 test tokens, all logged.

An engineering token is made under the key data the meter will have when it is entered: if a
key change is open, its tokens go first on the receipt and the engineering token is made under
the target key, as a credit token would be.  A class 1 test token needs no key; it is logged
on the meter's chain when a meter is named, else on the chain of tokens for every meter.
"""

from __future__ import annotations

from stsvend import sts
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    issue_once,
    load_meter,
    meter_or_replay,
    normalise_drn,
    replay,
    request_content,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.documents import receipt_tokens
from stsvend.services.issue import Issued, issue_for_meter
from stsvend.services.receipt_model import MeterDoc, SaleReceipt
from stsvend.services.recording import key_change_first, receipt_header, record_sale
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


def engineering_token(
    svc: Services,
    actor: Actor,
    drn: str,
    kind: str | EngineeringKind,
    *,
    work_order: str,
    value: int | None = None,
    request_id: str | None = None,
) -> SaleReceipt:
    """A class 2 management token for one meter, under a work order."""
    authorize(svc, actor, Action.ENGINEERING)
    require_shift(actor)
    request_id = request_id_of(svc, request_id)
    what = _kind(kind)
    meter = normalise_drn(drn)
    digest = request_digest("engineering", request_content(
        actor, meter=meter, engineering=what.value, work_order=str(work_order).strip(),
        value=value))  # fmt: skip

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx, stored = meter_or_replay(conn, actor, meter, request_id, "engineering", digest)
            if stored is not None:
                return stored
            request = check_engineering(
                Role.parse(actor.role),
                EngineeringRequest(what, work_order, value),
                resource=sts.Resource(ctx.meter.resource),
            )
            tokens, notes = key_change_first(conn, ctx, now)
            made = issue_for_meter(
                svc, conn, ctx.meter, ctx.token_key_data,
                [(str(what.layout.label),
                  lambda tid, rnd: engineering_spec(request, tid=tid, rnd=rnd))],
                now,
            )  # fmt: skip
            data = ctx.token_key_data
            result = SaleReceipt(
                **receipt_header(svc, actor, "engineering", request_id, now),
                meter=MeterDoc(ctx.meter.drn, ctx.meter.iin, sgc=f"{data.sgc:06d}", krn=data.krn,
                               ti=data.ti, base_date=int(data.base_date)),
                engineering=what.value,
                value=request.value,
                work_order=request.work_order,
                tokens=receipt_tokens(tokens + made),
                notes=tuple(notes),
            )  # fmt: skip
            return record_sale(
                svc, conn, actor, kind="engineering", request_id=request_id, digest=digest,
                now=now, result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                logged=made, reason=request.work_order,
                note=f"work order {request.work_order}",
            )  # fmt: skip

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
) -> SaleReceipt:
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

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            meter = None if number is None else load_meter(conn, number).meter
            meter_id = None if meter is None else meter.id
            stored = replay(conn, request_id, "test", meter_id, digest,
                                 scope=actor.request_scope)  # fmt: skip
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
            result = SaleReceipt(
                **receipt_header(svc, actor, "test", request_id, now),
                meter=None if meter is None else MeterDoc(meter.drn, meter.iin),
                control=request.control,
                manufacturer_code=request.manufacturer_code,
                tokens=receipt_tokens([token]),
            )
            return record_sale(
                svc, conn, actor, kind="test", request_id=request_id, digest=digest, now=now,
                result=result, meter_id=meter_id, meter_drn=None if meter is None else meter.drn,
                logged=[token],
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "test", number, digest, work)
