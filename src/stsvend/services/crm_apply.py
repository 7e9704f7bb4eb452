"""One chunk of a CRM import, applied set-wise in the caller's transaction.

The chunk's customers, accounts and meters are looked up with one query each; each record is
then decided in memory (create, change, close, leave, or reject with a reason); the writes go
out in bulk: closes, new meters (on their default key, with their commissioning key changes),
new customers, changed accounts, new accounts.  A record is decided whole before anything is
written, so a rejected record writes nothing.

Moves-out are decided first, so that a meter freed by a move-out can go to a new contract in
the same chunk.  A contract listed twice in one chunk takes the first row; the later one is
rejected.

A record differs from its account when any field it carries does (the CRM is the source):

>>> from datetime import date
>>> rec = CrmRecord(2, "C-1", "K-1", "01234567897", "FLAT", premise="P-9")
>>> acct = _Account(7, "K-1", 3, 4, 5, None, "P-1", None, None, None, None, None)
>>> _differs(acct, rec, 5, 4, 3), _differs(acct._replace(premise="P-9"), rec, 5, 4, 3)
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from attrs import define, field
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.services.context import Actor, Services
from stsvend.services.crm_results import Rejection
from stsvend.services.crm_rows import CrmRecord
from stsvend.services.keychange.commission import commission_meters, commissioning_keys
from stsvend.store.base import table_of
from stsvend.store.bulk import bulk_insert
from stsvend.store.models import Account, Customer, Meter
from stsvend.store.repos.groups import SupplyGroupRecord
from stsvend.store.repos.meters import MeterRecord
from stsvend.tokenlog.writer import open_chains

__all__ = ["ChunkCounts", "ImportContext", "apply_chunk"]

#: The account's CRM fields a row may change (besides customer, meter and tariff).
CRM_FIELDS = ("premise", "contract_account", "installation", "division", "equipment", "move_in")
_ACCOUNT = table_of(Account)
_CUSTOMER = table_of(Customer)
_METER = table_of(Meter)
_CLOSE = update(Account).where(Account.id == bindparam("aid")).values(closed_at=bindparam("at"))
_CHANGE = (
    update(Account)
    .where(Account.id == bindparam("aid"))
    .values(
        customer_id=bindparam("cid"), meter_id=bindparam("mid"), tariff_id=bindparam("tid"),
        **{f: bindparam(f"v_{f}") for f in CRM_FIELDS},
    )
)  # fmt: skip


@define
class ImportContext:
    """What stays the same for a whole import."""

    now: datetime
    today: date
    request_id: str
    tariffs: dict[str, int]
    #: The supply group of new meters (``--supply-group``), unless a row names one.
    supply_group: int | None
    #: Supply groups by code, looked up once (None: not registered).
    groups: dict[int, SupplyGroupRecord | str] = field(factory=dict)
    #: The DKGA of each default key data, from the keystore, once.
    dkga: dict[sts.KeyData, str] = field(factory=dict)


@define
class ChunkCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    meters_added: int = 0
    closed: int = 0
    rejections: list[Rejection] = field(factory=list)


class _Account(NamedTuple):
    id: int
    contract_number: str
    customer_id: int
    meter_id: int
    tariff_id: int
    closed_at: Any
    premise: str | None
    contract_account: str | None
    installation: str | None
    division: str | None
    equipment: str | None
    move_in: date | None


_ACCOUNT_SQL = ", ".join(_Account._fields)


def _in(
    conn: Connection, columns: str, table: str, key: str, values: Sequence[Any], extra: str = ""
) -> list[Any]:
    """``SELECT columns FROM table WHERE key IN values`` as one driver statement: a chunk's
    lookup binds thousands of values, which SQLAlchemy's expanding IN renders one by one."""
    if not values:
        return []
    if conn.dialect.name == "postgresql":
        sql = f"SELECT {columns} FROM {table} WHERE {key} = ANY(%s){extra}"
        return conn.exec_driver_sql(sql, (list(values),)).fetchall()  # type: ignore[return-value]
    marks = ", ".join("?" * len(values))
    sql = f"SELECT {columns} FROM {table} WHERE {key} IN ({marks}){extra}"
    return conn.exec_driver_sql(sql, tuple(values)).fetchall()  # type: ignore[return-value]


