"""Small SQL helpers that differ between SQLite and PostgreSQL (upserts, row locks).

>>> from sqlalchemy.dialects import sqlite
>>> from stsvend.store.models import MeterTid
>>> from stsvend.store.base import table_of
>>> stmt = upsert(sqlite.dialect(), table_of(MeterTid), ["meter_id", "base_date"], ["last_tid"])
>>> "ON CONFLICT" in str(stmt.compile(dialect=sqlite.dialect()))
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

__all__ = ["insert_ignore", "upsert"]


def _insert(dialect: Dialect, table: Table) -> Any:
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(dialect: Dialect, table: Table, keys: Sequence[str], update: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET the ``update`` columns to the new values.

    Built once per dialect and table: statements on the vend path are reused, not rebuilt.
    """
    return _upsert(dialect.name, table, tuple(keys), tuple(update))


@functools.cache
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], update: tuple[str, ...]) -> Any:
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
    )


def insert_ignore(dialect: Dialect, table: Table, keys: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING."""
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))
