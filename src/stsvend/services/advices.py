"""A vendor's advices about its own purchases: *confirmed* (the token reached the customer)
and *reversed* (it did not, so the float gets the money back).

Both are idempotent and keyed by the vendor's purchase id: the first advice about a purchase
is recorded (``sale_advice``, one row per sale) and every later one gets its answer again
(``replayed``); a purchase id the vendor never sent is ``not_found``, never guessed.  A
confirmed purchase is never reversed by an advice, and a reversed one is never confirmed.

A reversal advice runs the counter's reversal (:func:`~stsvend.services.receipts.reverse_sale`)
without its separation of duties: the vendor's own terminal reverses the vendor's own sale,
which is the point of the advice.  In its place stands a tighter policy
(:func:`vendor_reversal_policy`, docs/server.md *Reversal policy*): only within
``vendor_reversal_window_minutes`` of the sale, only while the vendor's reversals of the local
day stay within ``vendor_reversal_daily_cap``, only the account's latest sale.  In the one
transaction: the account and month put back, the token marked reversed-not-delivered in the
token log (the token itself stays valid: a meter may still accept it), the reversal recorded
as a sale of the chained log, the float refunded (``reversal`` +amount, ``commission_reversal``
−commission) and the advice row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs
from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.config import ConfigError
from stsvend.errors import StsError
from stsvend.services.auth import authorize
from stsvend.services.common import (
    MeterContext,
    calendar,
    load_meter,
    maybe_seal,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.receipt_codec import decode
from stsvend.services.receipt_model import SalePoint
from stsvend.services.receipts import reverse_sale
from stsvend.services.results import doc_optional
from stsvend.services.sale_point import NeverSeen
from stsvend.services.terminals import TerminalIdentity, terminal_actor
from stsvend.store.errors import ConflictError
from stsvend.store.repos import vendors as repo
from stsvend.store.repos.advices import AdviceRecord, add_advice, get_advice, reversed_on
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.sales import SaleRecord, find_sale, get_sale, meter_drn, reversal_of
from stsvend.vending.errors import MoneyError, ReversalError
from stsvend.vending.floats import slot_for
from stsvend.vending.money import Money
from stsvend.vending.requests import request_digest
from stsvend.vending.reversal import ReversalPolicy
from stsvend.vending.roles import Action

__all__ = [
    "NOT_DELIVERED_NOTE",
    "AdviceAnswer",
    "AdviceRefused",
    "VendorReversalPolicy",
    "confirm",
    "reverse",
    "vendor_reversal_policy",
]

#: What a reversal advice's answer says of the token.
NOT_DELIVERED_NOTE = (
    "The float is refunded, but the token cannot be revoked: a meter may still accept it if it "
    "ever reaches the customer."
)
_MARK = "not delivered (vendor advice): "
_OPTIONAL = doc_optional()


class AdviceRefused(StsError):
    """An advice contradicts the one already given (a reversed purchase is not confirmed)."""

    code = "refused"
    default_message = "another advice about this purchase was given first"


@frozen
class VendorReversalPolicy:
    """How long after a sale, and up to which total a day, a vendor's advice reverses."""

    window: timedelta
    #: Minor units a vendor's reversal advices may refund in one local day.
    daily_cap: int


@frozen
class AdviceAnswer:
    """The answer to an advice (the same every time it is sent again)."""

    purchase_id: str
    #: ``confirmation`` or ``reversal``.
    advice: str
    #: ``confirmed`` or ``reversed``.
    state: str
    #: The purchase's receipt number.
    receipt: int
    #: When the advice was recorded (UTC, ISO 8601), and by which terminal.
    at: str
    terminal: str
    #: True when this advice was given before and this is its answer again.
    replayed: bool
    #: A reversal's receipt number, the refund and the commission taken back (minor units),
    #: the float just after it, the reason given and what it means for the token.
    reversal: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    refund: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    commission_reversed: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    float_left: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    currency: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    reason: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    note: str | None = attrs.field(default=None, metadata=_OPTIONAL)


