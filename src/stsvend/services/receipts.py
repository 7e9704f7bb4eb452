"""Reprints (marked COPY) and reversals (supervisor, with a reason; the token stays in the log).

A clerk reprints receipts of their own open shift; any other receipt takes a supervisor.  A
reversal is made by another operator than the seller, within the configured amount and age.

A reversal refunds the money of the account's latest sale and puts the account and month
counters back as they were before it; the credit token cannot be revoked at the meter, so the
token log gets a *reversal* row that marks the token row, and the receipt says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.config import ConfigError
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import (
    MeterContext,
    calendar,
    issue_once,
    load_meter,
    replay,
    request_content,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.receipt_codec import decode
from stsvend.services.receipt_model import SalePoint, SaleReceipt
from stsvend.services.recording import receipt_header, record_sale
from stsvend.store.models import LedgerEntry, Sale, TokenLog
from stsvend.store.repos import accounts as acc
from stsvend.store.repos.operators import get_shift
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.sales import (
    SaleRecord,
    get_sale,
    meter_drn,
    reversal_of,
)
from stsvend.tokenlog.chain import LogEntry
from stsvend.vending.errors import MoneyError, PermissionDenied, ReversalError
from stsvend.vending.money import Money
from stsvend.vending.notices import COPY_MARK, REVERSAL_NOTICE
from stsvend.vending.reasons import normalise_reason
from stsvend.vending.requests import request_digest
from stsvend.vending.reversal import (
    ReversalCandidate,
    ReversalPolicy,
    check_reversal,
    check_reversal_limits,
)
from stsvend.vending.roles import Action, Role, check_permission, reprint_action
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["reprint", "reversal_policy", "reverse", "reverse_sale"]

#: The longest note a token log row keeps.
_NOTE_MAX = 200

_PURPOSE_OF_KIND = {
    "credit": TokenPurpose.SALE,
    "free_issue": TokenPurpose.FREE_ISSUE,
    "emergency": TokenPurpose.EMERGENCY_CREDIT,
    "engineering": TokenPurpose.ENGINEERING,
    "test": TokenPurpose.TEST,
    "key_change": TokenPurpose.KEY_CHANGE,
    "credit_transfer": TokenPurpose.CREDIT_TRANSFER,
}


def _receipt_number(text: str | int) -> int:
    from stsvend.plaintext import parse_whole

    # A receipt number as printed (optionally "#12"), plain digits, inside the 64-bit ids.
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if isinstance(text, str) and text.startswith("#"):
        text = text[1:]
    return parse_whole(text, "a receipt number", 1, 2**31 - 1)  # the ids are 32-bit integers


def _own_open_shift(conn: Any, actor: Actor, sale: SaleRecord) -> bool:
    """True if ``sale`` was made in the actor's shift at this terminal, and it is still open."""
    if actor.shift_id is None or sale.shift_id != actor.shift_id:
        return False
    shift = get_shift(conn, actor.shift_id)
    return shift.operator_id == actor.operator_id and shift.closed_at is None


def reprint(svc: Services, actor: Actor, receipt: str | int) -> SaleReceipt:
    """The receipt exactly as issued, marked COPY (the reprint is in the operation log).

    A receipt of the operator's own open shift is a plain reprint; any other needs the right
    to reprint any receipt (supervisors): a reprint hands out token digits again.
    """
    authorize(svc, actor, Action.REPRINT)
    number = _receipt_number(receipt)
    with svc.store.transaction() as conn:
        sale = get_sale(conn, number)
        own = _own_open_shift(conn, actor, sale)
    needed = reprint_action(own_open_shift=own)
    try:
        check_permission(Role.parse(actor.role), needed)
    except PermissionDenied as exc:
        # Logged with the receipt asked for: probing for other shifts' digits shows.
        with svc.store.transaction() as conn:
            log_operation(
                conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                action=needed.value, outcome="refused", target=str(sale.id),
                detail={"reason": exc.message},
            )  # fmt: skip
        raise
    stored = decode(sale.result)
    with svc.store.transaction() as conn:
        reversed_by = reversal_of(conn, sale.id)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="reprint",
            target=str(sale.id),
            detail={"kind": sale.kind, "tokens": len(stored.tokens), "own_shift": own},
        )  # fmt: skip
    if reversed_by is None:
        return attrs.evolve(stored, receipt=sale.id, copy=True, mark=COPY_MARK)
    notes = (*stored.notes, REVERSAL_NOTICE)
    return attrs.evolve(
        stored, receipt=sale.id, copy=True, mark=COPY_MARK, reversed_by=reversed_by.id, notes=notes
    )


