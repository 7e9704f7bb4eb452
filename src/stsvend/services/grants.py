"""Credit without payment: emergency credit (a debt the next purchases repay) and free issue
(a supervisor's grant with a reason, capped per month).

Each is one transaction, recorded like a vend (:func:`~stsvend.services.recording.record_sale`).
"""

from __future__ import annotations

from stsvend import sts
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    account_state,
    calendar,
    issue_once,
    meter_or_replay,
    month_state,
    normalise_drn,
    open_account,
    request_content,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.documents import (
    UNIT_NAMES,
    check_resource,
    meter_doc,
    receipt_tokens,
    state_doc,
)
from stsvend.services.issue import issue_for_meter
from stsvend.services.receipt_model import SaleReceipt
from stsvend.services.recording import key_change_first, receipt_header, record_sale
from stsvend.services.tariffs import load_tariff
from stsvend.store.repos import accounts as acc
from stsvend.vending.emergency import grant_emergency_credit
from stsvend.vending.free_issue import FreeIssuePolicy, check_free_issue
from stsvend.vending.meters import MeterStatus, check_meter_can_receive
from stsvend.vending.requests import request_digest
from stsvend.vending.roles import Action, Role
from stsvend.vending.tokenspec import TokenPurpose, credit_spec

__all__ = ["emergency_credit", "free_issue"]


def emergency_credit(
    svc: Services, actor: Actor, drn: str, *, request_id: str | None = None
) -> SaleReceipt:
    """Grant the account's emergency credit: a credit token now, recorded as a debt."""
    authorize(svc, actor, Action.EMERGENCY_CREDIT)
    require_shift(actor)
    currency = svc.config.currency
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("emergency", request_content(actor, meter=meter))

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx, stored = meter_or_replay(conn, actor, meter, request_id, "emergency", digest)
            if stored is not None:
                return stored
            check_meter_can_receive(
                MeterStatus(ctx.meter.status), ctx.token_key_data, TokenPurpose.EMERGENCY_CREDIT
            )
            account = open_account(conn, ctx.meter)
            tariff, policy = load_tariff(svc, conn, account.tariff_id)
            check_resource(tariff, ctx)
            month_key = calendar(svc).month_key(now)
            month = acc.get_month(conn, account.id, month_key)
            before = account_state(account, currency)
            grant = grant_emergency_credit(policy, tariff, month_state(month), before)
            tokens, notes = key_change_first(conn, ctx, now)
            resource = sts.Resource(ctx.meter.resource)
            credit = issue_for_meter(
                svc, conn, ctx.meter, ctx.token_key_data,
                [("Emergency credit", lambda tid, rnd: credit_spec(
                    resource, grant.units, tid=tid, rnd=rnd,
                    purpose=TokenPurpose.EMERGENCY_CREDIT))],
                now,
            )  # fmt: skip
            acc.put_month(
                conn,
                account.id,
                month_key,
                acc.MonthRecord(
                    grant.month_after.units,
                    month.fixed_charged,
                    month.free_units_issued,
                    month.free_issue_units,
                ),
            )
            acc.update_account(conn, account.id, emergency_debt=grant.account_after.emergency_debt)
            notes.append(
                f"Emergency credit is a debt of {grant.debt}: later purchases repay it first."
            )
            result = SaleReceipt(
                **receipt_header(svc, actor, "emergency", request_id, now),
                meter=meter_doc(ctx),
                unit=UNIT_NAMES[sts.Resource(ctx.meter.resource)],
                contract=account.contract_number,
                customer=account.customer_number,
                tariff=tariff.name,
                units=grant.units,
                debt=grant.debt.minor,
                currency=currency,
                tokens=receipt_tokens(tokens + credit),
                notes=tuple(notes),
                key_change_first=bool(tokens),
                state_before=state_doc(before, month_state(month)),
            )
            ledger = [("emergency_advance", grant.debt.minor, 0)] + [
                ("energy", -c.amount, c.units) for c in grant.charges
            ]
            return record_sale(
                svc, conn, actor, kind="emergency", request_id=request_id, digest=digest,
                now=now, result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                logged=credit, account_id=account.id,
                units=grant.units, tax=grant.tax.minor, ledger=ledger,
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "emergency", meter, digest, work)


def free_issue(
    svc: Services,
    actor: Actor,
    drn: str,
    units: int,
    reason: str,
    *,
    request_id: str | None = None,
    policy: FreeIssuePolicy | None = None,
) -> SaleReceipt:
    """Give ``units`` tenths without payment (supervisor, with a reason; capped per month)."""
    authorize(svc, actor, Action.FREE_ISSUE)
    require_shift(actor)
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("free_issue", request_content(
        actor, meter=meter, units=units if isinstance(units, int) else repr(units),
        reason=" ".join(str(reason).split())))  # fmt: skip

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx, stored = meter_or_replay(conn, actor, meter, request_id, "free_issue", digest)
            if stored is not None:
                return stored
            account = open_account(conn, ctx.meter)
            month_key = calendar(svc).month_key(now)
            month = acc.get_month(conn, account.id, month_key)
            text = check_free_issue(
                Role.parse(actor.role),
                units,
                reason,
                issued_this_month=month.free_issue_units,
                policy=policy or FreeIssuePolicy(),
            )
            check_meter_can_receive(
                MeterStatus(ctx.meter.status), ctx.token_key_data, TokenPurpose.FREE_ISSUE
            )
            tokens, notes = key_change_first(conn, ctx, now)
            resource = sts.Resource(ctx.meter.resource)
            credit = issue_for_meter(
                svc, conn, ctx.meter, ctx.token_key_data,
                [("Free issue", lambda tid, rnd: credit_spec(
                    resource, units, tid=tid, rnd=rnd, purpose=TokenPurpose.FREE_ISSUE))],
                now,
            )  # fmt: skip
            acc.put_month(
                conn,
                account.id,
                month_key,
                acc.MonthRecord(
                    month.units,
                    month.fixed_charged,
                    month.free_units_issued,
                    month.free_issue_units + units,
                ),
            )
            result = SaleReceipt(
                **receipt_header(svc, actor, "free_issue", request_id, now),
                meter=meter_doc(ctx),
                unit=UNIT_NAMES[sts.Resource(ctx.meter.resource)],
                contract=account.contract_number,
                customer=account.customer_number,
                units=units,
                reason=text,
                tokens=receipt_tokens(tokens + credit),
                notes=tuple(notes),
                key_change_first=bool(tokens),
            )
            return record_sale(
                svc, conn, actor, kind="free_issue", request_id=request_id, digest=digest,
                now=now, result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                logged=credit, account_id=account.id,
                units=units, ledger=[("free_issue", 0, units)], reason=text, note=text,
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "free_issue", meter, digest, work)
