"""Selling credit: the credit vend, the trial vend, emergency credit and free issue.

Each is one transaction: lock the meter, replay a repeated request id, check the rules, compute
the figures (:func:`~stsvend.vending.sale.compute_sale`), take the TIDs, make the tokens, write
the sale, its ledger lines, the account and month counters and the token log rows — all
committed together or not at all.  A meter with an open key change gets its key change tokens
first on the receipt and its credit under the new key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import InputError
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    MeterContext,
    NoAccountError,
    account_state,
    calendar,
    issue_once,
    key_change_issued,
    load_meter,
    local_times,
    meter_context,
    meter_limits,
    month_state,
    normalise_drn,
    open_account,
    replay,
    request_content,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.issue import UNREAD, Issued, issue_for_meter, log_issued
from stsvend.services.tariffs import load_tariff
from stsvend.store.pipeline import Write, run_writes
from stsvend.store.repos import accounts as acc
from stsvend.store.repos.keychanges import set_state
from stsvend.store.repos.sales import (
    add_ledger,
    day_total,
    insert_sale,
    ledger_write,
    sale_row,
    sale_write,
)
from stsvend.store.repos.snapshot import vend_snapshot
from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.emergency import grant_emergency_credit
from stsvend.vending.errors import TariffError
from stsvend.vending.free_issue import FreeIssuePolicy, check_free_issue
from stsvend.vending.key_change import KeyChangeEvent, next_state
from stsvend.vending.limits import check_vend_amount
from stsvend.vending.meters import MeterStatus, check_meter_can_receive
from stsvend.vending.money import Money
from stsvend.vending.notices import KEY_CHANGE_NOTICE
from stsvend.vending.requests import request_digest
from stsvend.vending.roles import Action, Role
from stsvend.vending.sale import SaleBreakdown, amount_for_units, compute_sale
from stsvend.vending.tariff import Tariff
from stsvend.vending.tokenspec import TokenPurpose, credit_spec

__all__ = ["UNIT_NAMES", "emergency_credit", "free_issue", "trial", "vend"]

UNIT_NAMES = {
    sts.Resource.ELECTRICITY: "kWh",
    sts.Resource.WATER: "m³",
    sts.Resource.GAS: "m³",
    sts.Resource.TIME: "min",
}


def _money(value: str | Money, currency: str) -> Money:
    if isinstance(value, Money):
        return value
    return Money.parse(value, currency)


def _meter_doc(ctx: MeterContext) -> dict[str, Any]:
    data = ctx.token_key_data
    return {
        "drn": ctx.meter.drn,
        "iin": ctx.meter.iin,
        "resource": sts.Resource(ctx.meter.resource).name.lower(),
        "sgc": f"{data.sgc:06d}",
        "krn": data.krn,
        "ti": data.ti,
        "key_type": int(data.key_type),
        "ea": data.ea.value,
        "base_date": int(data.base_date),
    }


def _breakdown_doc(sale: SaleBreakdown) -> dict[str, Any]:
    return {
        "currency": sale.currency,
        "tendered": sale.tendered.minor,
        "brought_forward": sale.brought_forward.minor,
        "lines": [
            {
                "kind": line.kind.value,
                "amount": line.amount.minor,
                "units": line.units,
                "block": line.block,
                "price": None if line.price is None else line.price.format(sale.currency),
            }
            for line in sale.lines
        ],
        "tax": sale.tax.minor,
        "tax_bp": sale.tax_bp,
        "carried_forward": sale.carried_forward.minor,
    }


def _state_doc(account: AccountState, month: MonthToDate) -> dict[str, Any]:
    return {
        "account": {
            "credit_balance": account.credit_balance,
            "debt": account.debt,
            "emergency_debt": account.emergency_debt,
        },
        "month": {
            "units": month.units,
            "fixed_charge_paid": month.fixed_charge_paid,
            "free_units_issued": month.free_units_issued,
        },
    }


def _check_resource(tariff: Tariff, ctx: MeterContext) -> None:
    if int(tariff.resource) != ctx.meter.resource:
        raise TariffError(
            f"the account's tariff is for {tariff.resource.name.lower()}, the meter measures "
            f"{sts.Resource(ctx.meter.resource).name.lower()}"
        )


def _with_key_change(
    svc: Services, conn: Connection, ctx: MeterContext, now: datetime
) -> tuple[list[Issued], list[str]]:
    """The open key change's tokens (to go first) and the receipt note; marks it issued."""
    change = ctx.key_change
    if change is None:
        return [], []
    current = ctx.key_change_state
    assert current is not None
    state = next_state(current, KeyChangeEvent.ISSUE)
    set_state(conn, change.id, state.value, now)
    return key_change_issued(change, ctx.meter), [KEY_CHANGE_NOTICE]


