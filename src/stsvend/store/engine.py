"""Engine factory: SQLite (default, durable settings) or PostgreSQL through psycopg 3.

A SQLite database file is created 0600 (it holds token digits and PIN hashes).  SQLite runs
in WAL mode with ``synchronous=FULL`` (a committed sale survives a power cut) and
every transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once, so two
processes never both read and then deadlock upgrading to write (SQLite's own advice).
PostgreSQL runs at READ COMMITTED; the services take row locks (``SELECT … FOR UPDATE``) where a
decision depends on a row another vend may be changing.

>>> normalise_url("postgresql://u@db/sts")
'postgresql+psycopg://u@db/sts'
>>> normalise_url("sqlite:///x.db")
'sqlite:///x.db'
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from stsvend.store.errors import StorageError
from stsvend.store.writes import install

__all__ = ["is_sqlite", "make_engine", "normalise_url"]

_SQLITE_BUSY_MS = 30_000


def normalise_url(url: str) -> str:
    """The URL with the driver stsvend uses (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _parse(url: str) -> URL:
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise StorageError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise StorageError(f"stsvend supports SQLite and PostgreSQL, not {parsed.drivername}")
    return parsed


def is_sqlite(url: str) -> bool:
    return _parse(url).get_backend_name() == "sqlite"


def _private_database_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it (its ``-wal`` and ``-shm`` files
    take the database file's mode), and tighten one an earlier version left open: it holds
    token digits and PIN hashes."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # SQLite will say what is wrong when it opens the file
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(each.stat().st_mode)
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                each.chmod(mode & ~(stat.S_IRWXG | stat.S_IRWXO))
        except OSError:
            continue  # not there (yet), or not ours to change


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database or ""
    connect_args: dict[str, Any] = {"timeout": _SQLITE_BUSY_MS / 1000, "isolation_level": None}
    if database in ("", ":memory:"):
        # One shared connection, or every checkout would see its own empty database.
        kwargs["poolclass"] = StaticPool
        connect_args["check_same_thread"] = False
    elif not database.startswith("file:"):
        _private_database_file(Path(database).expanduser())
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url``; refuses anything but SQLite and PostgreSQL."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        engine = _postgres_engine(parsed, pool_size)
    install(engine)  # staged writes run before any other statement (store/writes.py)
    return engine


def _postgres_engine(parsed: URL, pool_size: int) -> Engine:
    return create_engine(
        parsed,
        pool_size=pool_size,
        pool_pre_ping=False,
        isolation_level="READ COMMITTED",
        # psycopg prepares a statement server-side after it has run this many times.
        connect_args={"prepare_threshold": 2},
    )