def _accounts(conn: Connection, contracts: Sequence[str]) -> dict[str, _Account]:
    found = {}
    for row in _in(conn, _ACCOUNT_SQL, "account", "contract_number", contracts):
        acct = _Account(*row)
        if isinstance(acct.move_in, str):  # SQLite's driver gives the ISO text
            acct = acct._replace(move_in=date.fromisoformat(acct.move_in))
        found[acct.contract_number] = acct
    return found


def _group(
    svc: Services, conn: Connection, ctx: ImportContext, sgc: int
) -> SupplyGroupRecord | str:
    """The supply group new meters join, or why they cannot (read once per import)."""
    if sgc not in ctx.groups:
        from stsvend.keystore.errors import KeystoreError
        from stsvend.store.errors import RecordNotFoundError
        from stsvend.store.repos.groups import get_group

        try:
            group = get_group(conn, sgc)
        except RecordNotFoundError:
            ctx.groups[sgc] = "supply_group: no such supply group is registered"
            return ctx.groups[sgc]
        default, unique = commissioning_keys(group)
        try:
            ctx.dkga[default] = svc.hsm.key_record_for(default).dkga.value
            svc.hsm.key_record_for(unique)
        except KeystoreError:
            ctx.groups[sgc] = ("the keystore holds no default or unique key of the meter's "
                               "supply group: a new meter cannot be commissioned")  # fmt: skip
        else:
            ctx.groups[sgc] = group
    return ctx.groups[sgc]


def apply_chunk(
    svc: Services,
    conn: Connection,
    actor: Actor,
    ctx: ImportContext,
    records: Sequence[CrmRecord],
) -> ChunkCounts:
    """Decide and write one chunk; returns its counts (and its rejections)."""
    counts = ChunkCounts()

    def reject(rec: CrmRecord, reason: str) -> None:
        counts.rejections.append(Rejection(rec.line, reason))

    first: dict[str, int] = {}
    unique: list[CrmRecord] = []
    for rec in records:
        if rec.contract in first:
            reject(rec, f"contract listed again (first on line {first[rec.contract]})")
            continue
        first[rec.contract] = rec.line
        unique.append(rec)
    accounts = _accounts(conn, [r.contract for r in unique])
    customers: dict[str, int] = dict(
        _in(conn, "customer_number, id", "customer", "customer_number",
            list({r.customer for r in unique}))
    )  # fmt: skip
    meters: dict[str, int] = dict(
        _in(conn, "drn, id", "meter", "drn", list({r.meter for r in unique}))
    )
    # meter id -> the open account on it
    owner: dict[int, int] = dict(
        _in(conn, "meter_id, id", "account", "meter_id", list(meters.values()),
            " AND closed_at IS NULL")
    )  # fmt: skip

    closes: list[dict[str, Any]] = []
    leaving = [r for r in unique if r.move_out is not None and r.move_out <= ctx.today]
    staying = [r for r in unique if not (r.move_out is not None and r.move_out <= ctx.today)]
    for rec in leaving:
        acct = accounts.get(rec.contract)
        if acct is None or acct.closed_at is not None:
            counts.unchanged += 1  # moved out before stsvend knew it, or closed already
            continue
        closes.append({"aid": acct.id, "at": ctx.now})
        if owner.get(acct.meter_id) == acct.id:
            del owner[acct.meter_id]
        counts.changed += 1
        counts.closed += 1

    new_meters: dict[str, tuple[sts.KeyData, sts.KeyData]] = {}
    new_customers: set[str] = set()
    changes: list[tuple[Any, CrmRecord, int]] = []
    creates: list[tuple[CrmRecord, int]] = []
    claimed: dict[str, int] = {}  # new meter -> line that takes it
    for rec in staying:
        tariff_id = ctx.tariffs.get(rec.tariff)
        if tariff_id is None:
            reject(rec, "tariff: no stsvend tariff has this code (map the CRM's tariff types "
                        "under [tariffs] in the mapping)")  # fmt: skip
            continue
        acct = accounts.get(rec.contract)
        if acct is not None and acct.closed_at is not None:
            reject(rec, "the contract is closed in stsvend (a new move-in is a new contract)")
            continue
        meter_id = meters.get(rec.meter)
        if meter_id is None:
            if rec.meter in claimed:
                reject(rec, f"the meter is new and listed for another contract on line "
                            f"{claimed[rec.meter]}")  # fmt: skip
                continue
            sgc = rec.supply_group if rec.supply_group is not None else ctx.supply_group
            if sgc is None:
                reject(rec, "the meter is new to stsvend and no supply group is given "
                            "(--supply-group or a mapped supply_group column)")  # fmt: skip
                continue
            group = _group(svc, conn, ctx, sgc)
            if isinstance(group, str):
                reject(rec, group)
                continue
            claimed[rec.meter] = rec.line
            new_meters[rec.meter] = commissioning_keys(group)
        else:
            holder = owner.get(meter_id)
            if holder is not None and (acct is None or holder != acct.id):
                reject(rec, "the meter is on another open contract (its move-out first)")
                continue
        if rec.customer not in customers:
            new_customers.add(rec.customer)
        if acct is None:
            creates.append((rec, tariff_id))
            counts.created += 1
        elif _differs(acct, rec, tariff_id, meter_id, customers.get(rec.customer)):
            changes.append((acct, rec, tariff_id))
            counts.changed += 1
        else:
            counts.unchanged += 1
            continue
        if acct is not None and acct.meter_id != meter_id and owner.get(acct.meter_id) == acct.id:
            del owner[acct.meter_id]  # the old meter is free for a later row
        if meter_id is not None:
            owner[meter_id] = acct.id if acct is not None else -rec.line

    if closes:
        conn.execute(_CLOSE, closes)
    if new_meters:
        meters.update(_add_meters(svc, conn, actor, ctx, new_meters))
        counts.meters_added += len(new_meters)
    if new_customers:
        bulk_insert(conn, _CUSTOMER, [{"customer_number": c, "created_at": ctx.now}
                                      for c in sorted(new_customers)])  # fmt: skip
        customers.update(_in(conn, "customer_number, id", "customer", "customer_number",
                             sorted(new_customers)))  # fmt: skip
    if changes:
        conn.execute(_CHANGE, [
            {"aid": acct.id, "cid": customers[rec.customer], "mid": meters[rec.meter],
             "tid": tariff_id, **{f"v_{f}": getattr(rec, f) for f in CRM_FIELDS}}
            for acct, rec, tariff_id in changes
        ])  # fmt: skip
    if creates:
        bulk_insert(conn, _ACCOUNT, [
            {"contract_number": rec.contract, "customer_id": customers[rec.customer],
             "meter_id": meters[rec.meter], "tariff_id": tariff_id, "credit_balance": 0,
             "debt": 0, "debt_recovery_bp": 0, "emergency_debt": 0,
             **{f: getattr(rec, f) for f in CRM_FIELDS}, "opened_at": ctx.now,
             "closed_at": None}
            for rec, tariff_id in creates
        ])  # fmt: skip
    return counts


