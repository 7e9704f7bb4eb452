"""Daily and monthly reports (in the utility's time zone), from the sales and their ledger."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.models import LedgerEntry, Sale, TokenLog
from stsvend.store.repos.sales import sale_totals
from stsvend.vending.roles import Action

__all__ = ["daily_report", "monthly_report"]


def _bounds(svc: Services, first: date, after: date) -> tuple[datetime, datetime]:
    zone = svc.config.zone
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(after, time(0), tzinfo=zone),
    )


def _report(svc: Services, since: datetime, until: datetime, by: str) -> dict[str, Any]:
    with svc.store.transaction() as conn:
        kinds = sale_totals(conn, since=since, until=until)
        grouped = sale_totals(conn, since=since, until=until, group_by=by)
        ledger = conn.execute(
            select(LedgerEntry.entry, func.sum(LedgerEntry.amount), func.sum(LedgerEntry.units))
            .join(Sale, Sale.id == LedgerEntry.sale_id)
            .where(and_(Sale.created_at >= since, Sale.created_at < until))
            .group_by(LedgerEntry.entry)
            .order_by(LedgerEntry.entry)
        ).all()
        tokens = conn.execute(
            select(TokenLog.token_class, TokenLog.purpose, func.count())
            .where(and_(TokenLog.at >= since, TokenLog.at < until, TokenLog.event == "token"))
            .group_by(TokenLog.token_class, TokenLog.purpose)
            .order_by(TokenLog.token_class, TokenLog.purpose)
        ).all()
        tax = conn.execute(
            select(func.coalesce(func.sum(Sale.tax), 0)).where(
                and_(Sale.created_at >= since, Sale.created_at < until)
            )
        ).scalar_one()
    return {
        "from": since.isoformat(),
        "until": until.isoformat(),
        "currency": svc.config.currency,
        "utility": svc.config.utility_name,
        "by_kind": kinds,
        f"by_{by}": grouped,
        "ledger": [{"entry": e, "amount": int(a or 0), "units": int(u or 0)} for e, a, u in ledger],
        "tokens": [{"class": c, "purpose": p, "count": int(n)} for c, p, n in tokens],
        "tax": int(tax),
    }


# ASCII digits only ([0-9]); years 1900 to 9998, so that the bounds of any day, in any time
# zone and in UTC, are dates too.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def _day(text: str) -> date:
    try:
        if not isinstance(text, str) or not _DAY.fullmatch(text):
            raise ValueError(text)
        which = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"a day is YYYY-MM-DD, got {text!r}") from None
    if not 1900 <= which.year <= 9998:
        raise InputError(f"reports cover the years 1900 to 9998, got {text!r}")
    return which


def daily_report(svc: Services, actor: Actor, day: str | None = None) -> dict[str, Any]:
    """Sales of one local day, by kind and by operator; the ledger; tokens by class."""
    authorize(svc, actor, Action.REPORTS)
    which = svc.now().astimezone(svc.config.zone).date() if day is None else _day(day)
    since, until = _bounds(svc, which, which + timedelta(days=1))
    return {"day": which.isoformat(), **_report(svc, since, until, "operator")}


def monthly_report(svc: Services, actor: Actor, month: str | None = None) -> dict[str, Any]:
    """Sales of one local calendar month, by kind and by day."""
    authorize(svc, actor, Action.REPORTS)
    if month is None:
        first = svc.now().astimezone(svc.config.zone).date().replace(day=1)
    elif isinstance(month, str) and _MONTH.fullmatch(month):
        first = _day(f"{month}-01")
    else:
        raise InputError(f"a month is YYYY-MM, got {month!r}")
    after = (first + timedelta(days=32)).replace(day=1)
    since, until = _bounds(svc, first, after)
    return {"month": first.strftime("%Y-%m"), **_report(svc, since, until, "day")}
