"""Meters, their key data and their last TID per base date.

>>> from stsvend.store.uow import Store
>>> store = Store.open("sqlite://", create=True)
>>> from datetime import UTC, datetime
>>> from stsvend import sts
>>> with store.transaction() as conn:
...     meter = add_meter(conn, sts.MeterIdentity.parse(None, "01234567897"), 0,
...                       sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=2014),
...                       "02", datetime(2026, 1, 1, tzinfo=UTC))
...     set_last_tid(conn, meter.id, 2014, 6783840)
...     locked_last_tid(conn, meter.id, 2014), locked_last_tid(conn, meter.id, 1993)
(6783840, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import attrs
from attrs import frozen
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.store.base import table_of
from stsvend.store.errors import DuplicateRecordError, RecordNotFoundError
from stsvend.store.models import Meter, MeterTid
from stsvend.store.sql import upsert
from stsvend.store.writes import stage

__all__ = [
    "MeterRecord",
    "add_meter",
    "count_meters",
    "get_meter",
    "last_tids",
    "list_meters",
    "locked_last_tid",
    "meters_by_ids",
    "set_key_data",
    "set_last_tid",
    "set_limits",
    "set_status",
]


@frozen
class MeterRecord:
    id: int
    drn: str
    iin: str
    resource: int
    status: str
    sgc: int
    ti: int
    krn: int
    key_type: int
    ea: str
    base_date: int
    ken: int
    dkga: str
    min_vend: int | None
    max_vend: int | None
    daily_limit: int | None

    @classmethod
    def from_row(cls, row: Any) -> MeterRecord:
        return cls(**{name: getattr(row, name) for name in _FIELDS})

    @property
    def identity(self) -> sts.MeterIdentity:
        return sts.MeterIdentity(self.iin, self.drn)

    @property
    def key_data(self) -> sts.KeyData:
        return _key_data(self.sgc, self.ti, self.krn, self.key_type, self.ea, self.base_date,
                         self.ken)  # fmt: skip

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"

    def as_dict(self) -> dict[str, Any]:
        return {
            "drn": self.drn,
            "iin": self.iin,
            "resource": sts.Resource(self.resource).name.lower(),
            "status": self.status,
            "sgc": f"{self.sgc:06d}",
            "ti": self.ti,
            "krn": self.krn,
            "key_type": self.key_type,
            "ea": self.ea,
            "base_date": self.base_date,
            "ken": self.ken,
            "dkga": self.dkga,
            "min_vend": self.min_vend,
            "max_vend": self.max_vend,
            "daily_limit": self.daily_limit,
        }


_FIELDS = tuple(a.name for a in attrs.fields(MeterRecord))


# KeyData is frozen and a whole supply group shares one: build (and validate) each once, not
# once per meter of a batch.  typed: True and 1 stay apart, so validation still sees the bool.
@lru_cache(maxsize=256, typed=True)
def _key_data(
    sgc: int, ti: int, krn: int, key_type: int, ea: str, base_date: int, ken: int
) -> sts.KeyData:
    return sts.KeyData(
        sgc=sgc, ti=ti, krn=krn, key_type=key_type, ea=ea, base_date=base_date, ken=ken
    )


_COLUMNS = [getattr(Meter, name) for name in _FIELDS]


def _key_values(key_data: sts.KeyData) -> dict[str, Any]:
    return {
        "sgc": key_data.sgc,
        "ti": key_data.ti,
        "krn": key_data.krn,
        "key_type": int(key_data.key_type),
        "ea": key_data.ea.value,
        "base_date": int(key_data.base_date),
        "ken": key_data.ken,
    }


def add_meter(
    conn: Connection,
    identity: sts.MeterIdentity,
    resource: int,
    key_data: sts.KeyData,
    dkga: str,
    now: datetime,
) -> MeterRecord:
    if conn.execute(select(Meter.id).where(Meter.drn == identity.drn)).first() is not None:
        raise DuplicateRecordError(f"meter {identity.drn} is already registered")
    values = {
        "drn": identity.drn,
        "iin": identity.iin,
        "resource": int(resource),
        "status": "active",
        "dkga": dkga,
        "created_at": now,
        **_key_values(key_data),
    }
    conn.execute(insert(Meter).values(values))
    return get_meter(conn, identity.drn)


# The vend path's statements are built once (bound parameters): building a SQLAlchemy
# expression costs more than running it on a local database.
_BY_DRN = select(*_COLUMNS).where(Meter.drn == bindparam("drn"))
_BY_DRN_LOCKED = _BY_DRN.with_for_update()
_LAST_TID = (
    select(MeterTid.last_tid)
    .where(MeterTid.meter_id == bindparam("m"), MeterTid.base_date == bindparam("b"))
    .with_for_update()
)


def get_meter(conn: Connection, drn: str, *, lock: bool = False) -> MeterRecord:
    row = conn.execute(_BY_DRN_LOCKED if lock else _BY_DRN, {"drn": drn}).first()
    if row is None:
        raise RecordNotFoundError(f"no meter {drn} is registered")
    return MeterRecord.from_row(row)


def list_meters(
    conn: Connection, *, sgc: int | None = None, status: str | None = None, limit: int = 1000
) -> list[MeterRecord]:
    stmt = select(*_COLUMNS).order_by(Meter.drn).limit(limit)
    if sgc is not None:
        stmt = stmt.where(Meter.sgc == sgc)
    if status is not None:
        stmt = stmt.where(Meter.status == status)
    return [MeterRecord.from_row(r) for r in conn.execute(stmt)]


def meters_by_ids(conn: Connection, ids: Sequence[int], *, lock: bool = False) -> list[MeterRecord]:
    """The meters with these ids, in id order (locked, for a bulk job's batch)."""
    if not ids:
        return []
    stmt = select(*_COLUMNS).where(Meter.id.in_(list(ids))).order_by(Meter.id)
    return [MeterRecord.from_row(r) for r in conn.execute(stmt.with_for_update() if lock else stmt)]


def count_meters(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Meter)).scalar_one())