def _base_result(
    svc: Services, actor: Actor, kind: str, request_id: str, now: datetime, ctx: MeterContext
) -> dict[str, Any]:
    return {
        "kind": kind,
        "request_id": request_id,
        **local_times(svc, now),
        "operator": actor.username,
        "terminal": actor.terminal,
        "test": svc.hsm.test,
        "utility": svc.config.utility_name,
        "tax_number": svc.config.tax_number,
        "meter": _meter_doc(ctx),
        "unit": UNIT_NAMES[sts.Resource(ctx.meter.resource)],
    }


def _finish(
    svc: Services,
    conn: Connection,
    actor: Actor,
    ctx: MeterContext,
    *,
    kind: str,
    request_id: str,
    digest: str,
    now: datetime,
    result: dict[str, Any],
    issued: list[Issued],
    logged: list[Issued],
    account_id: int | None,
    amount: int,
    units: int,
    tax: int,
    ledger: list[tuple[str, int, int]],
    reason: str | None = None,
    heads: dict[str, tuple[int, bytes]] | None = None,
    writes: list[Write] | None = None,
    sale_id: int | None = None,
) -> dict[str, Any]:
    """Write the sale, its ledger lines and the log rows of the newly made tokens.

    With ``writes`` (the vend's path) everything still to write goes out together at the end:
    one round trip on PostgreSQL, where the sale's id was taken beforehand.
    """
    result["tokens"] = [token.as_dict() for token in issued]
    values = {
        "request_id": request_id,
        "kind": kind,
        "meter_id": ctx.meter.id,
        "account_id": account_id,
        "operator_id": actor.operator_id,
        "shift_id": actor.shift_id,
        "terminal": actor.terminal,
        "created_at": now,
        "local_day": calendar(svc).local(now).date(),
        "amount": amount,
        "units": units,
        "tax": tax,
        "reason": reason,
        "test": svc.hsm.test,
        "result": result,
        "request_digest": digest,
    }
    if writes is not None and sale_id is not None:
        writes.append(sale_write({"id": sale_id, **values}))
    else:
        sale_id = insert_sale(conn, values)
    row = sale_row(values, sale_id)
    lines = [
        {"sale_id": sale_id, "account_id": account_id, "entry": entry, "amount": money,
         "units": tenths}
        for entry, money, tenths in ledger
    ]  # fmt: skip
    if writes is not None:
        writes.append(ledger_write(lines))
    else:
        add_ledger(conn, lines)
    log_issued(
        svc, conn, actor, ctx.meter.drn, logged, request_id=request_id, sale_id=sale_id,
        now=now, note=reason, heads=heads, writes=writes, sale=(row, lines),
    )  # fmt: skip
    if writes is not None:
        run_writes(conn, writes, commit=True)
    return {**result, "receipt": sale_id, "replayed": False}


def _sale_ledger(sale: SaleBreakdown) -> list[tuple[str, int, int]]:
    """Ledger lines that sum to zero: money in, then where every cent of it went."""
    lines = [("payment", sale.tendered.minor, 0)]
    if sale.brought_forward.minor:
        lines.append(("credit_brought_forward", sale.brought_forward.minor, 0))
    lines += [(line.kind.value, -line.amount.minor, line.units) for line in sale.lines]
    if sale.carried_forward.minor:
        lines.append(("credit_carried_forward", -sale.carried_forward.minor, 0))
    return lines


