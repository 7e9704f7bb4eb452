"""The producer: notices for what happened since its watermarks, put in the outbox once.

Each round scans, without touching the sale's own transaction:

* sales (``credit``: a receipt; ``emergency``: emergency credit granted) made since the
  ``sales`` watermark;
* key changes made pending since the ``key_changes`` watermark (the customer must enter them);
* once a day: open accounts with arrears (one debt notice per account and month) and open
  accounts whose last purchase is older than ``low_credit_days`` (a low-credit reminder: the
  vending side never sees the meter's register, so the age of the last purchase stands in).

A watermark is the time of the last scan; the next starts a little before it
(:data:`OVERLAP`): a sale made (its time taken) before the scan may commit after it, and the
overlap picks it up; the unique message id makes a re-scan add nothing.  A transaction open
longer than the overlap, or a clock behind by more, could make a notice be missed.  A work
order's status comes from whoever follows the order, through :func:`enqueue_work_order_status`.

>>> message_id("sale", 42, channel="smtp")
'stsvend.sale.42.smtp'
>>> grouped("12345678901234567890")
'1234 5678 9012 3456 7890'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.engine import Connection

from stsvend.config import Config
from stsvend.errors import InputError
from stsvend.services.context import Services
from stsvend.services.notices.outbox import enqueue, opt_outs
from stsvend.store.base import table_of
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import (
    Account,
    Customer,
    KeyChange,
    Meter,
    NoticeWatermark,
    Sale,
)
from stsvend.vending.money import Money

__all__ = [
    "DEFAULT_CHANNELS",
    "OVERLAP",
    "enqueue_work_order_status",
    "grouped",
    "message_id",
    "notice_channels",
    "scan",
]

#: How far before its watermark a scan starts (a transaction open longer is not expected).
OVERLAP = timedelta(minutes=10)
DEFAULT_CHANNELS = ("file",)
_PAGE = 500
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
SALE, ACCOUNT, CUSTOMER = table_of(Sale), table_of(Account), table_of(Customer)
METER, KEY_CHANGE, WATERMARK = table_of(Meter), table_of(KeyChange), table_of(NoticeWatermark)


def message_id(event: str, *parts: object, channel: str) -> str:
    """The stable id of the notice of one event on one channel (letters, digits, ``-``, ``_``
    and dots: it goes into mail headers as it is)."""
    return ".".join(_SAFE.sub("-", str(p)) for p in ("stsvend", event, *parts, channel))


def grouped(digits: str) -> str:
    """Token digits in groups of four, as a meter's keypad reads them."""
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def notice_channels(config: Config) -> tuple[str, ...]:
    """The channels notices go out on (``channels`` of ``[adapters.worker.notify]``)."""
    table = config.adapter_settings("worker", "notify") or {}
    channels = table.get("channels", list(DEFAULT_CHANNELS))
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        raise InputError("[adapters.worker.notify] channels is a list of channel names")
    return tuple(channels)


def _watermark(conn: Connection, name: str) -> datetime | None:
    row = conn.execute(select(WATERMARK.c.at).where(WATERMARK.c.name == name)).first()
    return None if row is None else row[0]


def _move(conn: Connection, name: str, at: datetime) -> None:
    if _watermark(conn, name) is None:
        conn.execute(WATERMARK.insert().values(name=name, at=at))
    else:
        conn.execute(WATERMARK.update().where(WATERMARK.c.name == name).values(at=at))


def _put(conn: Connection, channels: Sequence[str], refused: set[tuple[int, str]], event: str,
         parts: Sequence[object], kind: str, customer_id: int, params: Mapping[str, Any],
         now: datetime) -> int:  # fmt: skip
    added = 0
    for channel in channels:
        if (customer_id, channel) in refused:
            continue
        added += enqueue(conn, message_id=message_id(event, *parts, channel=channel),
                         channel=channel, kind=kind, customer_id=customer_id, params=params,
                         now=now)  # fmt: skip
    return added


def _money(minor: int, currency: str) -> str:
    return str(Money(int(minor), currency))


def _units(tenths: int, unit: str) -> str:
    return f"{int(tenths) / 10:.1f} {unit}"


def _sale_params(sale_id: int, doc: Mapping[str, Any]) -> dict[str, str]:
    tokens = [f"{t.get('label', 'Token')}: {grouped(str(t['digits']))}"
              for t in doc.get("tokens", ()) if t.get("digits")]  # fmt: skip
    money = doc.get("money") or {}
    currency = str(money.get("currency", "USD"))
    return {
        "receipt": str(sale_id),
        "date": str(doc.get("local_time", doc.get("at", "")))[:16].replace("T", " "),
        "meter": str((doc.get("meter") or {}).get("drn", "")),
        "contract": str(doc.get("contract", "")),
        "amount": _money(int(money.get("tendered", 0)), currency),
        "units": _units(int(doc.get("units", 0)), str(doc.get("unit", "kWh"))),
        "tokens": "\n".join(tokens),
    }


def _scan_sales(conn: Connection, channels: Sequence[str], now: datetime) -> int:
    since = _watermark(conn, "sales")
    start = (since - OVERLAP) if since is not None else datetime.min.replace(tzinfo=now.tzinfo)
    added, after, newest = 0, (start, -1), since
    while True:
        rows = conn.execute(
            select(SALE.c.id, SALE.c.kind, SALE.c.created_at, SALE.c.result, ACCOUNT.c.customer_id)
            .join(ACCOUNT, ACCOUNT.c.id == SALE.c.account_id)
            .where(and_(SALE.c.kind.in_(("credit", "emergency")),
                        tuple_(SALE.c.created_at, SALE.c.id) > tuple_(*after)))
            .order_by(SALE.c.created_at, SALE.c.id).limit(_PAGE)
        ).all()  # fmt: skip
        refused = opt_outs(conn, sorted({int(r.customer_id) for r in rows}))
        for row in rows:
            kind = "receipt" if row.kind == "credit" else "emergency_credit"
            added += _put(conn, channels, refused, "sale", [row.id], kind, int(row.customer_id),
                          _sale_params(int(row.id), row.result), now)  # fmt: skip
            newest = row.created_at if newest is None else max(newest, row.created_at)
        if len(rows) < _PAGE:
            break
        after = (rows[-1].created_at, rows[-1].id)
    _move(conn, "sales", max(now, newest) if newest is not None else now)
    return added