def set_status(conn: Connection, meter_id: int, status: str) -> None:
    conn.execute(update(Meter).where(Meter.id == meter_id).values(status=status))


def set_limits(
    conn: Connection, meter_id: int, *, min_vend: int | None, max_vend: int | None,
    daily_limit: int | None,
) -> None:  # fmt: skip
    conn.execute(
        update(Meter)
        .where(Meter.id == meter_id)
        .values(min_vend=min_vend, max_vend=max_vend, daily_limit=daily_limit)
    )


def set_key_data(conn: Connection, meter_id: int, key_data: sts.KeyData) -> None:
    conn.execute(update(Meter).where(Meter.id == meter_id).values(_key_values(key_data)))


def last_tids(conn: Connection, meter_id: int) -> dict[int, int]:
    rows = conn.execute(
        select(MeterTid.base_date, MeterTid.last_tid).where(MeterTid.meter_id == meter_id)
    )
    return {r.base_date: r.last_tid for r in rows}


def set_last_tid(conn: Connection, meter_id: int, base_date: int, last_tid: int) -> None:
    """Record the last TID (staged: it goes out with the transaction's other writes)."""
    stmt = upsert(conn.dialect, table_of(MeterTid), ["meter_id", "base_date"], ["last_tid"])
    stage(conn, stmt, {"meter_id": meter_id, "base_date": base_date, "last_tid": last_tid})


def locked_last_tid(conn: Connection, meter_id: int, base_date: int) -> int | None:
    """The last TID issued to the meter under ``base_date``, with its row locked until commit.

    Holding this lock is what makes TIDs strictly increasing across processes; the token log's
    unique (meter, base date, TID) constraint backs it up.
    """
    last: int | None = conn.execute(_LAST_TID, {"m": meter_id, "b": base_date}).scalar()
    return last