def vendor_reversal_policy(svc: Services) -> VendorReversalPolicy:
    """The configured policy of reversal advices."""
    cfg = svc.config
    try:
        cap = Money.parse(cfg.vendor_reversal_daily_cap, cfg.currency).minor
    except MoneyError as exc:
        raise ConfigError(f"vendor_reversal_daily_cap: {exc.message}") from None
    if cap < 0:
        raise ConfigError("vendor_reversal_daily_cap must not be negative")
    return VendorReversalPolicy(timedelta(minutes=cfg.vendor_reversal_window_minutes), cap)


def _actor(who: TerminalIdentity) -> Actor:
    """The terminal as an actor, outside any batch (for the permission check and the log)."""
    return Actor(who.operator_id, who.operator, who.role.value, who.place, who.shift_id,
                 vendor_id=who.vendor_id)  # fmt: skip


def _purchase(conn: Connection, who: TerminalIdentity, purchase_id: str) -> SaleRecord:
    sale = find_sale(conn, purchase_id, scope=who.vendor_id)
    if sale is None:
        raise NeverSeen(f"purchase {purchase_id!r} was never received from this vendor: "
                        "nothing was issued for it or taken from the float")  # fmt: skip
    return sale


def _answer(conn: Connection, purchase_id: str, advice: AdviceRecord, *,
            replayed: bool) -> AdviceAnswer:  # fmt: skip
    """The answer to ``advice``, as it was given the first time."""
    base = AdviceAnswer(purchase_id, advice.kind, advice.state, advice.sale_id,
                        advice.at.isoformat(), advice.terminal, replayed)  # fmt: skip
    if advice.reversal_id is None:
        return base
    done = decode(get_sale(conn, advice.reversal_id).result)
    point = done.sale_point
    return attrs.evolve(
        base, reversal=advice.reversal_id, refund=done.refund,
        commission_reversed=None if point is None else -point.commission,
        float_left=None if point is None else point.float_left, currency=done.currency,
        reason=done.reason, note=NOT_DELIVERED_NOTE,
    )  # fmt: skip


def _given(conn: Connection, purchase_id: str, sale: SaleRecord, kind: str) -> AdviceAnswer | None:
    """The answer of the same advice given before; a refusal if the other one was."""
    advice = get_advice(conn, sale.id)
    if advice is None:
        return None
    if advice.kind != kind:
        if kind == "reversal":
            raise ReversalError("the vendor confirmed this purchase: it is not reversed")
        raise AdviceRefused("this purchase was reversed on the vendor's advice: not confirmed")
    return _answer(conn, purchase_id, advice, replayed=True)


def _once(svc: Services, who: TerminalIdentity, purchase_id: str, kind: str,
          work: Callable[[], AdviceAnswer]) -> AdviceAnswer:  # fmt: skip
    """Run ``work``; when a concurrent advice about the same purchase committed first, answer
    by that one."""
    try:
        return work()
    except ConflictError:
        with svc.store.transaction() as conn:
            stored = _given(conn, purchase_id, _purchase(conn, who, purchase_id), kind)
        if stored is None:
            raise
        return stored


def confirm(svc: Services, who: TerminalIdentity, purchase_id: str) -> AdviceAnswer:
    """The vendor's confirmation that purchase ``purchase_id`` reached its customer."""
    actor = _actor(who)
    authorize(svc, actor, Action.VEND)
    request_id = request_id_of(svc, purchase_id)

    def work() -> AdviceAnswer:
        now = svc.now()
        with svc.store.transaction() as conn:
            # The sale's row first, as a reversal takes it: a confirmation and a reversal at
            # once then queue on it, where otherwise each would wait on the other's advice row.
            sale = get_sale(conn, _purchase(conn, who, request_id).id, lock=True)
            stored = _given(conn, request_id, sale, "confirmation")
            if stored is not None:
                return stored
            if reversal_of(conn, sale.id) is not None:
                raise AdviceRefused("this purchase was reversed: it is not confirmed")
            advice = AdviceRecord(sale.id, "confirmation", "confirmed", now, who.place, None)
            add_advice(conn, advice)
            log_operation(conn, at=now, operator=who.operator, terminal=who.place,
                          action="advice.confirmation", target=request_id,
                          detail={"receipt": sale.id})  # fmt: skip
            return _answer(conn, request_id, advice, replayed=False)

    return _once(svc, who, request_id, "confirmation", work)


