"""Migrations: an empty database upgrades to head, ``alembic check`` finds no drift, and a
store that is not at head is refused — on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from stsvend.store import models
from stsvend.store.base import Base
from stsvend.store.engine import make_engine, normalise_url
from stsvend.store.errors import SchemaError, StorageError
from stsvend.store.migrate import (
    HEAD,
    check,
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    upgrade,
)
from stsvend.store.uow import Store
from tests.store.pgdb import requires_postgres, temporary_database


def _tables() -> set[str]:
    assert models.Meter.__tablename__ == "meter"
    return set(Base.metadata.tables)


def _round_trip(url: str) -> None:
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(SchemaError, match="empty"):
            ensure_current(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= _tables()
        check(engine)  # alembic check: no drift between the models and the migrations
        ensure_current(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) & _tables() == set()
        upgrade(engine)
        check(engine)
    finally:
        engine.dispose()


def test_sqlite_empty_to_head_and_no_drift(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'fresh.db'}")


@requires_postgres
@pytest.mark.postgres
def test_postgres_empty_to_head_and_no_drift() -> None:
    with temporary_database() as url:
        _round_trip(url)


def test_the_head_constant_is_the_scripts_head() -> None:
    assert head_revision() == HEAD


def test_drift_is_reported(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'drift.db'}")
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE stray (id INTEGER PRIMARY KEY)")
        with pytest.raises(SchemaError, match="differ"):
            check(engine)
    finally:
        engine.dispose()


def test_a_store_behind_head_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    finally:
        engine.dispose()
    with pytest.raises(SchemaError, match="stsvend db upgrade"):
        Store.open(url)


def test_sqlite_runs_wal_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'durable.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://x@y/z", "SQLite and PostgreSQL"), ("not a url", "not a database URL")],
)
def test_unsupported_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        make_engine(url)


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_url("postgresql+psycopg2://a@b/c") == "postgresql+psycopg://a@b/c"


def test_an_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot use the database"):
        Store.open("postgresql://nobody@127.0.0.1:1/none")


def _terminal_before_0008(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO vendor (id, code, name, currency, commission_bp, credit_limit, "
                "active, test, created_at) VALUES (1, 'SHOP1', 'Shop', 'ZAR', 0, 0, true, true, "
                "'2026-12-01 08:00:00+00:00')"
            )
            conn.execute(
                text(
                    "INSERT INTO terminal (vendor_id, code, role, key_prefix, key_hash, active, "
                    "created_at, key_set_at) VALUES (1, 'TILL-1', 'clerk', '0123456789ab', :h, "
                    "true, '2026-12-01 08:00:00+00:00', '2026-12-01 08:00:00+00:00')"
                ),
                {"h": bytes(32)},
            )
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT o.username, o.role, o.pin_hash FROM terminal t JOIN operator o "
                "ON o.id = t.operator_id"
            ).one()
        assert tuple(row) == ("SHOP1/TILL-1", "clerk", "!terminal")
        check(engine)
    finally:
        engine.dispose()


def test_sqlite_0008_gives_an_existing_terminal_its_operator_row(tmp_path: Path) -> None:
    _terminal_before_0008(f"sqlite:///{tmp_path / 'old.db'}")


@requires_postgres
@pytest.mark.postgres
def test_postgres_0008_gives_an_existing_terminal_its_operator_row() -> None:
    with temporary_database() as url:
        _terminal_before_0008(url)
