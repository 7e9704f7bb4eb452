"""On PostgreSQL: many processes vending to the same meters at once; a vend killed at any
statement; a bulk key change killed mid-run and restarted.  (The crash cases run on SQLite
too.)  The processes are real, and killed with ``os._exit``: no rollback, no cleanup."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from stsvend.tokenlog.reader import verify_log
from tests.services import pg_worker
from tests.services.helpers import LOG_KEY, Installation, drn, installation
from tests.services.saved import Bare
from tests.store.pgdb import requires_postgres, temporary_database

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(
    request: pytest.FixtureRequest, bare: Bare, tmp_path: Path
) -> Iterator[tuple[str, Installation]]:
    if request.param == "postgresql" and not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
    with bare.copy(request.param, tmp_path) as made:
        yield made


def _snapshot(inst: Installation) -> dict[str, object]:
    with inst.svc.store.transaction() as conn:
        out: dict[str, object] = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("sale", "ledger_entry", "token_log", "account_month", "key_change")
        }
        out["tids"] = sorted(map(tuple, conn.execute(text("SELECT * FROM meter_tid")).all()))
        # The meters' chains only: each worker's login (its own committed transaction) moves
        # its operator's operation-log chain.
        heads = conn.execute(text("SELECT chain, seq FROM log_head WHERE chain NOT LIKE 'op:%'"))
        out["heads"] = sorted((r[0], r[1]) for r in heads.all())
        out["accounts"] = sorted(
            map(tuple, conn.execute(text("SELECT id, credit_balance, debt FROM account")).all())
        )
    return out


def _consistent(inst: Installation) -> None:
    """Every sale has its balanced ledger and its token rows; the log verifies."""
    with inst.svc.store.transaction() as conn:
        unbalanced = conn.execute(
            text("SELECT sale_id FROM ledger_entry GROUP BY sale_id HAVING sum(amount) <> 0")
        ).all()
        credit_sales = conn.execute(
            text("SELECT count(*) FROM sale WHERE kind = 'credit'")
        ).scalar_one()
        payments = conn.execute(
            text("SELECT count(*) FROM ledger_entry WHERE entry = 'payment'")
        ).scalar_one()
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM sale s WHERE s.kind = 'credit' AND NOT EXISTS "
                "(SELECT 1 FROM token_log t WHERE t.sale_id = s.id)"
            )
        ).scalar_one()
        duplicates = conn.execute(
            text(
                "SELECT meter, base_date, tid FROM token_log WHERE tid IS NOT NULL "
                "GROUP BY meter, base_date, tid HAVING count(*) > 1"
            )
        ).all()
        behind = conn.execute(
            text(
                "SELECT m.drn FROM meter_tid mt JOIN meter m ON m.id = mt.meter_id WHERE "
                "mt.last_tid < (SELECT max(t.tid) FROM token_log t WHERE t.meter = m.drn "
                "AND t.base_date = mt.base_date)"
            )
        ).all()
        report = verify_log(conn, LOG_KEY)
    assert unbalanced == [] and duplicates == [] and behind == []
    assert payments == credit_sales and orphans == 0
    assert report.ok, report.findings


@requires_postgres
@pytest.mark.postgres
@pytest.mark.slow
def test_many_processes_vending_to_the_same_meters() -> None:
    meters = [drn(i) for i in range(1, 4)]
    workers, each = 4, 30
    with temporary_database() as url, installation(url, create=False) as inst:
        for number in meters:
            inst.meter(number)
        with SPAWN.Pool(workers) as pool:
            results = pool.starmap(
                pg_worker.vend_many, [(url, meters, each, seed) for seed in range(workers)]
            )
        assert [e for errors in results for e in errors] == []
        with inst.svc.store.transaction() as conn:
            sales = conn.execute(text("SELECT count(*) FROM sale")).scalar_one()
            tokens = conn.execute(
                text("SELECT count(DISTINCT (meter, base_date, tid)) FROM token_log")
            ).scalar_one()
            per_meter = conn.execute(
                text("SELECT meter, count(*), count(DISTINCT tid) FROM token_log GROUP BY meter")
            ).all()
        assert sales == tokens == workers * each
        assert all(n == distinct for _, n, distinct in per_meter)
        _consistent(inst)


@pytest.mark.slow
def test_a_vend_killed_at_any_statement_leaves_nothing_half_written(
    backend: tuple[str, Installation],
) -> None:
    url, inst = backend
    meters = [drn(i) for i in range(10, 40)]
    for number in meters:
        inst.meter(number)
    in_transaction, _ = pg_worker.statements_of_one_vend(url, meters[0])
    # PostgreSQL: the lock, the read, then the writes as one statement; SQLite: one each.
    assert in_transaction >= (3 if url.startswith("postgresql") else 8)
    # Every statement of the vend's transaction, then COMMIT itself (on SQLite, whose
    # transaction is one file lock, a sample: the first, the middle and the last statement).
    every = range(1, in_transaction + 1)
    if url.startswith("sqlite"):
        every = range(1, in_transaction + 1, max(1, in_transaction // 3))
    cases = [(n, False) for n in every] + [(0, True)]
    assert len(cases) <= len(meters) - 1
    before = _snapshot(inst)
    for (statement, at_commit), meter in zip(cases, meters[1:], strict=False):
        proc = SPAWN.Process(target=pg_worker.vend_and_die, args=(url, meter, statement, at_commit))
        proc.start()
        proc.join(60)
        assert proc.exitcode == pg_worker.KILLED, (statement, at_commit, proc.exitcode)
        assert _snapshot(inst) == before, f"killed at statement {statement} (commit={at_commit})"
    _consistent(inst)
    # And the meters still sell normally afterwards.
    from stsvend.services import vend

    vend.vend(inst.svc, inst.clerk, meters[1], "10")
    _consistent(inst)


@pytest.mark.slow
def test_a_group_key_change_killed_mid_run_and_restarted_does_every_meter_once(
    backend: tuple[str, Installation],
) -> None:
    from stsvend.services import keychange, registry

    url, inst = backend
    meters = [drn(100 + i) for i in range(45)]
    for number in meters:
        registry.add_meter(inst.svc, inst.admin, number, sgc=123456)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2)
    for kill_at in (23, 14):  # mid-batch statements: the 3rd batch, then the 2nd of the rerun
        proc = SPAWN.Process(target=pg_worker.run_job_and_die, args=(url, job.job, kill_at))
        proc.start()
        proc.join(120)
        assert proc.exitcode == pg_worker.KILLED
    partial = keychange.run_job(inst.svc, inst.engineer, job.job, batch_size=10,
                                max_batches=0)  # fmt: skip
    assert 0 < partial.done < len(meters)
    final = keychange.run_job(inst.svc, inst.engineer, job.job, batch_size=10)
    assert final.state == "done" and final.by_state == {"pending": len(meters)}
    with inst.svc.store.transaction() as conn:
        counts = conn.execute(
            text("SELECT meter_id, count(*) FROM key_change WHERE job_id = :j GROUP BY meter_id"),
            {"j": job.job},
        ).all()
        rows = conn.execute(
            text("SELECT count(*) FROM token_log WHERE purpose = 'key_change'")
        ).scalar_one()
    assert len(counts) == len(meters) and {n for _, n in counts} == {1}
    assert rows == 2 * len(meters)
    _consistent(inst)


def test_a_group_key_change_in_parallel_workers_does_every_meter_once(
    backend: tuple[str, Installation],
) -> None:
    import functools

    from stsvend.services import keychange, registry

    url, inst = backend
    meters = [drn(200 + i) for i in range(31)]
    for number in meters:
        registry.add_meter(inst.svc, inst.admin, number, sgc=123456)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2)
    seen: list[int] = []
    final = keychange.run_job(
        inst.svc, inst.engineer, job.job, batch_size=4, workers=3,
        opener=functools.partial(pg_worker._services, url),
        progress=lambda done, _total: seen.append(done),
    )  # fmt: skip
    assert final.state == "done" and final.by_state == {"pending": len(meters)}
    assert seen[-1] == len(meters) and seen == sorted(seen)
    with inst.svc.store.transaction() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM token_log WHERE purpose = 'key_change'")
        ).scalar_one()
    assert rows == 2 * len(meters)
    _consistent(inst)