def reversal_policy(svc: Services) -> ReversalPolicy:
    """The configured limits of a reversal at the counter."""
    cfg = svc.config
    try:
        cap = Money.parse(cfg.reversal_max_amount, cfg.currency)
    except MoneyError as exc:
        raise ConfigError(f"reversal_max_amount: {exc.message}") from None
    if cap.minor < 0:
        raise ConfigError(f"reversal_max_amount must not be negative, got {cap}")
    return ReversalPolicy(window=timedelta(hours=cfg.reversal_max_age_hours), max_amount=cap)


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
) -> SaleReceipt:
    """Reverse a sale's money; its token stays in the log, marked reversed.

    The reverser is another operator than the seller, and the sale is within the configured
    amount and age (:func:`~stsvend.vending.reversal.check_reversal`).
    """
    authorize(svc, actor, Action.REVERSE)
    require_shift(actor)
    number = _receipt_number(receipt)
    request_id = request_id_of(svc, request_id)
    digest = request_digest("reversal", request_content(
        actor, receipt=number, reason=" ".join(str(reason).split())))  # fmt: skip
    policy = reversal_policy(svc)

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            stored = replay(conn, request_id, "reversal", None, digest,
                                 scope=actor.request_scope, any_meter=True)  # fmt: skip
            if stored is not None:
                return stored
            original = get_sale(conn, number)
            if original.meter_id is None:
                raise ReversalError("this receipt has no meter token to reverse")
            ctx = load_meter(conn, meter_drn(conn, original.meter_id))
            # Under the meter's lock: a request with the same id that got here first has
            # committed by now, and is answered as a replay rather than refused as reversed.
            stored = replay(conn, request_id, "reversal", None, digest,
                                 scope=actor.request_scope, any_meter=True)  # fmt: skip
            if stored is not None:
                return stored
            original = get_sale(conn, number, lock=True)
            if original.scope != actor.request_scope:
                # The vendor's float paid for it: only the vendor's own advice gives it back.
                raise ReversalError(
                    f"receipt {original.id} is a vendor's sale: the vendor reverses it with its "
                    "reversal advice, which refunds its float"
                )
            return reverse_sale(svc, conn, actor, original, ctx, reason, request_id=request_id,
                                digest=digest, now=now, policy=policy,
                                separate_duties=True)  # fmt: skip

    return issue_once(svc, actor, request_id, "reversal", None, digest, work)


