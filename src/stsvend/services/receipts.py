"""Reprints (marked COPY) and reversals (supervisor, with a reason; the token stays in the log).

A reversal refunds the money of the account's latest sale and puts the account and month
counters back as they were before it; the credit token cannot be revoked at the meter, so the
token log gets a *reversal* row that marks the token row, and the receipt says so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import calendar, issue_once, load_meter, local_times
from stsvend.services.context import Actor, Services
from stsvend.services.issue import sale_entry
from stsvend.store.models import LedgerEntry, Sale, TokenLog
from stsvend.store.repos import accounts as acc
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.sales import (
    add_ledger,
    find_sale,
    get_sale,
    insert_sale,
    meter_drn,
    reversal_of,
    sale_row,
)
from stsvend.tokenlog.chain import LogEntry
from stsvend.tokenlog.writer import append
from stsvend.vending.errors import ReversalError
from stsvend.vending.notices import COPY_MARK, REVERSAL_NOTICE
from stsvend.vending.reversal import ReversalCandidate, check_reversal
from stsvend.vending.roles import Action, Role
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["reprint", "reverse"]

_PURPOSE_OF_KIND = {
    "credit": TokenPurpose.SALE,
    "free_issue": TokenPurpose.FREE_ISSUE,
    "emergency": TokenPurpose.EMERGENCY_CREDIT,
    "engineering": TokenPurpose.ENGINEERING,
    "test": TokenPurpose.TEST,
    "key_change": TokenPurpose.KEY_CHANGE,
}


def _receipt_number(text: str | int) -> int:
    try:
        number = int(str(text).strip().lstrip("#"))
    except ValueError:
        from stsvend.errors import InputError

        raise InputError(f"a receipt number is a whole number, got {text!r}") from None
    return number


def reprint(svc: Services, actor: Actor, receipt: str | int) -> dict[str, Any]:
    """The receipt exactly as issued, marked COPY (the reprint is in the operation log)."""
    authorize(svc, actor, Action.REPRINT)
    number = _receipt_number(receipt)
    with svc.store.transaction() as conn:
        sale = get_sale(conn, number)
        reversed_by = reversal_of(conn, sale.id)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="reprint",
            target=str(sale.id),
        )
    out = {**sale.result, "receipt": sale.id, "copy": True, "mark": COPY_MARK}
    if reversed_by is not None:
        out["reversed_by"] = reversed_by.id
        out["notes"] = [*out.get("notes", []), REVERSAL_NOTICE]
    return out


def _latest_for_account(conn: Any, sale_id: int, account_id: int | None) -> bool:
    if account_id is None:
        return True
    later = conn.execute(
        select(Sale.id).where(
            Sale.account_id == account_id,
            Sale.id > sale_id,
            Sale.kind.in_(("credit", "emergency", "free_issue")),
        )
    ).first()
    return later is None


def reverse(
    svc: Services,
    actor: Actor,
    receipt: str | int,
    reason: str,
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Reverse a sale's money; its token stays in the log, marked reversed."""
    authorize(svc, actor, Action.REVERSE)
    require_shift(actor)
    number = _receipt_number(receipt)
    request_id = request_id or svc.new_request_id()

    def work() -> dict[str, Any]:
        now = svc.now()
        with svc.store.transaction() as conn:
            stored = find_sale(conn, request_id)
            if stored is not None:
                if stored.kind != "reversal" or stored.reversal_of != number:
                    from stsvend.errors import InputError

                    raise InputError(f"request id {request_id!r} was already used")
                return {**stored.result, "receipt": stored.id, "replayed": True}
            original = get_sale(conn, number)
            if original.meter_id is None:
                raise ReversalError("this receipt has no meter token to reverse")
            ctx = load_meter(conn, meter_drn(conn, original.meter_id))
            original = get_sale(conn, number, lock=True)
            purpose = _PURPOSE_OF_KIND.get(original.kind)
            if purpose is None:
                raise ReversalError(f"a {original.kind} receipt cannot be reversed")
            text = check_reversal(
                Role.parse(actor.role),
                reason,
                ReversalCandidate(
                    purpose,
                    original.created_at,
                    reversed=reversal_of(conn, original.id) is not None,
                    latest_for_account=_latest_for_account(conn, original.id, original.account_id),
                ),
                now=now,
            )
            before = original.result["state_before"]
            if original.account_id is not None:
                acc.update_account(conn, original.account_id, **{
                    "credit_balance": before["account"]["credit_balance"],
                    "debt": before["account"]["debt"],
                    "emergency_debt": before["account"]["emergency_debt"],
                })  # fmt: skip
                month_key = calendar(svc).month_key(original.created_at)
                month = acc.get_month(conn, original.account_id, month_key)
                acc.put_month(
                    conn,
                    original.account_id,
                    month_key,
                    acc.MonthRecord(
                        before["month"]["units"],
                        before["month"]["fixed_charge_paid"],
                        before["month"]["free_units_issued"],
                        month.free_issue_units,
                    ),
                )
            lines = conn.execute(
                select(LedgerEntry.entry, LedgerEntry.amount, LedgerEntry.units).where(
                    LedgerEntry.sale_id == original.id
                )
            ).all()
            tokens = [t for t in original.result.get("tokens", []) if t["purpose"] == purpose.value]
            result = {
                "kind": "reversal",
                "request_id": request_id,
                **local_times(svc, now),
                "operator": actor.username,
                "terminal": actor.terminal,
                "test": original.test,
                "utility": svc.config.utility_name,
                "tax_number": svc.config.tax_number,
                "reverses": original.id,
                "meter": original.result.get("meter"),
                "contract": original.result.get("contract"),
                "refund": original.amount,
                "currency": svc.config.currency,
                "units": original.units,
                "unit": original.result.get("unit"),
                "reason": text,
                "tokens": tokens,
                "notes": [REVERSAL_NOTICE],
            }
            values = {
                    "request_id": request_id,
                    "kind": "reversal",
                    "meter_id": original.meter_id,
                    "account_id": original.account_id,
                    "operator_id": actor.operator_id,
                    "shift_id": actor.shift_id,
                    "terminal": actor.terminal,
                    "created_at": now,
                    "local_day": calendar(svc).local(now).date(),
                    "amount": -original.amount,
                    "units": -original.units,
                    "tax": -int(original.result.get("money", {}).get("tax", 0)),
                    "reversal_of": original.id,
                    "reason": text,
                    "test": original.test,
                    "result": result,
            }
            sale_id = insert_sale(conn, values)
            ledger = [
                {
                    "sale_id": sale_id,
                    "account_id": original.account_id,
                    "entry": entry,
                    "amount": -amount,
                    "units": -units,
                }
                for entry, amount, units in lines
            ]
            add_ledger(conn, ledger)
            marks = []
            for token in tokens:
                row = conn.execute(
                    select(TokenLog.seq).where(
                        TokenLog.meter == ctx.meter.drn,
                        TokenLog.base_date == token["base_date"],
                        TokenLog.tid == token["tid"],
                    )
                ).first()
                marks.append(
                    LogEntry(
                        chain=ctx.meter.drn, seq=0, at=now, event="reversal",
                        purpose=purpose.value, request_id=request_id, operator=actor.username,
                        terminal=actor.terminal, test=original.test, sale_id=sale_id,
                        meter=ctx.meter.drn, token_class=token["class"],
                        subclass=token["subclass"], base_date=token["base_date"],
                        amount=token["amount"], sgc=token["sgc"], krn=token["krn"],
                        ti=token["ti"], kcv=token["kcv"],
                        ref_seq=None if row is None else row.seq, note=text,
                    )
                )  # fmt: skip
            written = sale_row(values, sale_id)
            marks.append(sale_entry(actor, ctx.meter.drn, written, ledger, now=now))
            append(conn, svc.log_key, marks)
            return {**result, "receipt": sale_id, "replayed": False}

    return issue_once(svc, request_id, "reversal", None, work)
