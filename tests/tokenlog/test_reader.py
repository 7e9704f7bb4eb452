"""Reading the log back on both databases: verify and export leave the connection usable for
the statements that follow them (the operation-log entry, the next vend), and every export and
verify is recorded in the operation log without token digits."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from stsvend.services import logs, vend
from stsvend.store.repos.oplog import list_operations
from stsvend.tokenlog.reader import LogFilter, iter_log, verify_log
from tests.services.helpers import LOG_KEY, Installation, drn, installation
from tests.services.saved import Bare
from tests.store.pgdb import ENV

A, B = drn(1), drn(2)


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest, bare: Bare, tmp_path: Path) -> Iterator[Installation]:
    if request.param == "postgresql":
        if not os.environ.get(ENV):
            pytest.skip(f"{ENV} is not set")
        with bare.copy("postgresql", tmp_path) as (_, it):
            yield _sold(it)
    else:
        with installation() as it:
            yield _sold(it)


def _sold(it: Installation) -> Installation:
    it.meter(A)
    it.meter(B)
    for meter in (A, B, A):
        vend.vend(it.svc, it.clerk, meter, "10")
    return it


def _operations(it: Installation, action: str) -> list[dict[str, object]]:
    with it.svc.store.transaction() as conn:
        return [op for op in list_operations(conn) if op["action"] == action]


def test_a_statement_after_streaming_runs_in_the_same_transaction(inst: Installation) -> None:
    with inst.svc.store.transaction() as conn:
        assert verify_log(conn, LOG_KEY).ok
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        rows = list(iter_log(conn, LogFilter(meter=A), show_digits=False))
        assert len(rows) == 2
        conn.execute(text("UPDATE meter SET status = status WHERE drn = :d"), {"d": A})


def test_verify_is_recorded(inst: Installation) -> None:
    auditor = inst.actors["auditor"]
    result = logs.verify(inst.svc, auditor)
    rows = result.rows  # the token rows and the sale records of their chains
    assert result.ok is True and rows >= 3
    [op] = _operations(inst, "log.verify")
    assert (op["operator"], op["outcome"]) == ("auditor", "ok")
    assert op["detail"] == {"rows": rows, "findings": 0, "anchor": None}
    vend.vend(inst.svc, inst.clerk, B, "10")  # the store is still usable
    assert logs.verify(inst.svc, auditor).rows == rows + 2  # one token, one sale record


def test_export_is_recorded_with_its_filter_and_never_digits(inst: Installation) -> None:
    out = io.StringIO()
    result = logs.export(inst.svc, inst.supervisor, LogFilter(meter=A), out, fmt="jsonl")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert result == logs.LogExport(rows=2, digits=True) and len(rows) == 2
    assert all(len(r["digits"]) == 20 for r in rows)
    [op] = _operations(inst, "log.export")
    assert (op["operator"], op["outcome"]) == ("supervisor", "ok")
    assert op["detail"] == {"rows": 2, "digits": True, "format": "jsonl",
                            "filter": {"meter": A}}  # fmt: skip
    for row in rows:
        assert row["digits"] not in json.dumps(op)
    vend.vend(inst.svc, inst.clerk, B, "10")


def test_a_filter_as_recorded() -> None:
    from datetime import UTC, datetime

    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert LogFilter().as_dict() == {}
    assert LogFilter(since=since, sgc=123456, krn=2).as_dict() == {
        "since": "2026-11-01T00:00:00+00:00", "sgc": 123456, "krn": 2,
    }  # fmt: skip
