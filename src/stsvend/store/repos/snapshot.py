"""Everything a credit vend reads, in one statement that locks the meter row.

A vend needs the meter, its open key change, its open account (and customer number), the
month's counters, the last TID under the meter's base date, its token log chain head, what
it bought today, and whether the request id was seen before.  Read one by one that is eight
round trips; here it is two: lock the meter row (``SELECT … FOR UPDATE``), then one ``SELECT``
with outer joins.  The rows joined to the meter need no lock of their own: every writer of
them locks the meter first.

The lock must come first, in its own statement.  At READ COMMITTED, PostgreSQL re-checks a
row it had to wait for against its newest version, but the rows *joined* to it keep the
versions of the statement's start: a single ``SELECT … JOIN … FOR UPDATE OF meter`` that waited
for another vend would read that vend's TID and log head as they were before it committed
(the database's unique constraints caught exactly that in the concurrency benchmark).  A new
statement after the lock sees everything committed before the lock was granted.

>>> from datetime import UTC, date, datetime
>>> from stsvend import sts
>>> from stsvend.store.uow import Store
>>> from stsvend.store.repos.meters import add_meter
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     _ = add_meter(conn, sts.MeterIdentity.parse(None, "01234567897"), 0,
...                   sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=2014), "02",
...                   datetime(2026, 1, 1, tzinfo=UTC))
...     snap = vend_snapshot(conn, "01234567897", request_id="r1", scope=0, day=date(2026, 1, 1),
...                          month="2026-01")
>>> snap.meter.drn, snap.account, snap.last_tid, snap.head, snap.day_total, snap.replay_id
('01234567897', None, None, None, 0, None)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

from attrs import frozen
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection, Dialect

from stsvend.store.errors import RecordNotFoundError, StorageError
from stsvend.store.models import (
    Account,
    AccountMonth,
    Customer,
    KeyChange,
    LogHead,
    Meter,
    MeterTid,
    Sale,
)
from stsvend.store.repos.accounts import AccountRecord, MonthRecord
from stsvend.store.repos.keychanges import KeyChangeRecord
from stsvend.store.repos.meters import MeterRecord
from stsvend.store.vendor_models import Vendor, VendorCommission, VendorFloat
from stsvend.store.writes import flush

__all__ = ["VendSnapshot", "vend_snapshot"]


@frozen
class VendSnapshot:
    meter: MeterRecord
    key_change: KeyChangeRecord | None
    account: AccountRecord | None
    month: MonthRecord
    #: The last TID issued under the meter's own base date (None: none yet).
    last_tid: int | None
    #: The meter's token log chain head (None: the chain has no row yet).
    head: tuple[int, bytes] | None
    day_total: int
    replay_id: int | None
    #: PostgreSQL: the id the sale will have (taken from its sequence in the same statement).
    next_sale_id: int | None = None
    #: A sale through a vendor: its commission on the meter's resource (basis points) and its
    #: float as this statement saw it (None: no vendor).
    vendor_rate: int | None = None
    vendor_float: int | None = None
    #: The vendor's low-float mark (None: no vendor, or no mark).
    vendor_low_float: int | None = None


_METER = [c.label(f"m_{c.key}") for c in Meter.__table__.c]
_KC = [c.label(f"k_{c.key}") for c in KeyChange.__table__.c]
_ACC = [c.label(f"a_{c.key}") for c in Account.__table__.c]

_DAY_TOTAL = (
    select(func.coalesce(func.sum(Sale.amount), 0))
    .where(Sale.meter_id == Meter.id, Sale.local_day == bindparam("day"), Sale.kind == "credit")
    .scalar_subquery()
)
# A vendor's terms, read in the same statement (vid 0: no vendor, so both are NULL).
_VENDOR_RATE = func.coalesce(
    select(VendorCommission.commission_bp)
    .where(VendorCommission.vendor_id == bindparam("vid"),
           VendorCommission.resource == Meter.resource)
    .scalar_subquery(),
    select(Vendor.commission_bp).where(Vendor.id == bindparam("vid")).scalar_subquery(),
)  # fmt: skip
_VENDOR_FLOAT = (
    select(func.sum(VendorFloat.balance))
    .where(VendorFloat.vendor_id == bindparam("vid"))
    .scalar_subquery()
)
_REPLAY = (
    select(Sale.id)
    .where(Sale.scope == bindparam("scope"), Sale.request_id == bindparam("rid"))
    .scalar_subquery()
)

_SNAPSHOT = (
    select(
        *_METER,
        *_KC,
        *_ACC,
        Customer.customer_number.label("c_number"),
        AccountMonth.units.label("am_units"),
        AccountMonth.fixed_charged.label("am_fixed"),
        AccountMonth.free_units_issued.label("am_free"),
        AccountMonth.free_issue_units.label("am_free_issue"),
        MeterTid.last_tid.label("t_last"),
        LogHead.seq.label("h_seq"),
        LogHead.mac.label("h_mac"),
        _DAY_TOTAL.label("day_total"),
        _REPLAY.label("replay_id"),
        _VENDOR_RATE.label("v_rate"),
        _VENDOR_FLOAT.label("v_float"),
        select(Vendor.low_float).where(Vendor.id == bindparam("vid")).scalar_subquery()
        .label("v_low"),
    )
    .select_from(Meter)
    .outerjoin(
        KeyChange,
        # Two comparisons rather than IN: no "expanding" parameter, so the PostgreSQL path can
        # run the compiled SQL as it is.
        and_(
            KeyChange.meter_id == Meter.id,
            or_(KeyChange.state == "pending", KeyChange.state == "issued"),
        ),
    )
    .outerjoin(Account, and_(Account.meter_id == Meter.id, Account.closed_at.is_(None)))
    .outerjoin(Customer, Customer.id == Account.customer_id)
    .outerjoin(
        AccountMonth,
        and_(AccountMonth.account_id == Account.id, AccountMonth.month == bindparam("month")),
    )
    .outerjoin(MeterTid, and_(MeterTid.meter_id == Meter.id, MeterTid.base_date == Meter.base_date))
    .outerjoin(LogHead, LogHead.chain == Meter.drn)
    .where(Meter.drn == bindparam("drn"))
)
_SNAPSHOT_PG = _SNAPSHOT.add_columns(
    func.nextval(func.pg_get_serial_sequence("sale", "id")).label("next_sale_id")
)
_LOCK = select(Meter.id).where(Meter.drn == bindparam("drn")).with_for_update()


# (field, column label) pairs, named once rather than on every vend.
_METER_NAMES = [(a.name, f"m_{a.name}") for a in MeterRecord.__attrs_attrs__]
_KC_NAMES = [(a.name, f"k_{a.name}") for a in KeyChangeRecord.__attrs_attrs__]
_ACC_NAMES = [
    (a.name, f"a_{a.name}") for a in AccountRecord.__attrs_attrs__ if a.name != "customer_number"
]


def _record(row: Mapping[str, Any], postgres: bool) -> VendSnapshot:
    meter = MeterRecord(**{n: row[label] for n, label in _METER_NAMES})
    change = None
    if row["k_id"] is not None:
        change = KeyChangeRecord(**{n: row[label] for n, label in _KC_NAMES})
    account = None
    if row["a_id"] is not None:
        values = {n: row[label] for n, label in _ACC_NAMES}
        account = AccountRecord(customer_number=row["c_number"], **values)
    month_record = MonthRecord()
    if row["am_units"] is not None:
        month_record = MonthRecord(
            row["am_units"], row["am_fixed"], row["am_free"], row["am_free_issue"]
        )
    head = None if row["h_seq"] is None else (row["h_seq"], bytes(row["h_mac"]))
    return VendSnapshot(
        meter, change, account, month_record, row["t_last"], head, int(row["day_total"]),
        row["replay_id"], int(row["next_sale_id"]) if postgres else None,
        None if row["v_rate"] is None else int(row["v_rate"]),
        None if row["v_float"] is None else int(row["v_float"]),
        None if row["v_low"] is None else int(row["v_low"]),
    )  # fmt: skip


@functools.lru_cache(maxsize=4)
def _pg_sql(dialect: Dialect) -> tuple[str, str, dict[str, Any]]:
    """The two statements' SQL, and the read's constant parameters (its literals)."""
    read = _SNAPSHOT_PG.compile(dialect=dialect)
    return _LOCK.compile(dialect=dialect).string, read.string, dict(read.params)


_PG_READ_NAMES: dict[str, list[str]] = {}


def _postgres_snapshot(conn: Connection, params: dict[str, Any]) -> Mapping[str, Any] | None:
    """The lock and the read in one round trip (pipeline mode): the read is a statement of its
    own, run by the server after the lock is granted, so it still sees every committed row."""
    lock_sql, read_sql, constants = _pg_sql(conn.dialect)
    flush(conn)  # the driver's pipeline bypasses the engine's events: staged writes go first
    raw = conn.connection.driver_connection
    assert raw is not None
    import psycopg

    try:
        with raw.pipeline(), raw.cursor() as lock, raw.cursor() as read:
            lock.execute(lock_sql, {"drn": params["drn"]})
            read.execute(read_sql, {**constants, **params})
            if lock.fetchone() is None:
                return None
            row = read.fetchone()
            assert row is not None
            names = _PG_READ_NAMES.get(read_sql)
            if names is None:
                # The read is one fixed statement: name its columns once.  (psycopg builds a
                # Column object per column on every ``description``: a tenth of a vend's CPU.)
                assert read.description is not None
                names = _PG_READ_NAMES[read_sql] = [c.name for c in read.description]
    except psycopg.Error as exc:
        raise StorageError(f"database error: {str(exc).splitlines()[0][:200]}") from None
    return dict(zip(names, row, strict=True))


def vend_snapshot(
    conn: Connection, drn: str, *, request_id: str, scope: int, day: date, month: str
) -> VendSnapshot:
    """Lock the meter and read what a vend needs (raises RecordNotFoundError); ``scope`` is
    the request id's (0: the store's counters, else the vendor's id, whose commission and
    float are read too)."""
    params = {"drn": drn, "rid": request_id, "scope": scope, "vid": scope, "day": day,
              "month": month}  # fmt: skip
    if conn.dialect.name == "postgresql":
        row = _postgres_snapshot(conn, params)
        if row is None:
            raise RecordNotFoundError(f"no meter {drn} is registered")
        return _record(row, True)
    if conn.execute(_LOCK, {"drn": drn}).first() is None:
        raise RecordNotFoundError(f"no meter {drn} is registered")
    found = conn.execute(_SNAPSHOT, params).one()
    return _record(dict(found._mapping), False)
