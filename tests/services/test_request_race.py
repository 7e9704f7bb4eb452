"""Two processes send the same request id at the same moment, on PostgreSQL and SQLite.

One of them issues; the other gets the replay (same content) or ``idempotency_mismatch``
(different content): never a second token, never a crash.  On PostgreSQL both workers are held
just before their sale's INSERT until both got there, so that the unique constraint on the
request id decides (the replay after a conflict); SQLite runs one writer at a time, so there the
second finds the first's answer in its replay check.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from stsvend.tokenlog.reader import verify_log
from tests.services import race_worker
from tests.services.helpers import LOG_KEY, Installation, drn
from tests.services.saved import Bare

SPAWN = multiprocessing.get_context("spawn")
A, B = drn(1), drn(2)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(
    request: pytest.FixtureRequest, bare: Bare, tmp_path: Path
) -> Iterator[tuple[str, Installation]]:
    if request.param == "postgresql" and not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
    with bare.copy(request.param, tmp_path) as made:
        yield made


def _race(url: str, inst: Installation, *tasks: race_worker.Task) -> list[tuple[Any, ...]]:
    start = SPAWN.Barrier(len(tasks))
    at_insert = SPAWN.Barrier(len(tasks)) if inst.svc.store.dialect == "postgresql" else None
    out = SPAWN.Queue()
    procs = [SPAWN.Process(target=race_worker.run, args=(url, task, start, at_insert, out))
             for task in tasks]  # fmt: skip
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert [r for r in results if r[0] == "crash"] == []
    return results


def _tokens(inst: Installation) -> tuple[int, int]:
    with inst.svc.store.transaction() as conn:
        sales = conn.execute(text("SELECT count(*) FROM sale")).scalar_one()
        tokens = conn.execute(text("SELECT count(*) FROM token_log")).scalar_one()
        duplicates = conn.execute(text(
            "SELECT meter, base_date, tid FROM token_log WHERE tid IS NOT NULL "
            "GROUP BY meter, base_date, tid HAVING count(*) > 1")).all()  # fmt: skip
        assert duplicates == []
        assert verify_log(conn, LOG_KEY).ok
    return sales, tokens


def _one_issued_one_replayed(results: list[tuple[Any, ...]]) -> None:
    assert sorted(r[0] for r in results) == ["ok", "ok"], results
    assert sorted(r[2] for r in results) == [False, True], results
    assert results[0][1] == results[1][1] and results[0][3] == results[1][3], results


def _one_issued_one_refused(results: list[tuple[Any, ...]]) -> None:
    kinds = sorted((r[0], r[1] if r[0] == "error" else r[2]) for r in results)
    assert kinds == [("error", "idempotency_mismatch"), ("ok", False)], results


@pytest.mark.slow
def test_the_same_vend_sent_twice_at_once_issues_one_token(
    backend: tuple[str, Installation],
) -> None:
    url, inst = backend
    inst.meter(A)
    task: race_worker.Task = ("vend", "clerk", (A, "50.00"), "R1")
    _one_issued_one_replayed(_race(url, inst, task, task))
    assert _tokens(inst) == (1, 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "other",
    [("vend", "clerk", (A, "60.00"), "R2"), ("vend", "clerk", (B, "50.00"), "R2")],
    ids=["other amount", "other meter"],
)
def test_one_id_with_different_vends_at_once_issues_one_and_refuses_the_other(
    backend: tuple[str, Installation], other: race_worker.Task
) -> None:
    url, inst = backend
    inst.meter(A)
    inst.meter(B)
    _one_issued_one_refused(_race(url, inst, ("vend", "clerk", (A, "50.00"), "R2"), other))
    assert _tokens(inst) == (1, 1)


@pytest.mark.slow
def test_the_same_request_without_a_meter_lock_replays_after_the_conflict(
    backend: tuple[str, Installation],
) -> None:
    # A test token for every meter locks no meter row: on PostgreSQL both reach the INSERT.
    url, inst = backend
    task: race_worker.Task = ("test", "clerk", (1, None), "R3")
    _one_issued_one_replayed(_race(url, inst, task, task))
    assert _tokens(inst) == (1, 1)


@pytest.mark.slow
def test_different_requests_without_a_meter_lock_refuse_after_the_conflict(
    backend: tuple[str, Installation],
) -> None:
    url, inst = backend
    results = _race(
        url, inst, ("test", "clerk", (1, None), "R4"), ("test", "clerk", (2, None), "R4")
    )
    _one_issued_one_refused(results)
    assert _tokens(inst) == (1, 1)


@pytest.mark.slow
def test_the_same_reversal_sent_twice_at_once_reverses_once(
    backend: tuple[str, Installation],
) -> None:
    from datetime import UTC, datetime

    from stsvend.services import vend

    url, inst = backend
    inst.meter(A)
    inst.clock.now = datetime.now(UTC)  # the workers run on the real clock
    sale = vend.vend(inst.svc, inst.clerk, A, "50.00")
    task: race_worker.Task = ("reverse", "supervisor", (sale.receipt, "paid twice"), "R5")
    _one_issued_one_replayed(_race(url, inst, task, task))
    with inst.svc.store.transaction() as conn:
        reversals = conn.execute(text("SELECT count(*) FROM sale WHERE kind = 'reversal'"))
        assert reversals.scalar_one() == 1
