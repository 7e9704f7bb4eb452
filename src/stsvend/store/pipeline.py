"""Writing several statements in one round trip (PostgreSQL pipeline mode).

A vend ends with seven writes (TID, sale, ledger, month, account, log rows, log head).  None
of them needs another's answer — the sale's id is taken from its sequence beforehand — so on
PostgreSQL they go to the server together in psycopg's pipeline mode and come back with one
wait.  On SQLite, a local file, they simply run one after the other.

Each statement is compiled once per set of parameter names; JSON values are wrapped for
psycopg the way SQLAlchemy's JSON type would serialise them.  Errors leave as the store's
errors, like those of any other statement.

>>> from sqlalchemy import insert
>>> from stsvend.store.uow import Store
>>> from stsvend.store.models import Setting
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     run_writes(conn, [(insert(Setting), [{"name": "a", "value": "1"},
...                                          {"name": "b", "value": "2"}])])
...     conn.exec_driver_sql("SELECT count(*) FROM setting").scalar()
2
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable

from stsvend.store.errors import ConflictError, StorageError

__all__ = ["Write", "next_id", "run_writes"]

#: A statement and its parameters (a dict, or a list of dicts for executemany).
Write = tuple[Executable, Mapping[str, Any] | Sequence[Mapping[str, Any]]]


@functools.lru_cache(maxsize=256)
def _compiled(
    stmt: Executable, keys: tuple[str, ...], dialect: Dialect
) -> tuple[str, frozenset[str], dict[str, Any]]:
    """SQL, the names of JSON parameters, and the statement's own constants."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    json_names = frozenset(
        name for name, bind in compiled.binds.items() if isinstance(bind.type, JSON)
    )
    constants = {k: v for k, v in compiled.params.items() if k not in keys}
    return compiled.string, json_names, constants


def _convert(
    params: Mapping[str, Any], json_names: frozenset[str], constants: dict[str, Any]
) -> dict[str, Any]:
    out = {**constants, **params}
    if json_names:
        from psycopg.types.json import Json

        for name in json_names:
            if out.get(name) is not None:
                out[name] = Json(out[name])
    return out


def run_writes(conn: Connection, writes: Sequence[Write], *, commit: bool = False) -> None:
    """Execute ``writes`` in order, in the caller's transaction (one round trip on PostgreSQL).

    ``commit``: on PostgreSQL, send the COMMIT in the same round trip; the caller's own commit
    then finds nothing left to do.  (SQLite commits when the caller's transaction ends.)
    """
    if conn.dialect.name != "postgresql":
        for stmt, params in writes:
            conn.execute(stmt, params if isinstance(params, Mapping) else list(params))
        return
    import psycopg

    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for stmt, params in writes:
                rows = [params] if isinstance(params, Mapping) else list(params)
                if not rows:
                    continue
                sql, json_names, constants = _compiled(stmt, tuple(sorted(rows[0])), conn.dialect)
                if len(rows) == 1:
                    cursor.execute(sql, _convert(rows[0], json_names, constants))
                else:
                    cursor.executemany(sql, [_convert(r, json_names, constants) for r in rows])
            if commit:
                raw.commit()
    except psycopg.errors.IntegrityError as exc:
        raise ConflictError(
            f"the database refused a duplicate or inconsistent record ({str(exc).splitlines()[0]})"
        ) from None
    except psycopg.Error as exc:
        raise StorageError(f"database error: {str(exc).splitlines()[0][:200]}") from None


def next_id(conn: Connection, table: str) -> int | None:
    """A new id from the table's sequence (PostgreSQL), or None where the database assigns it
    at insert (SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    value = conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"))
    return int(value.scalar_one())
