"""Pieces every token-issuing service shares: the locked meter and its state, request id
replay, account state conversions, vend limits, and the periodic token log seal.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import IdempotencyMismatch, InputError
from stsvend.services.context import Actor, Services
from stsvend.services.issue import Issued
from stsvend.services.receipt_codec import decode
from stsvend.services.receipt_model import SaleReceipt
from stsvend.store.errors import ConflictError, RecordNotFoundError
from stsvend.store.repos import accounts as acc
from stsvend.store.repos.keychanges import KeyChangeRecord, open_key_change
from stsvend.store.repos.meters import MeterRecord, get_meter
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.sales import find_sale
from stsvend.sts.layouts import TokenClass
from stsvend.tokenlog.writer import SealRefused, last_seal, write_seal
from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.errors import VendingError
from stsvend.vending.key_change import KeyChangeState, credit_key_data
from stsvend.vending.limits import VendLimits
from stsvend.vending.money import Money
from stsvend.vending.periods import LocalCalendar
from stsvend.vending.requests import Field, RequestKey, Stored, check_replay
from stsvend.vending.tokenspec import TokenPurpose

__all__ = [
    "MeterContext",
    "NoAccountError",
    "account_state",
    "issue_once",
    "key_change_issued",
    "key_data_from_dict",
    "key_data_to_dict",
    "load_meter",
    "maybe_seal",
    "meter_context",
    "meter_limits",
    "meter_or_replay",
    "month_state",
    "normalise_drn",
    "replay",
    "request_content",
    "request_id_of",
    "with_replay",
]


class NoAccountError(VendingError):
    code = "not_found"
    default_message = "the meter has no open account: open one first"


def key_data_to_dict(data: sts.KeyData) -> dict[str, Any]:
    return {
        "sgc": data.sgc,
        "ti": data.ti,
        "krn": data.krn,
        "key_type": int(data.key_type),
        "ea": data.ea.value,
        "base_date": int(data.base_date),
        "ken": data.ken,
    }


def key_data_from_dict(doc: dict[str, Any]) -> sts.KeyData:
    return sts.KeyData(**doc)


@frozen
class MeterContext:
    """A meter locked for this transaction, with its open key change and the key data that
    tokens are made under now (the key change's target while one is open)."""

    meter: MeterRecord
    key_change: KeyChangeRecord | None
    token_key_data: sts.KeyData

    @property
    def key_change_state(self) -> KeyChangeState | None:
        return None if self.key_change is None else KeyChangeState(self.key_change.state)


def load_meter(conn: Connection, drn: str) -> MeterContext:
    """Lock the meter row (all work on one meter is serialised here, and only here)."""
    meter = get_meter(conn, normalise_drn(drn), lock=True)
    return meter_context(meter, open_key_change(conn, meter.id))


def meter_context(meter: MeterRecord, change: KeyChangeRecord | None) -> MeterContext:
    target = None if change is None else key_data_from_dict(change.new_key)
    state = None if change is None else KeyChangeState(change.state)
    return MeterContext(meter, change, credit_key_data(meter.key_data, target, state))


def normalise_drn(text: str) -> str:
    """A meter number as typed, checked (a wrong check digit is refused, not "not found")."""
    # Spaces and dashes may group the digits as printed; nothing else is dropped (no tabs,
    # line ends or other whitespace), and MeterIdentity takes ASCII digits only.
    value = text.replace(" ", "").replace("-", "") if isinstance(text, str) else ""
    if not value:
        raise InputError("give a meter number (DRN)")
    return sts.MeterIdentity.parse(None, value).drn


def key_change_issued(change: KeyChangeRecord, meter: MeterRecord) -> list[Issued]:
    """The open key change's tokens as receipt lines (they were logged when made)."""
    old = key_data_from_dict(change.old_key)
    count = len(change.tokens)
    return [
        Issued(
            label=f"Key change {i} of {count}",
            digits=token["digits"],
            token_class=int(TokenClass.METER_MANAGEMENT),
            subclass=token["subclass"],
            purpose=TokenPurpose.KEY_CHANGE,
            sgc=old.sgc,
            krn=old.krn,
            ti=old.ti,
            kcv=token.get("kcv"),
        )
        for i, token in enumerate(change.tokens, start=1)
    ]


def account_state(account: acc.AccountRecord, currency: str) -> AccountState:
    return AccountState(
        currency,
        credit_balance=account.credit_balance,
        debt=account.debt,
        debt_recovery_bp=account.debt_recovery_bp,
        emergency_debt=account.emergency_debt,
    )


def month_state(month: acc.MonthRecord) -> MonthToDate:
    return MonthToDate(
        units=month.units,
        fixed_charge_paid=month.fixed_charged,
        free_units_issued=month.free_units_issued,
    )


def open_account(conn: Connection, meter: MeterRecord) -> acc.AccountRecord:
    account = acc.open_account_of_meter(conn, meter.id)
    if account is None:
        raise NoAccountError(f"meter {meter.drn} has no open account: open one first")
    return account


def meter_limits(svc: Services, meter: MeterRecord, currency: str) -> VendLimits:
    cfg = svc.config

    def pick(own: int | None, default: str) -> Money:
        return Money(own, currency) if own is not None else _configured(default, currency)

    return VendLimits(
        pick(meter.min_vend, cfg.min_vend),
        pick(meter.max_vend, cfg.max_vend),
        pick(meter.daily_limit, cfg.daily_limit),
    )


@functools.lru_cache(maxsize=64)
def _configured(text: str, currency: str) -> Money:
    """A configured amount (parsed once: every vend asks for the same few)."""
    return Money.parse(text, currency)


def calendar(svc: Services) -> LocalCalendar:
    return LocalCalendar(svc.config.timezone)


def request_content(actor: Actor, **fields: Field) -> dict[str, Field]:
    """A request's content for its digest: the operation's fields, and who asks where (a
    repeat comes from the same operator at the same terminal; anyone else's is another
    request)."""
    return {**fields, "operator_id": actor.operator_id, "terminal": actor.terminal}


def replay(
    conn: Connection,
    request_id: str,
    kind: str,
    meter_id: int | None,
    digest: str,
    *,
    scope: int,
    any_meter: bool = False,
) -> SaleReceipt | None:
    """The stored answer to an earlier request with this id, marked replayed, or None.

    The same id with different content is refused (:func:`check_replay`), never replayed.
    """
    sale = find_sale(conn, request_id, scope=scope)
    if sale is None:
        return None
    check_replay(
        Stored(sale.kind, sale.meter_id, sale.request_digest, receipt=sale.id),
        request_id,
        kind=kind,
        meter_id=meter_id,
        digest=digest,
        any_meter=any_meter,
    )
    return attrs.evolve(decode(sale.result), receipt=sale.id, replayed=True)


def meter_or_replay(
    conn: Connection, actor: Actor, drn: str, request_id: str, kind: str, digest: str
) -> tuple[MeterContext, SaleReceipt | None]:
    """Lock the meter, then find the stored answer to an earlier request with this id (None:
    there is none; a different request under it is refused)."""
    ctx = load_meter(conn, drn)
    return ctx, replay(conn, request_id, kind, ctx.meter.id, digest, scope=actor.request_scope)


def with_replay(
    svc: Services,
    request_id: str,
    kind: str,
    drn: str | None,
    digest: str,
    work: Callable[[], SaleReceipt],
    *,
    scope: int,
) -> SaleReceipt:
    """Run ``work``; if a concurrent request with the same id (in ``scope``) won the race,
    return its answer (or refuse, if that request was a different one)."""
    try:
        return work()
    except ConflictError:
        with svc.store.transaction() as conn:
            meter_id = None
            if drn is not None:
                try:
                    meter_id = get_meter(conn, normalise_drn(drn)).id
                except RecordNotFoundError:
                    meter_id = None
            stored = replay(conn, request_id, kind, meter_id, digest, scope=scope,
                            any_meter=drn is None)  # fmt: skip
        if stored is None:
            raise
        return stored


def issue_once(
    svc: Services,
    actor: Actor,
    request_id: str,
    kind: str,
    drn: str | None,
    digest: str,
    work: Callable[[], SaleReceipt],
) -> SaleReceipt:
    """Run a token-issuing operation once per request id, then seal the log if it is due.

    A replay and a refused reuse of the id are both in the operation log.
    """
    try:
        out = with_replay(svc, request_id, kind, drn, digest, work, scope=actor.request_scope)
    except IdempotencyMismatch as exc:
        with svc.store.transaction() as conn:
            log_operation(
                conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                action=kind, outcome="refused", target=request_id,
                detail={"reason": exc.message},
            )  # fmt: skip
        raise
    if out.replayed:
        with svc.store.transaction() as conn:
            log_operation(
                conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                action="replay", target=str(out.receipt),
                detail={"request_id": request_id, "kind": kind},
            )  # fmt: skip
    maybe_seal(svc)
    return out


def maybe_seal(svc: Services) -> None:
    """Seal the token log if the last seal is older than the configured interval.

    Runs after the business transaction, in its own; a sealer already at work elsewhere is
    not waited for.  The process remembers when to look again, so most vends skip the query.
    """
    now = svc.now()
    interval = timedelta(seconds=svc.config.log_seal_seconds)
    if svc.next_seal_check is not None and now < svc.next_seal_check:
        return
    # The operation itself is committed: a newest seal that does not verify (SealRefused) is
    # for `stsvend log verify` and `stsvend log seal` to report, not for a clerk's vend.
    with contextlib.suppress(SealRefused), svc.store.transaction() as conn:
        last = last_seal(conn)
        if last is not None and now - last.at < interval:
            svc.next_seal_check = last.at + interval
            return
        write_seal(conn, svc.log_key, now, wait=False)
    svc.next_seal_check = now + interval


def request_id_of(svc: Services, request_id: str | None) -> str:
    """The client's request id, checked; a new random one when the client gave none."""
    if request_id is None:
        return svc.new_request_id()
    return RequestKey.parse(request_id).request_id


def local_times(svc: Services, now: datetime) -> tuple[str, str]:
    """``now`` as a receipt gives it: UTC (ISO 8601) and local time (to the second)."""
    zone = svc.config.zone
    return now.isoformat(), now.astimezone(zone).isoformat(timespec="seconds")