def _differs(
    acct: Any, rec: CrmRecord, tariff_id: int, meter_id: int | None, customer_id: int | None
) -> bool:
    if meter_id != acct.meter_id or tariff_id != acct.tariff_id:
        return True
    if customer_id != acct.customer_id:
        return True
    return any(getattr(rec, f) != getattr(acct, f) for f in CRM_FIELDS)


def _add_meters(
    svc: Services,
    conn: Connection,
    actor: Actor,
    ctx: ImportContext,
    new: dict[str, tuple[sts.KeyData, sts.KeyData]],
) -> dict[str, int]:
    """Register the new meters on their default keys, with their commissioning key changes;
    returns their ids by DRN."""
    rows = []
    for drn, (default, _unique) in new.items():
        dkga = ctx.dkga[default]
        rows.append({
            "drn": drn, "iin": sts.MeterIdentity.parse(None, drn).iin, "resource": 0,
            "status": "active", "sgc": default.sgc, "ti": default.ti, "krn": default.krn,
            "key_type": int(default.key_type), "ea": default.ea.value,
            "base_date": int(default.base_date), "ken": default.ken, "dkga": dkga,
            "min_vend": None, "max_vend": None, "daily_limit": None, "created_at": ctx.now,
        })  # fmt: skip
    bulk_insert(conn, _METER, rows)
    from stsvend.store.repos.meters import _COLUMNS

    stmt = select(*_COLUMNS).where(Meter.drn.in_(list(new)))
    found = [MeterRecord.from_row(r) for r in conn.execute(stmt)]
    open_chains(conn, [m.drn for m in found])
    commission_meters(svc, conn, actor, [(m, new[m.drn][1]) for m in found],
                      request_id=ctx.request_id, now=ctx.now)  # fmt: skip
    return {m.drn: m.id for m in found}