def vend(
    svc: Services, actor: Actor, drn: str, amount: str | Money, *, request_id: str | None = None
) -> dict[str, Any]:
    """Sell credit for ``amount`` (major units as text, or Money) to the meter's account."""
    authorize(svc, actor, Action.VEND)
    require_shift(actor)
    currency = svc.config.currency
    money = _money(amount, currency)
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("credit", request_content(
        actor, meter=meter, amount=money.minor, currency=money.currency))  # fmt: skip

    def work() -> dict[str, Any]:
        now = svc.now()
        cal = calendar(svc)
        month_key = cal.month_key(now)
        with svc.store.transaction() as conn:
            # One statement locks the meter and reads everything below (see snapshot.py).
            snap = vend_snapshot(conn, meter, request_id=request_id,
                                 day=cal.local(now).date(), month=month_key)  # fmt: skip
            ctx = meter_context(snap.meter, snap.key_change)
            if snap.replay_id is not None:
                stored = replay(conn, request_id, "credit", ctx.meter.id, digest)
                assert stored is not None
                return stored
            check_meter_can_receive(
                MeterStatus(ctx.meter.status), ctx.token_key_data, TokenPurpose.SALE
            )
            account = snap.account
            if account is None:
                raise NoAccountError(f"meter {ctx.meter.drn} has no open account: open one first")
            tariff, emergency = load_tariff(svc, conn, account.tariff_id)
            _check_resource(tariff, ctx)
            check_vend_amount(
                money,
                meter_limits(svc, ctx.meter, currency),
                vended_today=Money(snap.day_total, currency),
            )
            month = snap.month
            before = account_state(account, currency)
            sale = compute_sale(money, tariff, month_state(month), before, emergency=emergency)
            tokens, notes = _with_key_change(svc, conn, ctx, now)
            credit: list[Issued] = []
            writes: list[Write] = []  # everything below goes out together at the end
            same_base = ctx.token_key_data.base_date == ctx.meter.key_data.base_date
            if sale.issues_token:
                resource = sts.Resource(ctx.meter.resource)
                credit = issue_for_meter(
                    svc, conn, ctx.meter, ctx.token_key_data,
                    [("Credit", lambda tid, rnd: credit_spec(resource, sale.units, tid=tid,
                                                             rnd=rnd))],
                    now, last_tid=snap.last_tid if same_base else UNREAD, writes=writes,
                )  # fmt: skip
            else:
                notes.append("The whole amount went to charges and repayments: no credit token.")
            after, month_after = sale.account_after, sale.month_after
            writes.append(
                acc.month_write(
                    conn,
                    account.id,
                    month_key,
                    acc.MonthRecord(
                        month_after.units,
                        month_after.fixed_charge_paid,
                        month_after.free_units_issued,
                        month.free_issue_units,
                    ),
                )
            )
            writes.append(
                acc.balances_write(
                    account.id, after.credit_balance, after.debt, after.emergency_debt
                )
            )
            result = _base_result(svc, actor, "credit", request_id, now, ctx)
            result.update(
                contract=account.contract_number,
                customer=account.customer_number,
                tariff=tariff.name,
                money=_breakdown_doc(sale),
                units=sale.units,
                notes=notes,
                key_change_first=bool(tokens),
                state_before=_state_doc(before, month_state(month)),
            )
            return _finish(
                svc, conn, actor, ctx, kind="credit", request_id=request_id, digest=digest,
                now=now,
                result=result, issued=tokens + credit, logged=credit, account_id=account.id,
                amount=money.minor, units=sale.units, tax=sale.tax.minor,
                ledger=_sale_ledger(sale),
                heads=None if snap.head is None else {ctx.meter.drn: snap.head},
                writes=writes, sale_id=snap.next_sale_id,
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "credit", meter, digest, work)


