"""Daily and monthly reports (in the utility's time zone), from the sales and their ledger.

Each is one frozen value (:class:`DailyReport`, :class:`MonthlyReport`); amounts are in the
currency's minor units, units in the meters' base units (Wh for electricity).  Its JSON form
is :func:`~stsvend.services.results.as_doc` of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Self

import attrs
from sqlalchemy import and_, func, select

from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.results import doc_key
from stsvend.store.models import LedgerEntry, Sale, TokenLog
from stsvend.store.repos.sales import sale_totals
from stsvend.vending.roles import Action

__all__ = [
    "DailyReport",
    "DayTotals",
    "KindTotals",
    "LedgerTotal",
    "MonthlyReport",
    "OperatorTotals",
    "SalesReport",
    "TokenCount",
    "daily_report",
    "monthly_report",
]


@attrs.frozen
class KindTotals:
    """The sales of one kind (credit, refund, free issue...) in the period."""

    #: The kind of sale (``credit``, ``refund``, ``free_issue``...).
    kind: str
    #: How many sales.
    count: int
    #: Their amount, in the currency's minor units.
    amount: int
    #: Their units, in base units (Wh, litres...).
    units: int
    #: How many of them were reversed since.
    reversed: int
    #: How many of them were made on TEST keys.
    test: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Self:
        """From a row of ``sale_totals`` (grouped by operator or day for the subclasses)."""
        return cls(**{f.name: row[f.name] for f in attrs.fields(cls)})


@attrs.frozen
class OperatorTotals(KindTotals):
    """The sales of one kind by one operator."""

    #: The operator's name.
    operator: str


@attrs.frozen
class DayTotals(KindTotals):
    """The sales of one kind on one local day."""

    #: The local day (YYYY-MM-DD).
    day: str


@attrs.frozen
class LedgerTotal:
    """One ledger entry kind's sums over the period's sales."""

    #: The ledger entry (``energy``, ``tax``, ``debt_recovery``...).
    entry: str
    #: Its amount, in the currency's minor units.
    amount: int
    #: Its units, in base units.
    units: int


@attrs.frozen
class TokenCount:
    """How many tokens of one class and purpose were issued in the period."""

    #: The STS token class (0 credit, 1 test, 2 management; None for a log row without one).
    class_: int | None = attrs.field(metadata=doc_key("class"))
    #: Why it was issued (``sale``, ``key_change``, ``free_issue``...; None if not recorded).
    purpose: str | None
    #: How many.
    count: int


@attrs.frozen
class SalesReport:
    """What a daily and a monthly report both hold."""

    #: The period's start (ISO 8601, the utility's time zone).
    from_: str = attrs.field(metadata=doc_key("from"))
    #: The period's end, excluded (ISO 8601, the utility's time zone).
    until: str
    #: The currency (ISO 4217 code) of every amount.
    currency: str
    #: The utility's name.
    utility: str
    #: The sales by kind.
    by_kind: tuple[KindTotals, ...]
    #: The ledger's sums by entry.
    ledger: tuple[LedgerTotal, ...]
    #: The tokens issued, by class and purpose.
    tokens: tuple[TokenCount, ...]
    #: The VAT the sales contain, in the currency's minor units.
    tax: int


@attrs.frozen
class DailyReport(SalesReport):
    """The sales of one local day."""

    #: The day (YYYY-MM-DD).
    day: str
    #: The sales by operator and kind.
    by_operator: tuple[OperatorTotals, ...]


@attrs.frozen
class MonthlyReport(SalesReport):
    """The sales of one local calendar month."""

    #: The month (YYYY-MM).
    month: str
    #: The sales by local day and kind.
    by_day: tuple[DayTotals, ...]


def _bounds(svc: Services, first: date, after: date) -> tuple[datetime, datetime]:
    zone = svc.config.zone
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(after, time(0), tzinfo=zone),
    )


def _report(
    svc: Services, since: datetime, until: datetime, by: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fields both reports have, and the rows grouped ``by`` operator or day."""
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
    common = {
        "from_": since.isoformat(),
        "until": until.isoformat(),
        "currency": svc.config.currency,
        "utility": svc.config.utility_name,
        "by_kind": tuple(KindTotals.of(k) for k in kinds),
        "ledger": tuple(LedgerTotal(e, int(a or 0), int(u or 0)) for e, a, u in ledger),
        "tokens": tuple(TokenCount(c, p, int(n)) for c, p, n in tokens),
        "tax": int(tax),
    }
    return common, grouped


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


def daily_report(svc: Services, actor: Actor, day: str | None = None) -> DailyReport:
    """Sales of one local day, by kind and by operator; the ledger; tokens by class."""
    authorize(svc, actor, Action.REPORTS)
    which = svc.now().astimezone(svc.config.zone).date() if day is None else _day(day)
    since, until = _bounds(svc, which, which + timedelta(days=1))
    common, grouped = _report(svc, since, until, "operator")
    by_operator = tuple(OperatorTotals.of(g) for g in grouped)
    return DailyReport(day=which.isoformat(), by_operator=by_operator, **common)


def monthly_report(svc: Services, actor: Actor, month: str | None = None) -> MonthlyReport:
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
    common, grouped = _report(svc, since, until, "day")
    by_day = tuple(DayTotals.of(g) for g in grouped)
    return MonthlyReport(month=first.strftime("%Y-%m"), by_day=by_day, **common)
