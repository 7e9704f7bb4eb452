"""Throw-away PostgreSQL databases for tests, on the server named by STSVEND_TEST_POSTGRES_URL.

Each test database gets a unique name and is dropped afterwards; without the variable, the
PostgreSQL tests are skipped.  A test database commits without waiting for its WAL to reach the
disk (``synchronous_commit = off``, for the sessions of every process that connects to it): a
commit is as visible and as ordered as before; only a crash of the server itself could lose
the last few, and no test crashes the server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

ENV = "STSVEND_TEST_POSTGRES_URL"

requires_postgres = pytest.mark.skipif(
    not os.environ.get(ENV), reason=f"{ENV} is not set (no PostgreSQL server for tests)"
)


def _admin_url() -> str:
    from stsvend.store.engine import normalise_url

    url = make_url(normalise_url(os.environ[ENV]))
    return url.set(database="postgres").render_as_string(hide_password=False)


def _terminate(conn: Connection, name: str) -> None:
    conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid()"
        ),
        {"n": name},
    )


@contextmanager
def temporary_database(prefix: str = "stsvend_test", template: str | None = None) -> Iterator[str]:
    """Create a uniquely named database (empty, or a copy of the database ``template``, which
    nobody may be connected to); yields its URL; drops it (and its sessions) after."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        yield make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            _terminate(conn, name)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
