"""Selling through a vendor's terminal: purchase, trial, meter lookup, fetch result, reprint.

Every operation runs as the terminal (:func:`~stsvend.services.terminals.terminal_actor`): its
operator row, in its open batch, in its role of the one role table — or, under a person's
session (:mod:`stsvend.services.sessions`), as that person, in their shift and role.  A
purchase is a credit vend (:func:`~stsvend.services.vend.vend`) whose transaction also takes
the amount from the vendor's float and credits the commission (:class:`VendorFloatDebit`); the
answer is stored in that same transaction.  Purchase ids are the vendor's own: a repeat of an
id with the same content gets the stored answer (marked replayed) and issues nothing, the same
id with other content is refused (``idempotency_mismatch``), and another vendor's ids are never
seen.  A receipt or purchase of another vendor is answered as not found, never as forbidden.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import attrs
from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import InputError
from stsvend.services.auth import ShiftClosedDuringSale
from stsvend.services.common import (
    NoAccountError,
    account_state,
    calendar,
    load_meter,
    meter_limits,
    month_state,
    request_id_of,
)
from stsvend.services.context import Actor, Services
from stsvend.services.documents import UNIT_NAMES
from stsvend.services.receipt_codec import decode
from stsvend.services.receipt_model import SalePoint, SaleReceipt, TrialResult
from stsvend.services.tariffs import load_tariff
from stsvend.services.terminals import TerminalIdentity, terminal_actor
from stsvend.services.vend import trial as trial_vend
from stsvend.services.vend import vend
from stsvend.services.vendors import sell_from_float
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.repos import accounts as acc
from stsvend.store.repos import vendors as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.sales import day_total, find_sale, get_sale, last_sale_of_scope
from stsvend.vending.floats import InsufficientFunds, commission, rebalance, slot_for
from stsvend.vending.meters import MeterStatus
from stsvend.vending.notices import COPY_MARK

__all__ = [
    "LOW_FLOAT",
    "TENDERS",
    "MeterLookup",
    "NeverSeen",
    "VendorFloatDebit",
    "fetch",
    "lookup",
    "purchase",
    "reprint",
    "trial",
]

#: The operation log's action for a sale that took a vendor's float to or below its low mark.
LOW_FLOAT = "vendors.low_float"
#: How a customer may pay the vendor.
TENDERS = ("cash", "card", "mobile", "bank", "voucher")


class NeverSeen(RecordNotFoundError):
    """No purchase of this vendor has that id: it was never received (safe to send again)."""

    default_message = "no purchase with that id was ever received"


@frozen
class MeterLookup:
    """What a vendor may know of a meter before selling to it (no names are held)."""

    #: The meter number (DRN).
    meter: str
    #: Whether a purchase can be made now, and why not.
    can_vend: bool
    reason: str | None
    currency: str
    #: The smallest and largest purchase, and what is left of today's limit, minor units.
    minimum: int
    maximum: int
    daily_left: int | None
    #: The account's debt (minor units) and the share of a payment that repays it.
    debt: int
    debt_recovery_bp: int
    #: Whether key change tokens will come first on the next purchase's receipt.
    key_change_pending: bool
    #: Free units of this month not issued yet (tenths).
    free_units_due: int
    #: The pseudonymous customer and contract numbers.
    customer: str | None
    contract: str | None
    #: The meter's unit, and the tariff's name.
    unit: str
    tariff: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@frozen
class VendorFloatDebit:
    """The float side of a purchase (see :class:`~stsvend.services.vend.FloatDebit`).

    ``refill`` False: the terminal's slot is debited by a staged UPDATE, the transaction's last
    write, so its row lock is held only from there to the commit; a slot that cannot cover the
    sale fails the whole transaction (FloatFloorError) and the sale is tried once more with
    ``refill`` True, which locks the vendor's slots in order and shares the float out so that
    the slot covers it (InsufficientFunds when the whole float cannot).
    """

    who: TerminalIdentity
    tender: str
    currency: str
    refill: bool = False
    #: The services' clock (a low-float alert's time).
    clock: Callable[[], datetime] = _utc_now

    def price(self, conn: Connection, *, amount: int, resource: int,
              terms: tuple[int, int, int | None] | None) -> SalePoint:  # fmt: skip
        if terms is None:
            vendor, rate, total = repo.sale_terms(conn, self.who.vendor_id, resource)
            low = vendor.low_float
        else:
            rate, total, low = terms
        paid = commission(amount, rate)
        if self.refill:
            slots = repo.lock_slots(conn, self.who.vendor_id)
            balances = [b for _, b, _ in slots]
            shared = rebalance(balances, [f for _, _, f in slots],
                               slot=slot_for(self.who.terminal_id), need=amount - paid)  # fmt: skip
            repo.set_slots(conn, self.who.vendor_id, shared)
            total = sum(balances)
        left = total - amount + paid
        if low is not None and left <= low < total:
            _low_float(conn, self.who, low, self.currency, left, self.clock())
        return SalePoint(self.who.vendor, self.tender, self.currency, paid, left)

    def stage(self, conn: Connection, point: SalePoint, *, sale_id: int, amount: int,
              at: datetime, recorded_by: str) -> None:  # fmt: skip
        repo.stage_debit(conn, self.who.vendor_id, slot=slot_for(self.who.terminal_id),
                         net=amount - point.commission)  # fmt: skip
        lines: list[tuple[str, int, int | None, str | None]] = [("sale", -amount, sale_id, None)]
        if point.commission:
            lines.append(("commission", point.commission, sale_id, None))
        repo.stage_ledger(conn, self.who.vendor_id, at, lines, recorded_by)


def _low_float(conn: Connection, who: TerminalIdentity, low: int, currency: str, left: int,
               at: datetime) -> None:  # fmt: skip
    """The alert that this sale takes the vendor's float to or below its low mark: one row of
    the operation log, in the sale's transaction (no sale, no alert)."""
    log_operation(conn, at=at, operator=who.operator, terminal=who.place,
                  action=LOW_FLOAT, target=who.vendor,
                  detail={"float": left, "low_float": low, "currency": currency})  # fmt: skip


