"""The billing export's reconciliation: its figures against the ledger and the token log.

Each rule compares two sources that are written apart, account by account over the period's
sales (a reversal counting on the day it was made); the export is reconciled when all hold:

* ``ledger_balanced``: every sale's ledger lines sum to zero;
* ``payments``: the ledger's payment lines equal the money of the sales (purchases less
  refunds);
* ``units``: the ledger's units equal the units of the sales;
* ``money_accounted``: payments and credit brought forward equal the charges, repayments and
  credit carried forward (not one cent unaccounted);
* ``energy_blocks``: the energy by block (read from each purchase's receipt) equals the
  ledger's energy lines of those purchases, money and units;
* ``token_log_units``: the credit tokens the token log holds for the period (less the tokens it
  marks reversed) carry the units of the sales;
* ``token_log_records``: every sale of the period is recorded by its meter's chain with the
  digest of its row and its ledger lines as they are now (``stsvend log verify`` checks those
  records' MACs).

>>> compare("units", "rule", {1: 5}, {1: 5, 2: 0}, {1: "C-1", 2: "C-2"}).ok
True
>>> compare("units", "rule", {1: 5}, {1: 4}, {1: "C-1"}).findings
('C-1: 5 against 4',)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from stsvend.errors import StsError
from stsvend.services.billing import AccountFigures, Check, Period, ledger_sums
from stsvend.store.models import Account, LedgerEntry, Sale, SaleRecord, TokenLog
from stsvend.tokenlog.audit import RecordRow, check_sale
from stsvend.tokenlog.oplog import read_boundary
from stsvend.tokenlog.records import SALE_FIELDS, SALE_POINT_FIELDS
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["RULES", "NotReconciled", "compare", "failures", "reconcile"]

RULES: dict[str, str] = {
    "ledger_balanced": "every sale's ledger lines sum to zero",
    "payments": "ledger payment lines = purchases less refunds",
    "units": "ledger units = units of the sales",
    "money_accounted": "payments + credit brought forward = energy + fixed charges + emergency "
    "repaid + debt recovered + credit carried forward",
    "energy_blocks": "energy by block (receipts) = ledger energy of the purchases",
    "token_log_units": "credit tokens in the token log less those marked reversed = units",
    "token_log_records": "every sale is recorded by its chain with its current digest",
}
_CREDIT_PURPOSES = tuple(p.value for p in TokenPurpose if p.is_credit)


def compare(
    name: str,
    rule: str,
    found: Mapping[int | None, Any],
    expected: Mapping[int | None, Any],
    names: Mapping[int | None, str],
) -> Check:
    """A check that ``found`` equals ``expected`` account by account (a missing one is 0)."""
    findings = []
    for account in sorted(set(found) | set(expected), key=lambda a: (a is None, a or 0)):
        got, want = found.get(account, 0), expected.get(account, 0)
        if got != want:
            label = names.get(account, "no account" if account is None else f"account #{account}")
            findings.append(f"{label}: {got} against {want}")
    return Check(name, rule, not findings, tuple(findings))


def _period(period: Period) -> Any:
    return and_(Sale.created_at >= period.since, Sale.created_at < period.until,
                Sale.account_id.is_not(None))  # fmt: skip


def _unbalanced(conn: Connection, period: Period) -> Check:
    stmt = (
        select(LedgerEntry.sale_id, func.sum(LedgerEntry.amount))
        .join(Sale, Sale.id == LedgerEntry.sale_id)
        .where(_period(period))
        .group_by(LedgerEntry.sale_id)
        .having(func.sum(LedgerEntry.amount) != 0)
        .order_by(LedgerEntry.sale_id)
    )
    findings = tuple(f"receipt {sale}: its lines sum to {int(total)}"
                     for sale, total in conn.execute(stmt))  # fmt: skip
    return Check("ledger_balanced", RULES["ledger_balanced"], not findings, findings)


def _ledger(conn: Connection, period: Period) -> dict[str, dict[int | None, Any]]:
    by: dict[str, dict[int | None, Any]] = defaultdict(lambda: defaultdict(int))
    for account, lines in ledger_sums(conn, period).items():
        for (entry, basis), (amount, units) in lines.items():
            if entry == "payment":
                by["payments"][account] += amount
            by["units"][account] += units
            if entry == "energy" and basis == "credit":
                prev = by["energy"].get(account, (0, 0))
                by["energy"][account] = (prev[0] - amount, prev[1] + units)
    return by


def _token_units(conn: Connection, period: Period) -> dict[int | None, int]:
    """account → units of its credit tokens in the period, less those marked reversed."""
    sign = case((TokenLog.event == "reversal", -TokenLog.amount), else_=TokenLog.amount)
    stmt = (
        select(Sale.account_id, func.sum(sign))
        .select_from(TokenLog)
        .outerjoin(Sale, Sale.id == TokenLog.sale_id)
        .where(TokenLog.at >= period.since, TokenLog.at < period.until,
               TokenLog.token_class == 0, TokenLog.purpose.in_(_CREDIT_PURPOSES),
               TokenLog.event.in_(("token", "reversal")))
        .group_by(Sale.account_id)
    )  # fmt: skip
    return {account: int(units or 0) for account, units in conn.execute(stmt)}


def _records(conn: Connection, period: Period) -> Check:
    columns = [getattr(Sale, n) for n in (*SALE_FIELDS, *SALE_POINT_FIELDS)]
    sales = [dict(r._mapping) for r in conn.execute(select(*columns).where(_period(period)))]
    ids = [s["id"] for s in sales]
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    recorded: dict[int, RecordRow] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        stmt = (select(LedgerEntry.sale_id, LedgerEntry.account_id, LedgerEntry.entry,
                       LedgerEntry.amount, LedgerEntry.units)
                .where(LedgerEntry.sale_id.in_(chunk)).order_by(LedgerEntry.id))  # fmt: skip
        for row in conn.execute(stmt):
            lines[row.sale_id].append(dict(row._mapping))
        stmt2 = select(SaleRecord.chain, SaleRecord.seq, SaleRecord.id, SaleRecord.sale_id,
                       SaleRecord.digest).where(SaleRecord.sale_id.in_(chunk))  # fmt: skip
        for r in conn.execute(stmt2):
            recorded[r.sale_id] = RecordRow(r.chain, r.seq, r.id, r.sale_id, r.digest)
    boundary = read_boundary(conn)
    below = 0 if boundary is None else boundary.sale
    findings = []
    for sale in sales:
        for f in check_sale(sale["id"], recorded.get(sale["id"]), [sale],
                            lines.get(sale["id"], []), below):  # fmt: skip
            findings.append(f.message)
    return Check("token_log_records", RULES["token_log_records"], not findings, tuple(findings))


def reconcile(
    conn: Connection, period: Period, figures: Mapping[int, AccountFigures],
    totals: AccountFigures,
) -> tuple[Check, ...]:  # fmt: skip
    """Every rule of the module's list, in its order."""
    del totals  # the totals are the accounts' sums: checking each account checks them
    ids = set(figures)
    names: dict[int | None, str] = {}
    if ids:
        stmt = select(Account.id, Account.contract_number).where(Account.id.in_(sorted(ids)))
        names = {a: c for a, c in conn.execute(stmt)}
    ledger = _ledger(conn, period)
    f = figures

    def of(fn: Any) -> dict[int | None, Any]:
        return {a: fn(v) for a, v in f.items()}

    blocks = of(lambda v: (sum(b.amount for b in v.energy_by_block),
                           sum(b.units for b in v.energy_by_block)))  # fmt: skip
    energy = {a: v for a, v in ledger["energy"].items()}
    for a in set(blocks) - set(energy):
        energy[a] = (0, 0)
    for a in set(energy) - set(blocks):
        blocks[a] = (0, 0)
    money_in = of(lambda v: v.purchase_amount - v.reversed_amount + v.credit_brought_forward)
    money_out = of(lambda v: v.energy_charge + v.fixed_charges + v.emergency_repaid
                   + v.debt_recovered + v.credit_carried_forward)  # fmt: skip
    return (
        _unbalanced(conn, period),
        compare("payments", RULES["payments"], ledger["payments"],
                of(lambda v: v.purchase_amount - v.reversed_amount), names),
        compare("units", RULES["units"], ledger["units"], of(lambda v: v.units), names),
        compare("money_accounted", RULES["money_accounted"], money_in, money_out, names),
        compare("energy_blocks", RULES["energy_blocks"], blocks, energy, names),
        compare("token_log_units", RULES["token_log_units"], _token_units(conn, period),
                of(lambda v: v.units), names),
        _records(conn, period),
    )  # fmt: skip


class NotReconciled(StsError):
    """The billing export's figures do not reconcile with the ledger and the token log."""

    code = "not_reconciled"
    default_message = "the billing export does not reconcile"


def failures(checks: tuple[Check, ...]) -> list[str]:
    """One line per finding of every failed check (``rule: finding``)."""
    return [f"{c.name}: {finding}" for c in checks if not c.ok for finding in c.findings]
