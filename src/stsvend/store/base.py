"""The declarative base: one ``MetaData`` with a naming convention, and column types.

Constraint names come from the convention, so migrations name them the same way on SQLite and
PostgreSQL and ``alembic check`` compares like with like.

>>> from datetime import datetime, timezone
>>> UtcDateTime().process_bind_param(datetime(2026, 1, 1, 3, tzinfo=timezone.utc), None)
datetime.datetime(2026, 1, 1, 3, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

__all__ = ["NAMING_CONVENTION", "Base", "BigId", "UtcDateTime", "table_of"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A 64-bit key on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC instant: aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite keeps no zone, so the zone is checked on the way in and restored on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect | None) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a stored instant must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect is None or dialect.name != "sqlite" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - the sqlite driver parses it for us
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Every table of stsvend."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The ``Table`` of a model (typed as such, for Core statements)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
