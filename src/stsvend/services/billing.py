"""The billing export: what each account bought, was charged and repaid in a period of days.

One :class:`BillingExport` per period (local days of the utility's time zone, both included):
per account (:class:`AccountBilling`) the purchases, the units issued, the energy charge by
block, the fixed charges, the VAT contained, the debt recovered, the emergency credit granted
and repaid, and the reversals; the totals; and the reconciliation of those totals with the
ledger and the token log (:mod:`stsvend.services.billing_checks`).

Where each figure lives: the sales (``sale``: kind, amount, units, tax), their ledger lines
(``ledger_entry``: payment, fixed_charge, emergency_repayment, debt_recovery, energy,
emergency_advance, credit brought and carried forward), the energy lines' blocks in the
stored receipt of each credit sale (``sale.result``), and the tokens in ``token_log``.  A
reversal made in the period counts there, with its lines (the negated lines of the sale it
reverses), whatever day that sale was made.  Sums are made by the database, grouped by account.

Money is in minor units, units in tenths of the meter's unit.

>>> AccountFigures().energy_charge, figures_of({"debt_recovery": (-120, 0)}).debt_recovered
(0, 120)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from stsvend import sts
from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.documents import UNIT_NAMES
from stsvend.services.reports import _day
from stsvend.services.results import doc_key
from stsvend.store.models import Account, Customer, LedgerEntry, Meter, Sale
from stsvend.vending.roles import Action

__all__ = [
    "AccountBilling",
    "AccountFigures",
    "BillingExport",
    "BlockCharge",
    "Check",
    "Period",
    "billing_export",
    "figures_of",
    "parse_period",
]

#: The longest period one export covers (a year and a day: a leap year's whole).
MAX_DAYS = 367


@attrs.frozen
class Period:
    """The export's local days, both included, and their bounds in time (the end excluded)."""

    first: date
    last: date
    since: datetime
    until: datetime


def parse_period(svc: Services, first: str, last: str) -> Period:
    """``--from`` and ``--to`` (YYYY-MM-DD, local days, both included) as a :class:`Period`."""
    start, end = _day(first), _day(last)
    if start > end:
        raise InputError(f"the period's start {first} is after its end {last}")
    if (end - start).days >= MAX_DAYS:
        raise InputError(f"one export covers at most {MAX_DAYS} days")
    zone = svc.config.zone
    return Period(start, end, datetime.combine(start, time(0), tzinfo=zone),
                  datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone))  # fmt: skip


@attrs.frozen
class BlockCharge:
    """The energy of one tariff block: its charge (VAT included) and units."""

    block: int
    amount: int
    units: int


@attrs.frozen
class AccountFigures:
    """The figures of an account (or of all, the totals) in the period."""

    #: Credit purchases made in the period (reversed or not) and the money tendered for them.
    purchases: int = 0
    purchase_amount: int = 0
    #: Units issued, net: purchases, emergency credit and free issues, less those reversed.
    units: int = 0
    #: The energy charged to purchases (VAT included), net of reversals, and by block.
    energy_charge: int = 0
    energy_by_block: tuple[BlockCharge, ...] = ()
    fixed_charges: int = 0
    #: VAT contained in the charges (a memo: the charges include it).
    tax: int = 0
    debt_recovered: int = 0
    #: Emergency credit granted (its money: the units' price, a debt) and its units, net of
    #: reversals.
    emergency_granted: int = 0
    emergency_units: int = 0
    emergency_repaid: int = 0
    #: Units given free (free issues and the tariff's free basic units).
    free_units: int = 0
    #: Credit kept from earlier purchases and used here, and credit kept for the next ones.
    credit_brought_forward: int = 0
    credit_carried_forward: int = 0
    #: Reversals made in the period: how many, the money refunded and the units taken back.
    reversals: int = 0
    reversed_amount: int = 0
    reversed_units: int = 0

    def plus(self, other: AccountFigures) -> AccountFigures:
        """The sum of two sets of figures (the blocks summed block by block)."""
        values: dict[str, Any] = {}
        for f in attrs.fields(AccountFigures):
            if f.name != "energy_by_block":
                values[f.name] = getattr(self, f.name) + getattr(other, f.name)
        values["energy_by_block"] = merge_blocks(self.energy_by_block + other.energy_by_block)
        return AccountFigures(**values)