def _refund(svc: Services, conn: Connection, who: TerminalIdentity, actor: Actor,
            sale: SaleRecord, ctx: MeterContext, reason: object, policy: VendorReversalPolicy,
            now: datetime) -> AdviceAnswer:  # fmt: skip
    """Reverse ``sale`` (its meter and row locked) and refund the vendor's float."""
    # Every slot of the vendor locked, in order: the vendor's advices run one at a time, so
    # the day's total below is exact; a sale's fast path still locks only its own slot.
    slots = repo.lock_slots(conn, who.vendor_id)
    day = calendar(svc).local(now).date()
    done = reversed_on(conn, who.vendor_id, day)
    if done + sale.amount > policy.daily_cap:
        cap = Money(policy.daily_cap, svc.config.currency)
        raise ReversalError(f"the vendor's reversal advices of {day.isoformat()} would pass "
                            f"the day's cap of {cap}: ask the utility")  # fmt: skip
    sold = decode(sale.result)
    point = sold.sale_point
    commission = 0 if point is None else point.commission
    balances = [balance for _, balance, _ in slots]
    balances[slot_for(who.terminal_id)] += sale.amount - commission
    refund_point = SalePoint(who.vendor, "float" if point is None else point.tender,
                             svc.config.currency, -commission, sum(balances))  # fmt: skip
    digest = request_digest("reversal", {"receipt": sale.id, "advice": "not_delivered",
                                         "operator_id": actor.operator_id})  # fmt: skip
    receipt = reverse_sale(
        svc, conn, actor, sale, ctx, reason,
        request_id=f"reversal/{sale.id}", digest=digest, now=now,
        policy=ReversalPolicy(window=policy.window), separate_duties=False, mark_prefix=_MARK,
        sale_point=refund_point,
    )  # fmt: skip
    repo.set_slots(conn, who.vendor_id, balances)
    lines: list[tuple[str, int, int | None, str | None]] = [
        ("reversal", sale.amount, sale.id, f"reversal #{receipt.receipt}")
    ]
    if commission:
        lines.append(("commission_reversal", -commission, sale.id, f"reversal #{receipt.receipt}"))
    repo.stage_ledger(conn, who.vendor_id, now, lines, actor.username)
    advice = AdviceRecord(sale.id, "reversal", "reversed", now, who.place, receipt.receipt)
    add_advice(conn, advice)
    log_operation(conn, at=now, operator=who.operator, terminal=who.place,
                  action="advice.reversal", target=sale.request_id,
                  detail={"receipt": sale.id, "reversal": receipt.receipt,
                          "refund": sale.amount, "commission": commission})  # fmt: skip
    return _answer(conn, sale.request_id, advice, replayed=False)


def reverse(svc: Services, who: TerminalIdentity, purchase_id: str, reason: object
            ) -> AdviceAnswer:  # fmt: skip
    """The vendor's advice that purchase ``purchase_id`` was not delivered: reverse it under
    the vendor reversal policy (see the module's notes); refused with ``reversal`` outside it."""
    actor = _actor(who)
    authorize(svc, actor, Action.VEND)
    request_id = request_id_of(svc, purchase_id)
    policy = vendor_reversal_policy(svc)
    in_batch = terminal_actor(svc, who)  # the reversal is a sale of the terminal's batch

    def work() -> AdviceAnswer:
        now = svc.now()
        with svc.store.transaction() as conn:
            sale = _purchase(conn, who, request_id)
            stored = _given(conn, request_id, sale, "reversal")
            if stored is not None or sale.meter_id is None:
                if stored is None:
                    raise ReversalError("this purchase has no meter token to reverse")
                return stored
            ctx = load_meter(conn, meter_drn(conn, sale.meter_id))
            # Under the meter's lock: the same advice that got here first has committed.
            stored = _given(conn, request_id, sale, "reversal")
            if stored is not None:
                return stored
            sale = get_sale(conn, sale.id, lock=True)
            return _refund(svc, conn, who, in_batch, sale, ctx, reason, policy, now)

    try:
        out = _once(svc, who, request_id, "reversal", work)
    except ReversalError as exc:
        with svc.store.transaction() as conn:
            log_operation(conn, at=svc.now(), operator=who.operator, terminal=who.place,
                          action="advice.reversal", outcome="refused", target=request_id,
                          detail={"reason": exc.message})  # fmt: skip
        raise
    if not out.replayed:
        maybe_seal(svc)
    return out