def _tender(text: str) -> str:
    value = text.strip().lower() if isinstance(text, str) else ""
    if value not in TENDERS:
        raise InputError(f"a tender is one of {', '.join(TENDERS)}, got {text!r}")
    return value


def purchase(
    svc: Services, who: TerminalIdentity, *, purchase_id: str, meter: str, amount: str,
    tender: str = "cash",
) -> SaleReceipt:  # fmt: skip
    """Sell credit for ``amount`` to ``meter``, paid from the vendor's float, once per
    ``purchase_id`` (see the module's notes)."""
    if not isinstance(purchase_id, str) or not purchase_id:
        raise InputError("a purchase needs the client's purchase id")
    purchase_id = request_id_of(svc, purchase_id)
    paid_by = _tender(tender)
    actor = terminal_actor(svc, who)

    def sell(actor: Actor) -> SaleReceipt:
        return sell_from_float(lambda refill: vend(
            svc, actor, meter, amount, request_id=purchase_id,
            float_debit=VendorFloatDebit(who, paid_by, svc.config.currency, refill,
                                         svc.now)))  # fmt: skip

    try:
        try:
            return sell(actor)
        except ShiftClosedDuringSale:
            # The terminal's batch was closed while the sale was made (nothing was sold):
            # it goes into the next batch, which this opens.
            return sell(terminal_actor(svc, who))
    except InsufficientFunds:
        with svc.store.transaction() as conn:
            log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                          action="vend", outcome="refused", target=purchase_id,
                          detail={"reason": "insufficient_funds"})  # fmt: skip
        raise


