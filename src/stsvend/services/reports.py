"""Daily and monthly reports (in the utility's time zone), from the sales and their ledger."""

from __future__ import annotations

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


def daily_report(svc: Services, actor: Actor, day: str | None = None) -> dict[str, Any]:
    """Sales of one local day, by kind and by operator; the ledger; tokens by class."""
    authorize(svc, actor, Action.REPORTS)
    try:
        which = (
            svc.now().astimezone(svc.config.zone).date() if day is None else date.fromisoformat(day)
        )
    except ValueError:
        raise InputError(f"a day is YYYY-MM-DD, got {day!r}") from None
    since, until = _bounds(svc, which, which + timedelta(days=1))
    return {"day": which.isoformat(), **_report(svc, since, until, "operator")}


def monthly_report(svc: Services, actor: Actor, month: str | None = None) -> dict[str, Any]:
    """Sales of one local calendar month, by kind and by day."""
    authorize(svc, actor, Action.REPORTS)
    try:
        first = (
            svc.now().astimezone(svc.config.zone).date().replace(day=1)
            if month is None
            else date.fromisoformat(f"{month}-01")
        )
    except ValueError:
        raise InputError(f"a month is YYYY-MM, got {month!r}") from None
    after = (first + timedelta(days=32)).replace(day=1)
    since, until = _bounds(svc, first, after)
    return {"month": first.strftime("%Y-%m"), **_report(svc, since, until, "day")}
