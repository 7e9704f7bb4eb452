"""Selling credit: the credit vend and the trial vend.

A vend is one transaction: lock the meter, replay a repeated request id, check the rules,
compute the figures (:func:`~stsvend.vending.sale.compute_sale`), take the TIDs, make the
tokens, then record the sale (:func:`~stsvend.services.recording.record_sale`): its ledger
lines, the account and month counters and the token log rows, all committed together or not
at all.  A meter with an open key change gets its key change tokens first on the receipt and
its credit under the new key.  Emergency credit and free issue are in
:mod:`stsvend.services.grants` (re-exported here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import InputError
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    NoAccountError,
    account_state,
    calendar,
    issue_once,
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
from stsvend.services.documents import (
    UNIT_NAMES,
    breakdown_doc,
    check_resource,
    meter_doc,
    money_of,
    receipt_tokens,
    state_doc,
)
from stsvend.services.grants import emergency_credit, free_issue
from stsvend.services.issue import UNREAD, Issued, issue_for_meter
from stsvend.services.receipt_model import SalePoint, SaleReceipt, TrialResult
from stsvend.services.recording import key_change_first, receipt_header, record_sale
from stsvend.services.tariffs import load_tariff
from stsvend.store.repos import accounts as acc
from stsvend.store.repos.sales import day_total
from stsvend.store.repos.snapshot import vend_snapshot
from stsvend.vending.limits import check_vend_amount
from stsvend.vending.meters import MeterStatus, check_meter_can_receive
from stsvend.vending.money import Money
from stsvend.vending.requests import request_digest
from stsvend.vending.roles import Action
from stsvend.vending.sale import SaleBreakdown, amount_for_units, compute_sale
from stsvend.vending.tokenspec import TokenPurpose, credit_spec

__all__ = [
    "UNIT_NAMES",
    "FloatDebit",
    "emergency_credit",
    "free_issue",
    "sale_ledger",
    "trial",
    "vend",
]


class FloatDebit(Protocol):
    """A sale through a vendor's terminal: how the customer paid, and the float debit staged in
    the sale's own transaction (:mod:`stsvend.services.sale_point`)."""

    @property
    def tender(self) -> str: ...

    def price(self, conn: Connection, *, amount: int, resource: int,
              terms: tuple[int, int, int | None] | None) -> SalePoint:  # fmt: skip
        """The commission and the float after the sale (before the receipt is made);
        ``terms``: the vendor's rate, float and low-float mark as the vend's snapshot read
        them."""
        ...

    def stage(self, conn: Connection, point: SalePoint, *, sale_id: int, amount: int,
              at: datetime, recorded_by: str) -> None:  # fmt: skip
        """Stage the float's debit and ledger lines of the recorded sale ``sale_id``."""
        ...


def sale_ledger(sale: SaleBreakdown) -> list[tuple[str, int, int]]:
    """Ledger lines that sum to zero: money in, then where every cent of it went."""
    lines = [("payment", sale.tendered.minor, 0)]
    if sale.brought_forward.minor:
        lines.append(("credit_brought_forward", sale.brought_forward.minor, 0))
    lines += [(line.kind.value, -line.amount.minor, line.units) for line in sale.lines]
    if sale.carried_forward.minor:
        lines.append(("credit_carried_forward", -sale.carried_forward.minor, 0))
    return lines