def trial(svc: Services, who: TerminalIdentity, *, meter: str, amount: str) -> TrialResult:
    """The figures a purchase of ``amount`` would give; no token, no money moved."""
    return trial_vend(svc, terminal_actor(svc, who), meter, amount=amount)


def lookup(svc: Services, who: TerminalIdentity, meter: str) -> MeterLookup:
    """Confirm the customer: whether the meter can take a purchase, its limits and debt."""
    currency = svc.config.currency
    now = svc.now()
    cal = calendar(svc)
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, meter)
        limits = meter_limits(svc, ctx.meter, currency)
        account = acc.open_account_of_meter(conn, ctx.meter.id)
        unit = UNIT_NAMES[sts.Resource(ctx.meter.resource)]
        reason = None
        if MeterStatus(ctx.meter.status) is not MeterStatus.ACTIVE:
            reason = f"the meter is {ctx.meter.status}"
        elif account is None:
            reason = NoAccountError.default_message
        if account is None:
            conn.rollback()
            return MeterLookup(ctx.meter.drn, False, reason, currency, limits.minimum.minor,
                               limits.maximum.minor, None, 0, 0, ctx.key_change is not None, 0,
                               None, None, unit, None)  # fmt: skip
        month = acc.get_month(conn, account.id, cal.month_key(now))
        today = day_total(conn, ctx.meter.id, cal.local(now).date())
        tariff, _ = load_tariff(svc, conn, account.tariff_id)
        conn.rollback()  # a lookup writes nothing
    state, to_date = account_state(account, currency), month_state(month)
    daily = limits.daily_maximum
    left = None if daily is None else max(daily.minor - today, 0)
    if reason is None and left is not None and left < limits.minimum.minor:
        reason = "today's limit for this meter is used up"
    free_due = max(tariff.free_units - to_date.free_units_issued, 0)
    return MeterLookup(
        ctx.meter.drn, reason is None, reason, currency, limits.minimum.minor,
        limits.maximum.minor, left, state.debt + state.emergency_debt, state.debt_recovery_bp,
        ctx.key_change is not None, free_due, account.customer_number, account.contract_number,
        unit, tariff.name,
    )  # fmt: skip


def _own(svc: Services, who: TerminalIdentity, sale_id: int | None) -> SaleReceipt:
    with svc.store.transaction() as conn:
        if sale_id is None:
            sale = last_sale_of_scope(conn, who.vendor_id, terminal=who.place)
            if sale is None:
                raise RecordNotFoundError("this terminal has sold nothing yet")
        else:
            try:
                sale = get_sale(conn, sale_id)
            except RecordNotFoundError:
                sale = None
            if sale is None or sale.scope != who.vendor_id:
                raise RecordNotFoundError(f"no receipt {sale_id} of this vendor")
        log_operation(conn, at=svc.now(), operator=who.operator, terminal=who.place,
                      action="reprint", target=str(sale.id),
                      detail={"kind": sale.kind})  # fmt: skip
    return attrs.evolve(decode(sale.result), receipt=sale.id, copy=True, mark=COPY_MARK)


def reprint(svc: Services, who: TerminalIdentity, receipt: int | None = None) -> SaleReceipt:
    """A copy of one of the vendor's receipts (None: this terminal's last), marked COPY."""
    if receipt is not None and (isinstance(receipt, bool) or receipt <= 0):
        raise InputError("a receipt number is a whole number above 0")
    return _own(svc, who, receipt)


def fetch(svc: Services, who: TerminalIdentity, purchase_id: str) -> SaleReceipt:
    """The stored answer of the vendor's purchase ``purchase_id`` (replayed), or NeverSeen."""
    request_id = request_id_of(svc, purchase_id)
    with svc.store.transaction() as conn:
        sale = find_sale(conn, request_id, scope=who.vendor_id)
    if sale is None:
        raise NeverSeen(f"no purchase {request_id!r} was ever received from this vendor")
    return attrs.evolve(decode(sale.result), receipt=sale.id, replayed=True)