def reverse_sale(
    svc: Services, conn: Connection, actor: Actor, original: SaleRecord, ctx: MeterContext,
    reason: object, *, request_id: str, digest: str, now: datetime, policy: ReversalPolicy,
    separate_duties: bool, mark_prefix: str = "", sale_point: SalePoint | None = None,
) -> SaleReceipt:  # fmt: skip
    """Reverse ``original`` in ``conn``'s transaction: the meter locked (``ctx``) and the sale
    row too.  Refunds the money, puts the account and month back, marks the tokens reversed in
    the token log and records the reversal as a sale of its own (in the chained log).

    ``separate_duties`` True (a reversal at the counter): the actor needs the right to reverse
    and must not be the seller (:func:`~stsvend.vending.reversal.check_reversal`).  False (a
    vendor's advice that its own sale was not delivered): only the rules every reversal keeps
    (:func:`~stsvend.vending.reversal.check_reversal_limits`), the caller having checked who
    may ask.  ``mark_prefix`` starts the token log mark's note; ``sale_point`` goes on the
    receipt.
    """
    purpose = _PURPOSE_OF_KIND.get(original.kind)
    if purpose is None:
        raise ReversalError(f"a {original.kind} receipt cannot be reversed")
    candidate = ReversalCandidate(
        purpose, original.created_at, reversed=reversal_of(conn, original.id) is not None,
        latest_for_account=_latest_for_account(conn, original.id, original.account_id),
        seller_id=original.operator_id, amount=Money(original.amount, svc.config.currency),
    )  # fmt: skip
    if separate_duties:
        text = check_reversal(Role.parse(actor.role), reason, candidate,
                              reverser_id=actor.operator_id, now=now, policy=policy)  # fmt: skip
    else:
        text = normalise_reason(reason, what="a reversal", error=ReversalError)
        check_reversal_limits(candidate, now=now, policy=policy)
    sold = decode(original.result)
    before = sold.state_before
    if original.account_id is not None:
        assert before is not None  # a sale's receipt keeps it, and only sales reverse
        acc.update_account(conn, original.account_id,
                           credit_balance=before.account.credit_balance,
                           debt=before.account.debt,
                           emergency_debt=before.account.emergency_debt)  # fmt: skip
        month_key = calendar(svc).month_key(original.created_at)
        month = acc.get_month(conn, original.account_id, month_key)
        acc.put_month(conn, original.account_id, month_key, acc.MonthRecord(
            before.month.units, before.month.fixed_charge_paid, before.month.free_units_issued,
            month.free_issue_units))  # fmt: skip
    lines = conn.execute(
        select(LedgerEntry.entry, LedgerEntry.amount, LedgerEntry.units).where(
            LedgerEntry.sale_id == original.id
        )
    ).all()
    tokens = [t for t in sold.tokens if t.purpose is purpose]
    result = SaleReceipt(
        **receipt_header(svc, actor, "reversal", request_id, now, test=original.test),
        reverses=original.id, meter=sold.meter, contract=sold.contract, customer=sold.customer,
        refund=original.amount, currency=svc.config.currency, units=original.units,
        unit=sold.unit, reason=text,
        # The reversed tokens are named, never handed out again: no digits.
        tokens=tuple(attrs.evolve(t, digits=None) for t in tokens),
        notes=(REVERSAL_NOTICE,), sale_point=sale_point,
    )  # fmt: skip
    seqs = []
    for token in tokens:
        row = conn.execute(
            select(TokenLog.seq).where(
                TokenLog.meter == ctx.meter.drn,
                TokenLog.base_date == token.base_date,
                TokenLog.tid == token.tid,
            )
        ).first()
        seqs.append(None if row is None else row.seq)
    note = (mark_prefix + text)[:_NOTE_MAX]

    def marks(sale_id: int) -> list[LogEntry]:
        return [
            LogEntry(
                chain=ctx.meter.drn, seq=0, at=now, event="reversal", purpose=purpose.value,
                request_id=request_id, operator=actor.username, terminal=actor.terminal,
                test=original.test, sale_id=sale_id, meter=ctx.meter.drn,
                token_class=token.token_class, subclass=token.subclass,
                base_date=token.base_date, amount=token.amount, sgc=token.sgc, krn=token.krn,
                ti=token.ti, kcv=token.kcv, ref_seq=seq, note=note,
            )
            for token, seq in zip(tokens, seqs, strict=True)
        ]  # fmt: skip

    return record_sale(
        svc, conn, actor, kind="reversal", request_id=request_id, digest=digest,
        now=now, result=result, meter_id=original.meter_id, meter_drn=ctx.meter.drn,
        marks=marks, account_id=original.account_id, amount=-original.amount,
        units=-original.units, tax=-(0 if sold.money is None else sold.money.tax),
        ledger=[(entry, -amount, -units) for entry, amount, units in lines],
        reason=text, reversal_of=original.id, test=original.test,
    )  # fmt: skip
