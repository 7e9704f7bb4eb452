"""The one write path: a transaction's writes are staged, then flushed in one place.

Repositories :func:`stage` their INSERTs and UPDATEs on the transaction's connection instead of
executing them.  The staged writes go to the database together:

* when the transaction commits (:meth:`stsvend.store.uow.Store.transaction`) — on PostgreSQL
  as one round trip that carries the COMMIT too;
* before any other statement runs on the connection (an event on the engine), so that a read
  always sees the transaction's own writes and the order of statements is the order of calls;
* when a caller asks (:func:`flush`), for example before a statement sent to the driver itself.

On PostgreSQL the writes become one statement (each write a data-modifying ``WITH`` query,
when no two of them touch the same rows' table) sent with the COMMIT in one round trip
(pipeline mode): one parse, plan and execution per vend instead of one per write, and the
server prepares it once it has seen it twice.  On SQLite, a local file, they simply run one
after the other.  Errors leave through :func:`translate` — the one place where driver and
SQLAlchemy errors become the store's own.

>>> from sqlalchemy import insert, select, func
>>> from stsvend.store.uow import Store
>>> from stsvend.store.models import Setting
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     stage(conn, insert(Setting), [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}])
...     pending(conn)
...     conn.execute(select(func.count()).select_from(Setting)).scalar()  # flushes first
...     pending(conn)
1
2
0
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql import Executable

from stsvend.store.errors import ConflictError, FloatFloorError, StorageError
from stsvend.store.vendor_models import FLOAT_FLOOR_CHECK

__all__ = [
    "PENDING_INFO",
    "Write",
    "flush",
    "install",
    "next_id",
    "pending",
    "stage",
    "translate",
    "translated",
]

#: A statement and its parameters (a dict, or a list of dicts for executemany).
Write = tuple[Executable, Mapping[str, Any] | Sequence[Mapping[str, Any]]]

#: Where a connection keeps its staged writes (cleared whenever a transaction ends).
PENDING_INFO = "stsvend.pending_writes"


def stage(
    conn: Connection, stmt: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> None:
    """Add a write to the transaction; it runs at the next flush (see the module's text)."""
    queue: list[Write] | None = conn.info.get(PENDING_INFO)
    if queue is None:
        queue = conn.info[PENDING_INFO] = []
    queue.append((stmt, params))


def pending(conn: Connection) -> int:
    """How many staged writes wait for the next flush."""
    return len(conn.info.get(PENDING_INFO) or ())


def discard(conn: Connection) -> None:
    """Forget the staged writes (the transaction is ending; the connection goes back to the
    pool and must not carry them into the next one)."""
    conn.info.pop(PENDING_INFO, None)


def translate(error: BaseException) -> StorageError | None:
    """The store's error for a driver or SQLAlchemy error, or None for any other exception."""
    orig: BaseException | None = error
    if isinstance(error, sa_exc.DBAPIError):
        orig = error.orig
    elif not _is_driver_error(error):
        return None
    text = (str(orig) if orig is not None else str(error)).strip()
    first = text.splitlines()[0][:200] if text else type(error).__name__
    if FLOAT_FLOOR_CHECK in text:  # PostgreSQL and SQLite both name the broken constraint
        return FloatFloorError(f"a vendor's float slot cannot cover the debit ({first})")
    if isinstance(error, sa_exc.IntegrityError) or _is_integrity(orig):
        return ConflictError(f"the database refused a duplicate or inconsistent record ({first})")
    return StorageError(f"database error: {first}")


def _is_driver_error(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith(("psycopg", "sqlite3"))


def _is_integrity(error: BaseException | None) -> bool:
    return error is not None and any(c.__name__ == "IntegrityError" for c in type(error).__mro__)


@contextmanager
def translated() -> Iterator[None]:
    """Run a block, raising the store's error for any database error inside it."""
    try:
        yield
    except Exception as exc:
        mine = translate(exc)
        if mine is None:
            raise
        raise mine from None


def flush(conn: Connection, *, commit: bool = False) -> None:
    """Run the staged writes now, in order.  ``commit`` (PostgreSQL): send the COMMIT with
    them; the caller's own commit then finds nothing left to do."""
    queue: list[Write] | None = conn.info.pop(PENDING_INFO, None)
    if conn.dialect.name != "postgresql":
        if queue:
            with translated():
                for stmt, params in queue:
                    _sqlite_write(conn, stmt, params)
        return
    if queue:  # nothing staged: the caller's own commit is the only round trip
        _postgres_flush(conn, queue, commit=commit)


def _sqlite_write(
    conn: Connection, stmt: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> None:
    from stsvend.store.bulk import COPY_FROM, sqlite_executemany

    if isinstance(params, Mapping):
        conn.execute(stmt, params)
        return
    rows = list(params)
    if not rows:
        return
    if len(rows) >= COPY_FROM and sqlite_executemany(conn, stmt, list(rows[0]), rows):
        return
    conn.execute(stmt, rows)


@functools.lru_cache(maxsize=256)
def _compiled(
    stmt: Executable, keys: tuple[str, ...], dialect: Dialect
) -> tuple[str, frozenset[tuple[str, bool]], dict[str, Any]]:
    """SQL, the JSON parameters (name, None is SQL NULL), and the statement's own constants."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    # JSON parameters; a None among them is JSON's null unless the column says SQL NULL, as
    # SQLAlchemy's own JSON type has it.
    json_names = frozenset(
        (name, bool(bind.type.none_as_null))
        for name, bind in compiled.binds.items()
        if isinstance(bind.type, JSON)
    )
    constants = {k: v for k, v in compiled.params.items() if k not in keys}
    # A staged write's answer is never read: drop the RETURNING of the new row's id that the
    # dialect adds to an INSERT by itself.
    sql, _, _ = compiled.string.partition(" RETURNING ")
    return sql, json_names, constants


_PLACEHOLDER = re.compile(r"(?<!%)%\((\w+)\)s")


@functools.lru_cache(maxsize=1024)
def _pieces(sql: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``sql`` cut at its ``%(name)s`` placeholders: the text between them (``%%`` made
    ``%`` again) and the names, in order."""
    chunks = _PLACEHOLDER.split(sql)
    texts = tuple(chunk.replace("%%", "%") for chunk in chunks[0::2])
    return texts, tuple(chunks[1::2])


@functools.lru_cache(maxsize=256)
def _numbered(parts: tuple[tuple[str, int], ...]) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """One statement for ``parts`` — (SQL, rows) each, a plain INSERT taking its rows as one
    multi-row VALUES list so that its ids follow the rows' order — with PostgreSQL's own
    ``$n`` placeholders, and which part's which row's which parameter each ``$n`` takes.
    Several parts become data-modifying ``WITH`` queries of one statement."""
    order: list[tuple[int, int, str]] = []
    bodies: list[str] = []
    for n, (sql, count) in enumerate(parts):
        if count > 1:
            head, _, row_text = sql.partition(" VALUES ")
            texts, names = _pieces(head + " VALUES " + ", ".join([row_text] * count))
        else:
            texts, names = _pieces(sql)
        per_row = len(names) // count
        out = [texts[0]]
        for k, (name, text) in enumerate(zip(names, texts[1:], strict=True)):
            order.append((n, k // per_row if per_row else 0, name))
            out += [f"${len(order)}", text]
        bodies.append("".join(out))
    if len(bodies) == 1:
        return bodies[0], tuple(order)
    joined = ",\n".join(f"w{n} AS ({body})" for n, body in enumerate(bodies))
    return f"WITH {joined}\nSELECT 1", tuple(order)


@functools.lru_cache(maxsize=256)
def _target(stmt: Executable) -> tuple[str, bool]:
    """The table a write changes, and whether it may change an existing row (statements are
    the repositories' constants: asked once each)."""
    table = getattr(stmt, "table", None)
    name = getattr(table, "name", None) or str(id(stmt))
    plain_insert = getattr(stmt, "is_insert", False) and (
        getattr(stmt, "_post_values_clause", None) is None
    )
    return name, not plain_insert


def _foldable(queue: Sequence[Write]) -> bool:
    """Whether the writes can run as one statement: the parts of a statement all see the
    same snapshot, so none may touch a table another part changes rows of."""
    seen: dict[str, bool] = {}
    for stmt, _ in queue:
        name, changes_rows = _target(stmt)
        if name in seen and (changes_rows or seen[name]):
            return False
        seen[name] = seen.get(name, False) or changes_rows
    return True


def _postgres_flush(conn: Connection, queue: Sequence[Write], *, commit: bool) -> None:
    import psycopg
    from psycopg.types.json import Json

    parts: list[tuple[str, list[dict[str, Any]]]] = []
    for stmt, params in queue:
        rows = [params] if isinstance(params, Mapping) else list(params)
        if not rows:
            continue
        sql, json_names, constants = _compiled(stmt, tuple(sorted(rows[0])), conn.dialect)
        converted = []
        for row in rows:
            values = {**constants, **row}
            for name, none_as_null in json_names:
                value = values.get(name)
                if value is not None or not none_as_null:
                    values[name] = Json(value)
            converted.append(values)
        if _target(stmt)[1]:  # an UPDATE or upsert: one statement per row
            parts += [(sql, [values]) for values in converted]
        else:
            parts.append((sql, converted))
    if not parts:
        return
    batches = [parts] if len(parts) == 1 or _foldable(queue) else [[part] for part in parts]
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        # A raw cursor takes the $n placeholders as they are: psycopg has no query text to
        # parse, however long the statement.
        with raw.pipeline(), psycopg.RawCursor(raw) as cursor:
            for batch in batches:
                text, order = _numbered(tuple((sql, len(rows)) for sql, rows in batch))
                cursor.execute(text, [batch[n][1][row][name] for n, row, name in order])
            if commit:
                raw.commit()
    except psycopg.Error as exc:
        mine = translate(exc)
        assert mine is not None
        raise mine from None


def _flush_first(conn: Connection, *_args: Any, **_kwargs: Any) -> None:
    if conn.info.get(PENDING_INFO):
        flush(conn)


def install(engine: Engine) -> None:
    """Make every statement on ``engine``'s connections run the staged writes first (the
    cursor-level event: it sees driver-level statements too)."""
    event.listen(engine, "before_cursor_execute", _flush_first)


def next_id(conn: Connection, table: str) -> int | None:
    """A new id from the table's sequence (PostgreSQL), or None where the database assigns it
    at insert (SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    value = conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"))
    return int(value.scalar_one())
