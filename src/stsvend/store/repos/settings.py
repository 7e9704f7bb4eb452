"""Installation-wide settings kept in the database (e.g. the keyset mode, the log key check).

>>> from stsvend.store.uow import Store
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     put_setting(conn, "keyset", "test")
...     get_setting(conn, "keyset"), get_setting(conn, "missing")
('test', None)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.models import Setting
from stsvend.store.sql import upsert

__all__ = ["get_setting", "put_setting"]


def get_setting(conn: Connection, name: str) -> str | None:
    value: str | None = conn.execute(select(Setting.value).where(Setting.name == name)).scalar()
    return value


def put_setting(conn: Connection, name: str, value: str) -> None:
    conn.execute(
        upsert(conn.dialect, table_of(Setting), ["name"], ["value"]),
        {"name": name, "value": value},
    )