@attrs.frozen
class AccountBilling:
    """One account's figures and what identifies it to billing (no name, no address)."""

    #: The contract number, the CRM's customer number, the meter (DRN), the premise, and the
    #: meter's unit (kWh, m³, min: units are tenths of it).
    contract: str
    customer: str
    meter: str
    premise: str | None
    unit: str
    figures: AccountFigures


@attrs.frozen
class Check:
    """One reconciliation rule: what it compares, and the accounts where it fails."""

    name: str
    rule: str
    ok: bool
    #: What differs, one line each (an account's contract, the two sums).
    findings: tuple[str, ...] = ()


@attrs.frozen
class BillingExport:
    """The billing export of one period."""

    from_: str = attrs.field(metadata=doc_key("from"))
    to: str
    #: The period's bounds in time (ISO 8601, the end excluded).
    since: str
    until: str
    currency: str
    utility: str
    accounts: tuple[AccountBilling, ...]
    totals: AccountFigures
    checks: tuple[Check, ...]
    #: True when every check holds.
    reconciled: bool


def merge_blocks(blocks: Iterable[BlockCharge]) -> tuple[BlockCharge, ...]:
    """Blocks summed by number, in block order; a block that nets to nothing is left out."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for b in blocks:
        sums[b.block][0] += b.amount
        sums[b.block][1] += b.units
    return tuple(BlockCharge(n, a, u) for n, (a, u) in sorted(sums.items()) if a or u)


def figures_of(
    ledger: Mapping[str, tuple[int, int]],
    sales: Mapping[str, tuple[int, int, int, int]] | None = None,
    blocks: tuple[BlockCharge, ...] = (),
    emergency_energy: tuple[int, int] = (0, 0),
) -> AccountFigures:
    """An account's figures from its ledger sums (entry → amount, units), its sales' sums
    (kind → count, amount, units, tax), its purchases' energy blocks, and the energy (money,
    units) of its emergency credit, net of reversals."""
    sales = sales or {}

    def led(entry: str) -> int:
        return ledger.get(entry, (0, 0))[0]

    credit = sales.get("credit", (0, 0, 0, 0))
    reversal = sales.get("reversal", (0, 0, 0, 0))
    return AccountFigures(
        purchases=credit[0], purchase_amount=credit[1],
        units=sum(s[2] for s in sales.values()),
        energy_charge=-led("energy") - emergency_energy[0],
        energy_by_block=blocks, fixed_charges=-led("fixed_charge"),
        tax=sum(s[3] for s in sales.values()), debt_recovered=-led("debt_recovery"),
        emergency_granted=led("emergency_advance"), emergency_units=emergency_energy[1],
        emergency_repaid=-led("emergency_repayment"),
        free_units=ledger.get("free_units", (0, 0))[1] + ledger.get("free_issue", (0, 0))[1],
        credit_brought_forward=led("credit_brought_forward"),
        credit_carried_forward=-led("credit_carried_forward"),
        reversals=reversal[0], reversed_amount=-reversal[1], reversed_units=-reversal[2],
    )  # fmt: skip


def _in(period: Period) -> Any:
    return and_(Sale.created_at >= period.since, Sale.created_at < period.until,
                Sale.account_id.is_not(None))  # fmt: skip


def _basis() -> tuple[Any, Any]:
    """The sale a line's money comes from: the sale itself, or the one a reversal reverses."""
    original = aliased(Sale)
    return original, func.coalesce(original.kind, Sale.kind)


def ledger_sums(
    conn: Connection, period: Period
) -> dict[int, dict[tuple[str, str], tuple[int, int]]]:
    """account → (entry, kind of the sale behind it) → (amount, units), summed by the database."""
    original, basis = _basis()
    stmt = (
        select(Sale.account_id, LedgerEntry.entry, basis.label("basis"),
               func.sum(LedgerEntry.amount), func.sum(LedgerEntry.units))
        .join(Sale, Sale.id == LedgerEntry.sale_id)
        .outerjoin(original, original.id == Sale.reversal_of)
        .where(_in(period))
        .group_by(Sale.account_id, LedgerEntry.entry, basis)
    )  # fmt: skip
    out: dict[int, dict[tuple[str, str], tuple[int, int]]] = defaultdict(dict)
    for account, entry, kind, amount, units in conn.execute(stmt):
        out[account][(entry, kind)] = (int(amount or 0), int(units or 0))
    return out