def trial(
    svc: Services,
    actor: Actor,
    drn: str,
    *,
    amount: str | Money | None = None,
    units: int | None = None,
) -> dict[str, Any]:
    """The figures a vend would give (for an amount, or the amount for ``units`` tenths).

    Nothing is written and no token is made.
    """
    authorize(svc, actor, Action.TRIAL)
    if (amount is None) == (units is None):
        raise InputError("a trial vend takes an amount or a number of units, not both")
    currency = svc.config.currency
    now = svc.now()
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        account = open_account(conn, ctx.meter)
        tariff, emergency = load_tariff(svc, conn, account.tariff_id)
        month = acc.get_month(conn, account.id, calendar(svc).month_key(now))
        state = account_state(account, currency)
        if units is not None:
            sale = amount_for_units(units, tariff, month_state(month), state, emergency=emergency)
        else:
            sale = compute_sale(
                _money(amount or "0", currency),
                tariff,
                month_state(month),
                state,
                emergency=emergency,
            )
        check_vend_amount(
            sale.tendered,
            meter_limits(svc, ctx.meter, currency),
            vended_today=Money(
                day_total(conn, ctx.meter.id, calendar(svc).local(now).date()), currency
            ),
        )
        conn.rollback()  # a trial writes nothing, not even by accident
    return {
        "kind": "trial",
        **local_times(svc, now),
        "meter": _meter_doc(ctx),
        "contract": account.contract_number,
        "tariff": tariff.name,
        "money": _breakdown_doc(sale),
        "units": sale.units,
        "unit": UNIT_NAMES[sts.Resource(ctx.meter.resource)],
        "key_change_pending": ctx.key_change is not None,
        "test": svc.hsm.test if svc.has_hsm else False,
    }


def emergency_credit(
    svc: Services, actor: Actor, drn: str, *, request_id: str | None = None
) -> dict[str, Any]:
    """Grant the account's emergency credit: a credit token now, recorded as a debt."""
    authorize(svc, actor, Action.EMERGENCY_CREDIT)
    require_shift(actor)
    currency = svc.config.currency
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("emergency", request_content(actor, meter=meter))

    def work() -> dict[str, Any]:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx = load_meter(conn, meter)
            stored = replay(conn, request_id, "emergency", ctx.meter.id, digest)
            if stored is not None:
                return stored
            check_meter_can_receive(
                MeterStatus(ctx.meter.status), ctx.token_key_data, TokenPurpose.EMERGENCY_CREDIT
            )
            account = open_account(conn, ctx.meter)
            tariff, policy = load_tariff(svc, conn, account.tariff_id)
            _check_resource(tariff, ctx)
            month_key = calendar(svc).month_key(now)
            month = acc.get_month(conn, account.id, month_key)
            before = account_state(account, currency)
            grant = grant_emergency_credit(policy, tariff, month_state(month), before)
            tokens, notes = _with_key_change(svc, conn, ctx, now)
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
            result = _base_result(svc, actor, "emergency", request_id, now, ctx)
            result.update(
                contract=account.contract_number,
                customer=account.customer_number,
                tariff=tariff.name,
                units=grant.units,
                debt=grant.debt.minor,
                currency=currency,
                notes=notes,
                key_change_first=bool(tokens),
                state_before=_state_doc(before, month_state(month)),
            )
            ledger = [("emergency_advance", grant.debt.minor, 0)] + [
                ("energy", -c.amount, c.units) for c in grant.charges
            ]
            return _finish(
                svc, conn, actor, ctx, kind="emergency", request_id=request_id, digest=digest,
                now=now,
                result=result, issued=tokens + credit, logged=credit, account_id=account.id,
                amount=0, units=grant.units, tax=grant.tax.minor, ledger=ledger,
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
) -> dict[str, Any]:
    """Give ``units`` tenths without payment (supervisor, with a reason; capped per month)."""
    authorize(svc, actor, Action.FREE_ISSUE)
    require_shift(actor)
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    digest = request_digest("free_issue", request_content(
        actor, meter=meter, units=units if isinstance(units, int) else repr(units),
        reason=" ".join(str(reason).split())))  # fmt: skip

    def work() -> dict[str, Any]:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx = load_meter(conn, meter)
            stored = replay(conn, request_id, "free_issue", ctx.meter.id, digest)
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
            tokens, notes = _with_key_change(svc, conn, ctx, now)
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
            result = _base_result(svc, actor, "free_issue", request_id, now, ctx)
            result.update(
                contract=account.contract_number,
                customer=account.customer_number,
                units=units,
                reason=text,
                notes=notes,
                key_change_first=bool(tokens),
            )
            return _finish(
                svc, conn, actor, ctx, kind="free_issue", request_id=request_id, digest=digest,
                now=now,
                result=result, issued=tokens + credit, logged=credit, account_id=account.id,
                amount=0, units=units, tax=0, ledger=[("free_issue", 0, units)], reason=text,
            )  # fmt: skip

    return issue_once(svc, actor, request_id, "free_issue", meter, digest, work)