def _scan_key_changes(conn: Connection, channels: Sequence[str], now: datetime) -> int:
    since = _watermark(conn, "key_changes")
    start = (since - OVERLAP) if since is not None else datetime.min.replace(tzinfo=now.tzinfo)
    rows = conn.execute(
        select(KEY_CHANGE.c.id, KEY_CHANGE.c.reason, KEY_CHANGE.c.created_at, METER.c.drn,
               ACCOUNT.c.customer_id)
        .join(METER, METER.c.id == KEY_CHANGE.c.meter_id)
        .join(ACCOUNT, and_(ACCOUNT.c.meter_id == METER.c.id, ACCOUNT.c.closed_at.is_(None)))
        .where(and_(KEY_CHANGE.c.state == "pending", KEY_CHANGE.c.created_at >= start))
    ).all()  # fmt: skip
    refused = opt_outs(conn, sorted({int(r.customer_id) for r in rows}))
    added, newest = 0, since
    for row in rows:
        params = {"meter": row.drn, "reason": str(row.reason).split(":")[0]}
        added += _put(conn, channels, refused, "key-change", [row.id], "key_change",
                      int(row.customer_id), params, now)  # fmt: skip
        newest = row.created_at if newest is None else max(newest, row.created_at)
    _move(conn, "key_changes", max(now, newest) if newest is not None else now)
    return added


def _scan_daily(conn: Connection, channels: Sequence[str], now: datetime, currency: str,
                low_credit_days: int) -> int:  # fmt: skip
    last = _watermark(conn, "daily")
    if last is not None and now - last < timedelta(days=1):
        return 0
    added = 0
    month = now.strftime("%Y-%m")
    debtors = conn.execute(
        select(ACCOUNT.c.id, ACCOUNT.c.customer_id, ACCOUNT.c.contract_number, ACCOUNT.c.debt)
        .where(and_(ACCOUNT.c.closed_at.is_(None), ACCOUNT.c.debt > 0))
    ).all()  # fmt: skip
    refused = opt_outs(conn, sorted({int(r.customer_id) for r in debtors}))
    for row in debtors:
        params = {"contract": row.contract_number, "debt": _money(row.debt, currency)}
        added += _put(conn, channels, refused, "debt", [row.id, month], "debt",
                      int(row.customer_id), params, now)  # fmt: skip
    latest = (select(func.max(SALE.c.id).label("sale_id")).where(SALE.c.kind == "credit")
              .group_by(SALE.c.account_id).subquery())  # fmt: skip
    quiet = conn.execute(
        select(SALE.c.id, SALE.c.result, ACCOUNT.c.id.label("account_id"), ACCOUNT.c.customer_id)
        .join(latest, latest.c.sale_id == SALE.c.id)
        .join(ACCOUNT, and_(ACCOUNT.c.id == SALE.c.account_id, ACCOUNT.c.closed_at.is_(None)))
        .where(SALE.c.created_at < now - timedelta(days=low_credit_days))
    ).all()  # fmt: skip
    refused = opt_outs(conn, sorted({int(r.customer_id) for r in quiet}))
    for row in quiet:
        sale = _sale_params(int(row.id), row.result)
        params = {k: sale[k] for k in ("meter", "date", "units", "contract")}
        added += _put(conn, channels, refused, "low-credit", [row.account_id, row.id],
                      "low_credit", int(row.customer_id), params, now)  # fmt: skip
    _move(conn, "daily", now)
    return added


def scan(svc: Services, channels: Sequence[str] | None = None, *,
         low_credit_days: int = 30) -> int:  # fmt: skip
    """One producer round: the number of notices added to the outbox."""
    wanted = tuple(channels) if channels is not None else notice_channels(svc.config)
    now = svc.now()
    with svc.store.transaction() as conn:
        added = _scan_sales(conn, wanted, now)
        added += _scan_key_changes(conn, wanted, now)
        added += _scan_daily(conn, wanted, now, svc.config.currency, low_credit_days)
    return added


def enqueue_work_order_status(
    svc: Services, customer_number: str, order: str, status: str, *, detail: str = "",
    channels: Sequence[str] | None = None,
) -> int:  # fmt: skip
    """Notify a customer that work order ``order`` is now ``status`` (once per order and status,
    however often it is called); the number of notices added."""
    order, status = order.strip(), status.strip()
    if not order or not status or len(order) > 40 or len(status) > 40:
        raise InputError("a work order notice needs an order number and a status (1-40 chars)")
    wanted = tuple(channels) if channels is not None else notice_channels(svc.config)
    now = svc.now()
    with svc.store.transaction() as conn:
        row = conn.execute(
            select(CUSTOMER.c.id).where(CUSTOMER.c.customer_number == customer_number)
        ).first()
        if row is None:
            raise RecordNotFoundError("no such customer")
        refused = opt_outs(conn, [int(row[0])])
        params = {"order": order, "status": status, "detail": detail.strip()[:200]}
        return _put(conn, wanted, refused, "work-order", [order, status],
                    "work_order", int(row[0]), params, now)  # fmt: skip
