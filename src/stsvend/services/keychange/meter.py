"""One meter's key change: make it (pending, or issued at once), confirm it, cancel it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from stsvend.errors import InputError
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    issue_once,
    key_data_from_dict,
    key_data_to_dict,
    load_meter,
    meter_or_replay,
    normalise_drn,
    request_content,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.documents import receipt_tokens
from stsvend.services.keychange.changeset import make_change, note, plan_for
from stsvend.services.receipt_model import KeyDataDoc, MeterDoc, SaleReceipt
from stsvend.services.recording import key_change_first, receipt_header, record_sale
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.meters import set_key_data
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.errors import KeyChangeError
from stsvend.vending.key_change import KeyChangeEvent, KeyChangeState, next_state
from stsvend.vending.requests import request_digest
from stsvend.vending.roles import Action

__all__ = ["KeyChangeTransition", "cancel", "confirm", "issue_key_change", "key_change_meter"]


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
) -> SaleReceipt:
    """Flag one meter for a key change (``issue``: hand its tokens out now)."""
    authorize(svc, actor, Action.KEY_CHANGE)
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("key_change", request_content(
        actor, meter=meter, rollover=rollover, sgc=sgc, krn=krn, ti=ti, ken=ken,
        key_type=key_type, sgc_token=sgc_token, issue=issue))  # fmt: skip

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx, stored = meter_or_replay(conn, actor, meter, request_id, "key_change", digest)
            if stored is not None:
                return stored
            if ctx.key_change is not None:
                raise KeyChangeError(
                    f"meter {ctx.meter.drn} already has a key change that is "
                    f"{ctx.key_change.state}: confirm or cancel it first"
                )
            plan = plan_for(
                ctx.meter.key_data, now, rollover=rollover, sgc=sgc, krn=krn, ti=ti, ken=ken,
                key_type=key_type, sgc_token=sgc_token,
            )  # fmt: skip
            svc.hsm.key_record_for(plan.target)  # the new key must be in the keystore
            row, issued = make_change(svc, ctx.meter, plan, now)
            if issue:
                row["state"] = KeyChangeState.ISSUED.value
                row["issued_at"] = now
            kc.add_key_changes(conn, [row])
            result = SaleReceipt(
                **receipt_header(svc, actor, "key_change", request_id, now),
                meter=MeterDoc(ctx.meter.drn, ctx.meter.iin, **key_data_to_dict(plan.current)),
                target=KeyDataDoc(**key_data_to_dict(plan.target)),
                reason=row["reason"],
                rollover=plan.rollover,
                state=row["state"],
                tokens=receipt_tokens(issued),
                notes=() if issue else (
                    "The key change is pending: its tokens print first on the meter's next "
                    "receipt.",
                ),
            )  # fmt: skip
            return record_sale(
                svc, conn, actor, kind="key_change", request_id=request_id, digest=digest,
                now=now, result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                logged=issued, reason=row["reason"], note=note(plan),
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "key_change", meter, digest, work)


def issue_key_change(
    svc: Services, actor: Actor, drn: str, *, request_id: str | None = None
) -> SaleReceipt:
    """Hand out the tokens of the meter's open key change on their own, without credit (the
    customer enters them before any later credit token); the change is then issued.  The
    tokens were logged when the change was made: this records the handing out."""
    authorize(svc, actor, Action.KEY_CHANGE)
    require_shift(actor)
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("key_change", request_content(actor, meter=meter, hand_out=True))

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx, stored = meter_or_replay(conn, actor, meter, request_id, "key_change", digest)
            if stored is not None:
                return stored
            change = ctx.key_change
            if change is None:
                raise KeyChangeError(f"meter {ctx.meter.drn} has no open key change")
            tokens, notes = key_change_first(conn, ctx, now)
            result = SaleReceipt(
                **receipt_header(svc, actor, "key_change", request_id, now),
                meter=MeterDoc(ctx.meter.drn, ctx.meter.iin, **change.old_key),
                target=KeyDataDoc(**change.new_key),
                reason=change.reason,
                state="issued",
                tokens=receipt_tokens(tokens),
                notes=tuple(notes),
            )  # fmt: skip
            return record_sale(
                svc, conn, actor, kind="key_change", request_id=request_id, digest=digest,
                now=now, result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                reason=change.reason, note=f"key change {change.id} handed out",
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "key_change", meter, digest, work)


@frozen
class KeyChangeTransition:
    """A key change confirmed (the meter took it) or cancelled."""

    meter: str
    #: The state it is in now, and the one it left (an issued key change's tokens are in the
    #: customer's hands).
    state: KeyChangeState
    was: KeyChangeState
    #: The key data it moved (or was to move) the meter to: sgc, krn, ti, key_type, ea,
    #: base_date, ken.
    target: Mapping[str, Any]


def _transition(
    svc: Services, actor: Actor, drn: str, event: KeyChangeEvent, reason: str | None
) -> KeyChangeTransition:
    authorize(svc, actor, Action.KEY_CHANGE_CONFIRM)
    now = svc.now()
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        change = ctx.key_change
        if change is None:
            raise KeyChangeError(f"meter {ctx.meter.drn} has no open key change")
        state = next_state(KeyChangeState(change.state), event)
        kc.set_state(conn, change.id, state, now)
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
    return KeyChangeTransition(ctx.meter.drn, state, KeyChangeState(change.state),
                               dict(change.new_key))  # fmt: skip


def confirm(svc: Services, actor: Actor, drn: str) -> KeyChangeTransition:
    """The meter took its key change: it now runs on the target key data."""
    return _transition(svc, actor, drn, KeyChangeEvent.CONFIRM, None)


def cancel(svc: Services, actor: Actor, drn: str, reason: str) -> KeyChangeTransition:
    """Withdraw an open key change (its tokens stay in the log)."""
    if not isinstance(reason, str) or len(reason.strip()) < 5:
        raise InputError("cancelling a key change needs a reason of at least 5 characters")
    return _transition(svc, actor, drn, KeyChangeEvent.CANCEL, reason.strip())
