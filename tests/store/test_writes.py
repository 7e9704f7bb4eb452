"""The one write path (store/writes.py): staged writes reach the database in order, before any
later statement and with the commit; a refused write leaves nothing; PostgreSQL's folded
statement stores exactly what separate statements store.  On SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.bulk import COPY_FROM, bulk_insert
from stsvend.store.errors import ConflictError, StorageError
from stsvend.store.models import Customer, OperationLog, Setting
from stsvend.store.uow import Store
from stsvend.store.writes import flush, pending, stage, translate

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path / 'w.db'}", create=True)
        yield opened
        opened.dispose()
        return
    if not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL unset")
    from tests.store.pgdb import temporary_database

    with temporary_database() as url:
        opened = Store.open(url, create=True)
        yield opened
        opened.dispose()


def _settings(conn: Connection) -> dict[str, str]:
    rows = conn.execute(select(Setting.name, Setting.value).order_by(Setting.name)).all()
    return {name: value for name, value in rows}


def test_a_read_after_staged_writes_sees_them_in_order(store: Store) -> None:
    with store.transaction() as conn:
        stage(conn, insert(Setting), [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}])
        stage(conn, update(Setting).where(Setting.name == "a").values(value="3"), {})
        assert pending(conn) == 2
        assert _settings(conn) == {"a": "3", "b": "2"}  # the read ran the writes first
        assert pending(conn) == 0
    with store.transaction() as conn:
        assert _settings(conn) == {"a": "3", "b": "2"}


def test_staged_writes_go_out_with_the_commit(store: Store) -> None:
    with store.transaction() as conn:
        stage(conn, insert(Setting), {"name": "x", "value": "1"})
        stage(conn, insert(table_of(Customer)), {"customer_number": "C1", "created_at": NOW})
    with store.transaction() as conn:
        assert _settings(conn) == {"x": "1"}
        assert conn.execute(select(Customer.customer_number)).scalars().all() == ["C1"]


def test_a_refused_write_leaves_nothing_of_its_transaction(store: Store) -> None:
    with store.transaction() as conn:
        stage(conn, insert(Setting), {"name": "dup", "value": "1"})
    with pytest.raises(ConflictError, match="duplicate or inconsistent"):  # noqa: SIM117
        with store.transaction() as conn:
            stage(conn, insert(Setting), {"name": "other", "value": "2"})
            stage(conn, insert(table_of(Customer)), {"customer_number": "C9", "created_at": NOW})
            stage(conn, insert(Setting), {"name": "dup", "value": "3"})
    with store.transaction() as conn:
        assert _settings(conn) == {"dup": "1"}
        assert conn.execute(select(Customer.customer_number)).scalars().all() == []


def test_an_exception_in_the_block_discards_what_it_staged(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        stage(conn, insert(Setting), {"name": "lost", "value": "1"})
        raise RuntimeError("the business rule said no")
    # The pooled connection carries nothing into the next transaction.
    with store.transaction() as conn:
        assert pending(conn) == 0
        assert _settings(conn) == {}


def test_writes_to_the_same_table_twice_still_apply_in_order(store: Store) -> None:
    # Two changes to one row cannot be parts of one PostgreSQL statement: they run one by one.
    with store.transaction() as conn:
        stage(conn, insert(Setting), {"name": "n", "value": "1"})
        stage(conn, update(Setting).where(Setting.name == "n").values(value="2"), {})
        stage(conn, update(Setting).where(Setting.name == "n").values(value="3"), {})
    with store.transaction() as conn:
        assert _settings(conn) == {"n": "3"}


def test_many_rows_keep_their_order_in_the_ids(store: Store) -> None:
    rows = [{"name": f"k{i:02d}", "value": str(i)} for i in range(7)]
    log = table_of(OperationLog)
    entries = [
        {"at": NOW, "operator": "o", "terminal": "t", "action": f"a{i}", "outcome": "ok",
         "target": None, "detail": {"i": i, "text": "é'\"%s"}}
        for i in reversed(range(5))
    ]  # fmt: skip
    with store.transaction() as conn:
        stage(conn, insert(Setting), rows)
        stage(conn, insert(log), entries)
    with store.transaction() as conn:
        got = conn.execute(
            select(OperationLog.action, OperationLog.detail).order_by(OperationLog.id)
        )
        assert [(a, d) for a, d in got] == [(e["action"], e["detail"]) for e in entries]
        assert _settings(conn) == {r["name"]: r["value"] for r in rows}


def test_a_bulk_copy_after_staged_writes_comes_after_them(store: Store) -> None:
    log = table_of(OperationLog)
    many = [
        {"at": NOW, "operator": "o", "terminal": "t", "action": "bulk", "outcome": "ok",
         "target": str(i), "detail": None}
        for i in range(COPY_FROM + 3)
    ]  # fmt: skip
    with store.transaction() as conn:
        stage(conn, insert(log), {**many[0], "action": "first"})
        bulk_insert(conn, log, many)
    with store.transaction() as conn:
        actions = conn.execute(select(OperationLog.action).order_by(OperationLog.id)).scalars()
        assert list(actions) == ["first"] + ["bulk"] * len(many)


def test_flush_without_staged_writes_does_nothing(store: Store) -> None:
    # Nothing staged: not even a COMMIT is sent, so the transaction goes on and keeps its writes.
    with store.transaction() as conn:
        flush(conn, commit=True)
        stage(conn, insert(Setting), {"name": "after", "value": "1"})
        flush(conn)
        assert pending(conn) == 0 and _settings(conn) == {"after": "1"}
        assert conn.execute(text("SELECT 1")).scalar() == 1
    with store.transaction() as conn:
        assert _settings(conn) == {"after": "1"}


def test_driver_errors_become_the_stores_own() -> None:
    import sqlite3

    assert isinstance(translate(sqlite3.IntegrityError("UNIQUE constraint failed")), ConflictError)
    found = translate(sqlite3.OperationalError("database is locked"))
    assert isinstance(found, StorageError) and not isinstance(found, ConflictError)
    assert "database is locked" in str(found)
    assert translate(ValueError("not a database error")) is None