def sale_sums(conn: Connection, period: Period) -> dict[int, dict[str, tuple[int, int, int, int]]]:
    """account → kind of sale → (count, amount, units, tax), summed by the database."""
    stmt = (
        select(Sale.account_id, Sale.kind, func.count(Sale.id), func.sum(Sale.amount),
               func.sum(Sale.units), func.sum(Sale.tax))
        .where(_in(period))
        .group_by(Sale.account_id, Sale.kind)
    )  # fmt: skip
    out: dict[int, dict[str, tuple[int, int, int, int]]] = defaultdict(dict)
    for account, kind, count, amount, units, tax in conn.execute(stmt):
        assert account is not None  # the period's sales are an account's (see _in)
        out[account][kind] = (int(count), int(amount or 0), int(units or 0), int(tax or 0))
    return out


def block_lines(conn: Connection, period: Period) -> dict[int, tuple[BlockCharge, ...]]:
    """account → its purchases' energy by block, net of reversals made in the period.

    The block of an energy line is on the sale's stored receipt only (its breakdown), so the
    receipts of the period's credit sales, and of the credit sales its reversals reverse, are
    read here; the ledger's energy lines check the result (:mod:`.billing_checks`).
    """
    original, basis = _basis()
    stmt = (
        select(Sale.account_id, Sale.kind, func.coalesce(original.result, Sale.result))
        .outerjoin(original, original.id == Sale.reversal_of)
        .where(_in(period), basis == "credit")
    )  # fmt: skip
    found: dict[int, list[BlockCharge]] = defaultdict(list)
    for account, kind, result in conn.execute(stmt):
        sign = -1 if kind == "reversal" else 1
        for line in (result.get("money") or {}).get("lines", ()):
            if line.get("kind") == "energy":
                found[account].append(BlockCharge(int(line["block"]), sign * int(line["amount"]),
                                                  sign * int(line["units"])))  # fmt: skip
    return {account: merge_blocks(blocks) for account, blocks in found.items()}


def _accounts(
    conn: Connection, ids: Iterable[int]
) -> dict[int, tuple[str, str, str, str | None, str]]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    stmt = (
        select(Account.id, Account.contract_number, Customer.customer_number, Meter.drn,
               Account.premise, Meter.resource)
        .join(Customer, Customer.id == Account.customer_id)
        .join(Meter, Meter.id == Account.meter_id)
        .where(Account.id.in_(wanted))
    )  # fmt: skip
    return {r[0]: (r[1], r[2], r[3], r[4], UNIT_NAMES[sts.Resource(r[5])])
            for r in conn.execute(stmt)}  # fmt: skip


def account_figures(conn: Connection, period: Period) -> dict[int, AccountFigures]:
    """Every account with a sale in the period, and its figures."""
    ledger, sales, blocks = ledger_sums(conn, period), sale_sums(conn, period), block_lines(
        conn, period)  # fmt: skip
    out = {}
    for account in sorted(set(ledger) | set(sales)):
        by_entry: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
        for (entry, _kind), (amount, units) in ledger.get(account, {}).items():
            a, u = by_entry[entry]
            by_entry[entry] = (a + amount, u + units)
        amount, units = ledger.get(account, {}).get(("energy", "emergency"), (0, 0))
        emergency_energy = (-amount, units)
        out[account] = figures_of(dict(by_entry), sales.get(account, {}),
                                  blocks.get(account, ()), emergency_energy)  # fmt: skip
    return out


def billing_export(svc: Services, actor: Actor, first: str, last: str) -> BillingExport:
    """The billing export of the local days ``first`` to ``last`` (both included), checked."""
    from stsvend.services.billing_checks import reconcile

    authorize(svc, actor, Action.REPORTS)
    period = parse_period(svc, first, last)
    with svc.store.transaction() as conn:
        figures = account_figures(conn, period)
        who = _accounts(conn, figures)
        accounts = tuple(AccountBilling(*who[a], figures=f) for a, f in figures.items())
        totals = AccountFigures()
        for item in accounts:
            totals = totals.plus(item.figures)
        checks = reconcile(conn, period, figures, totals)
    return BillingExport(
        from_=period.first.isoformat(), to=period.last.isoformat(),
        since=period.since.isoformat(), until=period.until.isoformat(),
        currency=svc.config.currency, utility=svc.config.utility_name,
        accounts=tuple(sorted(accounts, key=lambda a: a.contract)),
        totals=totals, checks=checks, reconciled=all(c.ok for c in checks),
    )  # fmt: skip
