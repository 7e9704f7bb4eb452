"""A vendor's money over a period: the float statement and the daily settlement file.

The statement is the vendor's float ledger from one local day to another: the opening balance,
every line (deposit, sale, commission, reversal, commission reversal) with the balance after
it, the totals by entry and the closing balance.  Staff read any vendor's
(:func:`stsvend.services.vendors.statement`); a terminal reads its own vendor's only
(:func:`terminal_statement`).  The settlement file is one local day's statement as CSV
(:func:`settlement` and :func:`settlement_csv`; its columns are in docs/vendors.md).

>>> parse_day("2026-03-10", "the day"), parse_day(None, "the day")
(datetime.date(2026, 3, 10), None)
>>> parse_day("9999-12-31", "the day")
Traceback (most recent call last):
...
stsvend.errors.InputError: the day is a day of the years 1900 to 9998, got '9999-12-31'
>>> vendor_code(" shop-1 ")
'SHOP-1'
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta

from attrs import frozen
from sqlalchemy.engine import Connection

from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.terminals import TerminalIdentity, Unauthenticated
from stsvend.store.repos import vendors as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.money import Money
from stsvend.vending.roles import Action

__all__ = [
    "ENTRIES",
    "SETTLEMENT_COLUMNS",
    "TERMINAL_STATEMENT_DAYS",
    "Statement",
    "StatementLine",
    "build_statement",
    "parse_day",
    "settlement",
    "settlement_csv",
    "staff_statement",
    "terminal_statement",
    "vendor_code",
]

#: The float ledger's entries, in the order a settlement file totals them.
ENTRIES = ("deposit", "sale", "commission", "reversal", "commission_reversal")
#: The longest period (days) a terminal's statement covers.
TERMINAL_STATEMENT_DAYS = 31
#: The settlement file's columns (docs/vendors.md).
SETTLEMENT_COLUMNS = ("vendor", "day", "currency", "record", "at", "entry", "amount", "count",
                      "receipt", "purchase_id", "reference", "recorded_by", "balance")  # fmt: skip
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The years a day may be in (as the reports'); beyond, a day's bounds overflow.
_FIRST_YEAR, _LAST_YEAR = 1900, 9998


@frozen
class StatementLine:
    at: str
    #: ``deposit``, ``sale``, ``commission``, ``reversal`` or ``commission_reversal``.
    entry: str
    #: Minor units, signed: what the line did to the float.
    amount: int
    sale: int | None
    reference: str | None
    recorded_by: str
    #: The float after this line.
    balance: int
    #: The vendor's purchase id of the line's sale (a reversal's lines name the sale reversed).
    purchase_id: str | None = None


@frozen
class Statement:
    """A vendor's float over a period: opening balance, every movement, closing balance."""

    vendor: str
    currency: str
    #: The first day and the last (None: from the start / to now).
    since: str | None
    until: str | None
    opening: int
    lines: tuple[StatementLine, ...]
    #: Totals by entry, in minor units.
    totals: Mapping[str, int]
    closing: int


def vendor_code(text: str) -> str:
    """A vendor's code as typed, checked and upper-cased."""
    value = text.strip() if isinstance(text, str) else ""
    if not _CODE.fullmatch(value):
        raise InputError("a vendor code is 1-32 letters, digits and dashes, starting with one")
    return value.upper()


def parse_day(text: str | None, what: str) -> date | None:
    """A day as YYYY-MM-DD (None stays None)."""
    if text is None:
        return None
    if not (isinstance(text, str) and _DAY.fullmatch(text)):
        raise InputError(f"{what} is a day, YYYY-MM-DD, got {text!r}")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} is a day, YYYY-MM-DD, got {text!r}") from None
    # The calendar's first and last days have no local midnight before or after them.
    if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
        raise InputError(f"{what} is a day of the years {_FIRST_YEAR} to {_LAST_YEAR}, "
                         f"got {text!r}")  # fmt: skip
    return day


