"""Bulk writes for batch jobs: COPY on PostgreSQL, executemany elsewhere.

A supply-group key change writes thousands of rows per batch (key changes, token log rows).
Row-by-row INSERTs spend most of their time building parameters; PostgreSQL's COPY takes
the rows in one stream.  The rows' values are what SQLAlchemy would bind (JSON documents are
wrapped for psycopg); the database applies column defaults (ids) as for an INSERT.

>>> from stsvend.store.uow import Store
>>> from stsvend.store.base import table_of
>>> from stsvend.store.models import Setting
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     bulk_insert(conn, table_of(Setting), [{"name": f"n{i}", "value": "v"} for i in range(3)])
...     conn.exec_driver_sql("SELECT count(*) FROM setting").scalar()
3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, text
from sqlalchemy.engine import Connection

from stsvend.store.errors import ConflictError, StorageError
from stsvend.store.writes import flush

__all__ = ["COPY_FROM", "bulk_insert", "bulk_update_heads", "sqlite_executemany"]

#: Fewer rows than this go through executemany even on PostgreSQL.
COPY_FROM = 64


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``, in the caller's transaction."""
    if not rows:
        return
    if (
        conn.dialect.name == "sqlite"
        and len(rows) >= COPY_FROM
        and sqlite_executemany(conn, table.insert(), list(rows[0]), rows)
    ):
        return
    if conn.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        conn.execute(table.insert(), list(rows))
        return
    import psycopg
    from psycopg.types.json import Json

    columns = list(rows[0])
    # JSON columns; None is JSON's null there unless the column says SQL NULL (as SQLAlchemy).
    json_columns = {
        c: bool(table.c[c].type.none_as_null)  # type: ignore[attr-defined]
        for c in columns
        if isinstance(table.c[c].type, JSON)
    }
    flush(conn)  # the driver's COPY bypasses the engine's events: staged writes go first
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{c}"' for c in columns)
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(
                    [
                        Json(row[c])
                        if c in json_columns and (row[c] is not None or not json_columns[c])
                        else row[c]
                        for c in columns
                    ]
                )
    except psycopg.errors.IntegrityError as exc:
        raise ConflictError(
            f"the database refused a duplicate record ({str(exc).splitlines()[0]})"
        ) from None
    except psycopg.Error as exc:
        raise StorageError(f"database error: {str(exc).splitlines()[0][:200]}") from None


def sqlite_executemany(
    conn: Connection, stmt: Any, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> bool:
    """SQLite: run ``stmt`` for ``rows`` as one driver executemany; False if it cannot.

    SQLAlchemy's executemany builds and type-processes a parameter dict per row, which costs
    more than SQLite's own work for a batch.  Here the statement is compiled once and each row
    goes through the same bind processors (column types, TypeDecorators) into a tuple.  A JSON
    document shared by many rows (a batch's old and new key data) is serialised once.
    """
    dialect = conn.dialect
    if dialect.name != "sqlite" or not rows:
        return False
    compiled = stmt.compile(dialect=dialect, column_keys=list(names))
    order = compiled.positiontup
    if order is None or set(order) != set(names) or len(order) != len(names):
        return False  # defaults or extra parameters: let SQLAlchemy fill them in
    processors = [
        (i, process)
        for i, n in enumerate(order)
        if (process := compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    get = itemgetter(*order)
    # (column, id(value)) -> processed value, for this call only: the rows keep every value
    # alive (so an id names one object) and a batch shares its time and key data documents.
    shared: dict[tuple[int, int], Any] = {}
    params: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(get(row)) if len(order) > 1 else [get(row)]
        for i, process in processors:
            value = values[i]
            if isinstance(value, dict | list | datetime):
                key = (i, id(value))
                if key not in shared:
                    shared[key] = process(value)
                values[i] = shared[key]
            else:
                values[i] = process(value)  # None too: JSON makes it 'null', as SQLAlchemy does
        params.append(tuple(values))
    conn.exec_driver_sql(str(compiled), params)
    return True


_UNNEST_HEADS = text(
    "UPDATE log_head SET seq = v.seq, mac = v.mac "
    "FROM unnest(CAST(:chains AS VARCHAR[]), CAST(:seqs AS INTEGER[]), CAST(:macs AS BYTEA[])) "
    "AS v(chain, seq, mac) WHERE log_head.chain = v.chain"
)


def bulk_update_heads(conn: Connection, heads: dict[str, tuple[int, bytes]]) -> bool:
    """PostgreSQL: move many chain heads in one statement (arrays); False elsewhere."""
    if conn.dialect.name != "postgresql" or len(heads) < COPY_FROM:
        return False
    chains = list(heads)
    conn.execute(
        _UNNEST_HEADS,
        {
            "chains": chains,
            "seqs": [heads[c][0] for c in chains],
            "macs": [heads[c][1] for c in chains],
        },
    )
    return True
