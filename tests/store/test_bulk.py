"""SQLite's fast executemany in bulk writes stores exactly what SQLAlchemy's insert stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stsvend.store.base import table_of
from stsvend.store.bulk import COPY_FROM, bulk_insert, sqlite_executemany
from stsvend.store.models import LogHead, OperationLog, TokenLog
from stsvend.store.uow import Store
from stsvend.tokenlog.heads import MOVE_HEADS as _MOVE_HEADS


def _dump(store: Store, table: str) -> list[tuple[Any, ...]]:
    with store.transaction() as conn:
        sql = f"SELECT *, typeof(at) FROM {table} ORDER BY id"
        return [tuple(r) for r in conn.exec_driver_sql(sql).all()]


def _both(table: Any, rows: list[dict[str, Any]]) -> tuple[Store, Store]:
    fast, plain = Store.open("sqlite://", create=True), Store.open("sqlite://", create=True)
    with fast.transaction() as conn:
        assert sqlite_executemany(conn, table.insert(), list(rows[0]), rows)
    with fast.transaction() as conn:  # and bulk_insert takes that path for a batch
        conn.execute(table.delete())
        bulk_insert(conn, table, rows)
    with plain.transaction() as conn:
        conn.execute(table.insert(), rows)
    return fast, plain


def test_json_time_and_nulls_match_sqlalchemy() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    shared = {"a": [1, "é"], "b": None}
    rows = [
        {"at": now if i % 2 else now + timedelta(hours=i), "operator": "o", "terminal": "t",
         "action": "x", "outcome": "ok", "target": None if i % 3 else f"m{i}",
         "detail": shared if i % 2 else ({"i": i} if i % 5 else None)}
        for i in range(COPY_FROM + 10)
    ]  # fmt: skip
    fast, plain = _both(table_of(OperationLog), rows)
    assert _dump(fast, "operation_log") == _dump(plain, "operation_log")


def test_token_log_rows_and_head_updates_match_sqlalchemy() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [
        {"chain": f"c{i}", "seq": 1, "at": now, "event": "token", "purpose": "key_change",
         "sale_id": None, "request_id": "r", "meter": f"c{i}", "token_class": 2, "subclass": 3,
         "base_date": None, "tid": None, "amount": None, "sgc": 123456, "krn": 1, "ti": 1,
         "kcv": "ABCDEF", "operator": "o", "terminal": "t", "digits": "1" * 20,
         "test": i % 2 == 0, "ref_seq": None, "note": "n", "prev_mac": bytes(32),
         "mac": bytes([i % 256]) * 32}
        for i in range(COPY_FROM + 1)
    ]  # fmt: skip
    fast, plain = _both(table_of(TokenLog), rows)
    assert _dump(fast, "token_log") == _dump(plain, "token_log")
    heads = [{"chain": r["chain"], "seq": 0, "mac": bytes(32)} for r in rows]
    moved = [{"c": r["chain"], "s": 7, "m": r["mac"]} for r in rows]
    with fast.transaction() as conn:
        conn.execute(table_of(LogHead).insert(), heads)
        assert sqlite_executemany(conn, _MOVE_HEADS, ("c", "s", "m"), moved)
    with plain.transaction() as conn:
        conn.execute(table_of(LogHead).insert(), heads)
        conn.execute(_MOVE_HEADS, moved)
    with fast.transaction() as a, plain.transaction() as b:
        sql = "SELECT * FROM log_head ORDER BY chain"
        assert a.exec_driver_sql(sql).all() == b.exec_driver_sql(sql).all()
