"""Vendors and their prepaid floats: register, deposit, commission, credit limit, statement,
and the float debit of a sale.

A sale through a vendor takes its amount from the vendor's float and gives the commission back
(:class:`~stsvend.services.sale_point.VendorFloatDebit`, inside the sale's own
transaction).  The float lives in slots
(:mod:`stsvend.vending.floats`): a terminal debits its own slot first, so that one vendor's
terminals do not queue on one row; a slot that cannot cover a sale is refilled from the others
when the sale is tried again (:func:`sell_from_float`: the second try locks the vendor's slots
in order and shares the float out).  Only when the whole float cannot cover it is the sale
refused with ``insufficient_funds``.  docs/vendors.md says why this is safe.

>>> from datetime import UTC, datetime
>>> from stsvend.config import load_config
>>> from stsvend.services import auth
>>> from stsvend.services.context import Services
>>> from stsvend.store.uow import Store
>>> svc = Services(Store.open("sqlite://", create=True),
...                load_config({"STSVEND_DATA_DIR": "/nonexistent", "STSVEND_CURRENCY": "ZAR"}),
...                clock=lambda: datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
>>> auth.bootstrap_admin(svc, "ada", "104729")
True
>>> admin = auth.login(svc, "ada", "104729")
>>> add_vendor(svc, admin, "shop1", name="Corner shop", commission="2.5").code
'SHOP1'
>>> auth.add_operator(svc, admin, "finance", "supervisor", "918273")
>>> boss = auth.login(svc, "finance", "918273", new_pin="208351")
>>> deposit(svc, boss, "SHOP1", "500.00", reference="BANK-0001").float_after
50000
>>> vendor_info(svc, boss, "SHOP1").commission_bp
250
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import InputError
from stsvend.plaintext import parse_fixed
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.vendor_statements import (
    Statement,
    StatementLine,
    staff_statement,
    vendor_code,
)
from stsvend.store.errors import DuplicateRecordError, FloatFloorError, RecordNotFoundError
from stsvend.store.repos import vendors as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.store.writes import flush
from stsvend.vending.floats import (
    BASIS_POINTS,
    InsufficientFunds,
    floors,
    rebalance,
    spread,
)
from stsvend.vending.money import Money
from stsvend.vending.roles import Action

__all__ = [
    "FloatMovement",
    "Statement",
    "StatementLine",
    "VendorInfo",
    "add_vendor",
    "deposit",
    "describe",
    "list_vendors",
    "parse_rate",
    "sell_from_float",
    "set_commission",
    "set_credit_limit",
    "statement",
    "vendor_info",
]

T = TypeVar("T")


@frozen
class VendorInfo:
    """A vendor and its float, in minor units of ``currency``."""

    #: The vendor's short code.
    code: str
    name: str
    currency: str
    #: The commission on a sale, in basis points (250 = 2.5 %).
    commission_bp: int
    #: Rates of their own by resource (name → basis points), where the utility set them.
    commissions: Mapping[str, int]
    #: How far below zero the float may go.
    credit_limit: int
    #: The float: deposits − sales + commission ± reversals.
    float: int
    #: The alert threshold (None: no alert) and whether the float is at or below it.
    low_float: int | None
    low: bool
    active: bool
    test: bool


@frozen
class FloatMovement:
    """A deposit recorded on a vendor's float."""

    vendor: str
    currency: str
    #: Minor units added.
    amount: int
    #: The bank's (or other document's) reference.
    reference: str
    #: Who recorded it, and when (UTC, ISO 8601).
    recorded_by: str
    at: str
    float_after: int


def parse_rate(text: str) -> int:
    """A commission rate in percent (``"2.5"``) as basis points; 0 to 100 %.

    >>> parse_rate("2.5"), parse_rate("0"), parse_rate("100")
    (250, 0, 10000)
    """
    rate = parse_fixed(text, 2, "a commission rate (percent)", max_whole_digits=3)
    if rate > BASIS_POINTS:
        raise InputError(f"a commission rate is 0 to 100 percent, got {text}")
    return rate


def _code(text: str) -> str:
    return vendor_code(text)


def _resource(text: str) -> int:
    from stsvend import sts

    names = {r.name.lower(): int(r) for r in sts.Resource}
    value = text.strip().lower() if isinstance(text, str) else ""
    if value not in names:
        raise InputError(f"a resource is one of {', '.join(names)}, got {text!r}")
    return names[value]


def _oplog(svc: Services, conn: Connection, actor: Actor, action: str, target: str,
           **detail: object) -> None:  # fmt: skip
    log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                  action=action, target=target, detail=detail)  # fmt: skip


def describe(conn: Connection, vendor: repo.VendorRecord) -> VendorInfo:
    """The vendor and its float as they stand in ``conn``'s transaction."""
    from stsvend import sts

    total = repo.float_total(conn, vendor.id)
    rates = repo.commission_rates(conn, vendor.id)
    return VendorInfo(
        code=vendor.code, name=vendor.name, currency=vendor.currency,
        commission_bp=vendor.commission_bp,
        commissions={sts.Resource(r).name.lower(): bp for r, bp in sorted(rates.items())},
        credit_limit=vendor.credit_limit, float=total, low_float=vendor.low_float,
        low=vendor.low_float is not None and total <= vendor.low_float,
        active=vendor.active, test=vendor.test,
    )  # fmt: skip


