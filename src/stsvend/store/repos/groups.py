"""Supply groups: the key revision, base date and KEN their meters should be on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.errors import DuplicateRecordError, RecordNotFoundError
from stsvend.store.models import SupplyGroup

__all__ = ["SupplyGroupRecord", "add_group", "get_group", "list_groups", "update_group"]


@frozen
class SupplyGroupRecord:
    id: int
    sgc: int
    name: str
    key_type: int
    krn: int
    dkga: str
    ea: str
    base_date: int
    ken: int
    test: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "sgc": f"{self.sgc:06d}",
            "name": self.name,
            "key_type": self.key_type,
            "krn": self.krn,
            "dkga": self.dkga,
            "ea": self.ea,
            "base_date": self.base_date,
            "ken": self.ken,
            "test": self.test,
        }


_COLUMNS = (
    SupplyGroup.id,
    SupplyGroup.sgc,
    SupplyGroup.name,
    SupplyGroup.key_type,
    SupplyGroup.krn,
    SupplyGroup.dkga,
    SupplyGroup.ea,
    SupplyGroup.base_date,
    SupplyGroup.ken,
    SupplyGroup.test,
)


def add_group(conn: Connection, now: datetime, **values: Any) -> SupplyGroupRecord:
    if conn.execute(select(SupplyGroup.id).where(SupplyGroup.sgc == values["sgc"])).first():
        raise DuplicateRecordError(f"supply group {values['sgc']:06d} already exists")
    conn.execute(insert(SupplyGroup).values(created_at=now, **values))
    return get_group(conn, values["sgc"])


def get_group(conn: Connection, sgc: int) -> SupplyGroupRecord:
    row = conn.execute(select(*_COLUMNS).where(SupplyGroup.sgc == sgc)).first()
    if row is None:
        raise RecordNotFoundError(f"no supply group {sgc:06d}")
    return SupplyGroupRecord(**row._mapping)


def list_groups(conn: Connection) -> list[SupplyGroupRecord]:
    return [
        SupplyGroupRecord(**r._mapping)
        for r in conn.execute(select(*_COLUMNS).order_by(SupplyGroup.sgc))
    ]


def update_group(conn: Connection, sgc: int, **values: Any) -> None:
    conn.execute(update(SupplyGroup).where(SupplyGroup.sgc == sgc).values(**values))