def vend(
    svc: Services,
    actor: Actor,
    drn: str,
    amount: str | Money,
    *,
    request_id: str | None = None,
    float_debit: FloatDebit | None = None,
) -> SaleReceipt:
    """Sell credit for ``amount`` (major units as text, or Money) to the meter's account.

    ``float_debit``: a sale through a vendor's terminal, paid from the vendor's float.
    """
    authorize(svc, actor, Action.VEND)
    require_shift(actor)
    currency = svc.config.currency
    money = money_of(amount, currency)
    request_id = request_id_of(svc, request_id)
    meter = normalise_drn(drn)
    content = request_content(actor, meter=meter, amount=money.minor, currency=money.currency)
    if float_debit is not None:
        content["tender"] = float_debit.tender
    digest = request_digest("credit", content)

    def work() -> SaleReceipt:
        now = svc.now()
        cal = calendar(svc)
        month_key = cal.month_key(now)
        with svc.store.transaction() as conn:
            # One statement locks the meter and reads everything below (see snapshot.py).
            snap = vend_snapshot(conn, meter, request_id=request_id, scope=actor.request_scope,
                                 day=cal.local(now).date(), month=month_key)  # fmt: skip
            ctx = meter_context(snap.meter, snap.key_change)
            if snap.replay_id is not None:
                stored = replay(conn, request_id, "credit", ctx.meter.id, digest,
                                 scope=actor.request_scope)  # fmt: skip
                assert stored is not None
                return stored
            check_meter_can_receive(
                MeterStatus(ctx.meter.status), ctx.token_key_data, TokenPurpose.SALE
            )
            account = snap.account
            if account is None:
                raise NoAccountError(f"meter {ctx.meter.drn} has no open account: open one first")
            tariff, emergency = load_tariff(svc, conn, account.tariff_id)
            check_resource(tariff, ctx)
            check_vend_amount(
                money,
                meter_limits(svc, ctx.meter, currency),
                vended_today=Money(snap.day_total, currency),
            )
            month = snap.month
            before = account_state(account, currency)
            sale = compute_sale(money, tariff, month_state(month), before, emergency=emergency)
            tokens, notes = key_change_first(conn, ctx, now)
            credit: list[Issued] = []
            same_base = ctx.token_key_data.base_date == ctx.meter.key_data.base_date
            if sale.issues_token:
                resource = sts.Resource(ctx.meter.resource)
                credit = issue_for_meter(
                    svc, conn, ctx.meter, ctx.token_key_data,
                    [("Credit", lambda tid, rnd: credit_spec(resource, sale.units, tid=tid,
                                                             rnd=rnd))],
                    now, last_tid=snap.last_tid if same_base else UNREAD,
                )  # fmt: skip
            else:
                notes.append("The whole amount went to charges and repayments: no credit token.")
            after, month_after = sale.account_after, sale.month_after
            acc.put_month(conn, account.id, month_key, acc.MonthRecord(
                month_after.units, month_after.fixed_charge_paid,
                month_after.free_units_issued, month.free_issue_units))  # fmt: skip
            acc.update_account(conn, account.id, credit_balance=after.credit_balance,
                               debt=after.debt, emergency_debt=after.emergency_debt)  # fmt: skip
            point = None
            if float_debit is not None:
                terms = None
                if snap.vendor_rate is not None and snap.vendor_float is not None:
                    terms = (snap.vendor_rate, snap.vendor_float, snap.vendor_low_float)
                point = float_debit.price(conn, amount=money.minor, resource=ctx.meter.resource,
                                          terms=terms)  # fmt: skip
            result = SaleReceipt(
                **receipt_header(svc, actor, "credit", request_id, now),
                meter=meter_doc(ctx),
                unit=UNIT_NAMES[sts.Resource(ctx.meter.resource)],
                contract=account.contract_number,
                customer=account.customer_number,
                tariff=tariff.name,
                money=breakdown_doc(sale),
                units=sale.units,
                tokens=receipt_tokens(tokens + credit),
                notes=tuple(notes),
                key_change_first=bool(tokens),
                state_before=state_doc(before, month_state(month)),
                # Numbered now when the id is taken beforehand: the answer is made once.
                receipt=snap.next_sale_id,
                replayed=False,
                sale_point=point,
            )
            out = record_sale(
                svc, conn, actor, kind="credit", request_id=request_id, digest=digest, now=now,
                result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                logged=credit, account_id=account.id,
                amount=money.minor, units=sale.units, tax=sale.tax.minor,
                ledger=sale_ledger(sale),
                heads=None if snap.head is None else {ctx.meter.drn: snap.head},
                sale_id=snap.next_sale_id,
            )  # fmt: skip
            if float_debit is not None and point is not None:
                float_debit.stage(conn, point, sale_id=out.number, amount=money.minor, at=now,
                                  recorded_by=actor.username)  # fmt: skip
            return out

    return issue_once(svc, actor, request_id, "credit", meter, digest, work)


def trial(
    svc: Services,
    actor: Actor,
    drn: str,
    *,
    amount: str | Money | None = None,
    units: int | None = None,
) -> TrialResult:
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
                money_of(amount or "0", currency),
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
    at, local_time = local_times(svc, now)
    return TrialResult(
        kind="trial",
        at=at,
        local_time=local_time,
        meter=meter_doc(ctx),
        contract=account.contract_number,
        tariff=tariff.name,
        money=breakdown_doc(sale),
        units=sale.units,
        unit=UNIT_NAMES[sts.Resource(ctx.meter.resource)],
        key_change_pending=ctx.key_change is not None,
        test=svc.hsm.test if svc.has_hsm else False,
    )