def add_vendor(
    svc: Services, actor: Actor, code: str, *, name: str, commission: str = "0",
    credit_limit: str = "0", low_float: str | None = None,
) -> VendorInfo:  # fmt: skip
    """Register a vendor with an empty float (admin)."""
    authorize(svc, actor, Action.VENDORS_MANAGE)
    currency = svc.config.currency
    code = _code(code)
    rate = parse_rate(commission)
    limit = Money.parse(credit_limit, currency).minor
    low = None if low_float is None else Money.parse(low_float, currency).minor
    title = name.strip() if isinstance(name, str) else ""
    if not title or len(title) > 100:
        raise InputError("a vendor's name is 1-100 characters")
    with svc.store.transaction() as conn:
        try:
            repo.get_vendor(conn, code)
        except RecordNotFoundError:
            pass
        else:
            raise DuplicateRecordError(f"vendor {code} exists already")
        vendor = repo.add_vendor(
            conn, svc.now(), code=code, name=title, currency=currency, commission_bp=rate,
            credit_limit=limit, low_float=low, test=svc.hsm.test if svc.has_hsm else True,
        )  # fmt: skip
        _oplog(svc, conn, actor, "vendors.add", code, commission_bp=rate, credit_limit=limit)
        return describe(conn, vendor)


def list_vendors(svc: Services, actor: Actor) -> tuple[VendorInfo, ...]:
    authorize(svc, actor, Action.VENDORS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(describe(conn, v) for v in repo.list_vendors(conn))


def vendor_info(svc: Services, actor: Actor, code: str) -> VendorInfo:
    authorize(svc, actor, Action.VENDORS_VIEW)
    with svc.store.transaction() as conn:
        return describe(conn, repo.get_vendor(conn, _code(code)))


def set_commission(
    svc: Services, actor: Actor, code: str, rate: str, *, resource: str | None = None
) -> VendorInfo:
    """Set the vendor's commission, or its rate for one resource (``rate`` "-" removes that
    resource's own rate)."""
    authorize(svc, actor, Action.VENDORS_MANAGE)
    bp = None if resource is not None and rate == "-" else parse_rate(rate)
    with svc.store.transaction() as conn:
        vendor = repo.get_vendor(conn, _code(code))
        if resource is None:
            assert bp is not None
            repo.update_vendor(conn, vendor.id, commission_bp=bp)
        else:
            repo.set_commission(conn, vendor.id, _resource(resource), bp)
        _oplog(svc, conn, actor, "vendors.commission", vendor.code, resource=resource, bp=bp)
        return describe(conn, repo.get_vendor(conn, vendor.code))


def set_credit_limit(svc: Services, actor: Actor, code: str, limit: str) -> VendorInfo:
    """Change the credit limit: the slots' floors are set anew and the float shared out over
    them again; refused when the float is already below minus the new limit."""
    authorize(svc, actor, Action.VENDORS_MANAGE)
    with svc.store.transaction() as conn:
        vendor = repo.get_vendor(conn, _code(code))
        minor = Money.parse(limit, vendor.currency).minor
        slots = repo.lock_slots(conn, vendor.id)
        new_floors = floors(minor, len(slots))
        balances = [b for _, b, _ in slots]
        try:
            shared = rebalance(balances, new_floors, slot=0, need=0)
        except InsufficientFunds:
            raise InsufficientFunds(
                f"the float ({sum(balances)}) is below minus the new limit: deposit first"
            ) from None
        repo.set_slots(conn, vendor.id, shared, new_floors)
        repo.update_vendor(conn, vendor.id, credit_limit=minor)
        _oplog(svc, conn, actor, "vendors.credit-limit", vendor.code, credit_limit=minor)
        return describe(conn, repo.get_vendor(conn, vendor.code))


def deposit(
    svc: Services, actor: Actor, code: str, amount: str, *, reference: str
) -> FloatMovement:
    """Record money the vendor paid in (supervisor): spread over the slots, one ledger line."""
    authorize(svc, actor, Action.VENDORS_DEPOSIT)
    ref = reference.strip() if isinstance(reference, str) else ""
    if not ref or len(ref) > 64:
        raise InputError("a deposit needs its bank reference (1-64 characters)")
    now = svc.now()
    with svc.store.transaction() as conn:
        vendor = repo.get_vendor(conn, _code(code))
        minor = Money.parse(amount, vendor.currency).minor
        if minor <= 0:
            raise InputError("a deposit is more than zero")
        slots = repo.lock_slots(conn, vendor.id)
        parts = spread(minor, len(slots))
        repo.set_slots(conn, vendor.id, [b + p for (_, b, _), p in zip(slots, parts, strict=True)])
        repo.stage_ledger(conn, vendor.id, now, [("deposit", minor, None, ref)], actor.username)
        _oplog(svc, conn, actor, "vendors.deposit", vendor.code, amount=minor, reference=ref)
        flush(conn)
        after = repo.float_total(conn, vendor.id)
    return FloatMovement(vendor.code, vendor.currency, minor, ref, actor.username,
                         now.isoformat(), after)  # fmt: skip


def statement(
    svc: Services, actor: Actor, code: str, *, since: str | None = None,
    until: str | None = None,
) -> Statement:  # fmt: skip
    """The vendor's float from day ``since`` to day ``until`` (YYYY-MM-DD, both included, in
    the store's time zone; either may be left open)."""
    return staff_statement(svc, actor, code, since, until)


def sell_from_float(run: Callable[[bool], T]) -> T:
    """Run a sale (``run(refill)``, one whole transaction) on the fast path, and once more on
    the slow path if the terminal's slot could not cover it: a sale that the vendor's whole
    float covers is never refused."""
    try:
        return run(False)
    except FloatFloorError:
        return run(True)