def _period(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    first, last = parse_day(since, "the first day"), parse_day(until, "the last day")
    if first is not None and last is not None and last < first:
        raise InputError("the last day is before the first")
    return first, last


def build_statement(
    svc: Services, vendor_of: Callable[[Connection], repo.VendorRecord],
    first: date | None, last: date | None,
) -> Statement:  # fmt: skip
    """The statement of the vendor ``vendor_of`` finds, from day ``first`` to day ``last``
    (both included, in the store's time zone; None: open)."""
    zone = svc.config.zone
    start = None if first is None else datetime.combine(first, time(), zone)
    end = None if last is None else datetime.combine(last + timedelta(days=1), time(), zone)
    with svc.store.transaction() as conn:
        vendor = vendor_of(conn)
        opening, rows = repo.ledger_lines(conn, vendor.id, since=start, until=end)
    balance, lines, totals = opening, [], dict[str, int]()
    for row in rows:
        balance += row.amount
        totals[row.entry] = totals.get(row.entry, 0) + row.amount
        lines.append(StatementLine(row.at.isoformat(), row.entry, row.amount, row.sale_id,
                                   row.reference, row.recorded_by, balance,
                                   row.purchase_id))  # fmt: skip
    return Statement(vendor.code, vendor.currency,
                     None if first is None else first.isoformat(),
                     None if last is None else last.isoformat(),
                     opening, tuple(lines), totals, balance)  # fmt: skip


def staff_statement(svc: Services, actor: Actor, code: str, since: str | None,
                    until: str | None) -> Statement:  # fmt: skip
    """Any vendor's statement, for staff who may view vendors."""
    authorize(svc, actor, Action.VENDORS_VIEW)
    first, last = _period(since, until)
    wanted = vendor_code(code)
    return build_statement(svc, lambda conn: repo.get_vendor(conn, wanted), first, last)


def terminal_statement(
    svc: Services, who: TerminalIdentity, *, since: str | None = None, until: str | None = None
) -> Statement:
    """The statement of the terminal's own vendor (every terminal may read it), from day
    ``since`` to day ``until``: both default to today (local), and the period is at most
    :data:`TERMINAL_STATEMENT_DAYS` days."""
    today = svc.now().astimezone(svc.config.zone).date()
    first, last = _period(since, until)
    if last is None:
        last = today if first is None else max(first, today)
    if first is None:
        first = last
    if (last - first).days >= TERMINAL_STATEMENT_DAYS:
        raise InputError(f"a statement covers at most {TERMINAL_STATEMENT_DAYS} days")

    def own(conn: Connection) -> repo.VendorRecord:
        vendor = repo.vendor_by_id(conn, who.vendor_id)
        if vendor is None:
            raise Unauthenticated()
        return vendor

    return build_statement(svc, own, first, last)


def settlement(svc: Services, actor: Actor, code: str, day: str) -> Statement:
    """One local day of a vendor's float, for its settlement file (staff who may view
    vendors; the export is in the operation log)."""
    authorize(svc, actor, Action.VENDORS_VIEW)
    wanted, when = vendor_code(code), parse_day(day, "the day")
    if when is None:
        raise InputError("a settlement is for one day, YYYY-MM-DD")
    made = build_statement(svc, lambda conn: repo.get_vendor(conn, wanted), when, when)
    with svc.store.transaction() as conn:
        log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                      action="vendors.settlement", target=made.vendor,
                      detail={"day": made.since, "lines": len(made.lines)})  # fmt: skip
    return made


def _text(value: str | None) -> str:
    # A spreadsheet reads a cell starting with = + - @ as a formula: text never starts so.
    if not value:
        return ""
    return "'" + value if value[0] in "=+-@\t\r" else value


def settlement_csv(day: Statement, zone_name: str) -> str:
    """The settlement file of a one-day statement: an ``opening`` row, one ``line`` row per
    ledger line, one ``total`` row per entry (all five, 0 where none), a ``closing`` row.
    Amounts in major units; times in the store's time zone ``zone_name``.

    >>> doc = Statement("SHOP1", "ZAR", "2026-03-10", "2026-03-10", 1000, (StatementLine(
    ...     "2026-03-10T08:00:00+00:00", "sale", -500, 7, None, "SHOP1/TILL-1", 500, "p-1"),),
    ...     {"sale": -500}, 500)
    >>> print(settlement_csv(doc, "Africa/Johannesburg").splitlines()[2])
    SHOP1,2026-03-10,ZAR,line,2026-03-10T10:00:00+02:00,sale,-5.00,,7,p-1,,SHOP1/TILL-1,5.00
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    assert day.since is not None and day.since == day.until
    first = date.fromisoformat(day.since)

    def local(at: datetime) -> str:
        return at.astimezone(zone).isoformat(timespec="seconds")

    def major(minor: int) -> str:
        return Money(minor, day.currency).format()

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SETTLEMENT_COLUMNS)
    head = [day.vendor, day.since, day.currency]
    start = local(datetime.combine(first, time(), zone))
    writer.writerow([*head, "opening", start, "", "", "", "", "", "", "", major(day.opening)])
    counts: dict[str, int] = {}
    for line in day.lines:
        counts[line.entry] = counts.get(line.entry, 0) + 1
        writer.writerow([*head, "line", local(datetime.fromisoformat(line.at)), line.entry,
                         major(line.amount), "", "" if line.sale is None else line.sale,
                         _text(line.purchase_id), _text(line.reference), _text(line.recorded_by),
                         major(line.balance)])  # fmt: skip
    for entry in (*ENTRIES, *sorted(set(counts) - set(ENTRIES))):
        writer.writerow([*head, "total", "", entry, major(day.totals.get(entry, 0)),
                         counts.get(entry, 0), "", "", "", "", ""])  # fmt: skip
    end = local(datetime.combine(first + timedelta(days=1), time(), zone))
    writer.writerow([*head, "closing", end, "", major(day.closing - day.opening),
                     len(day.lines), "", "", "", "", major(day.closing)])  # fmt: skip
    return out.getvalue()
