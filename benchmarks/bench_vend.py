"""Committed vends per second (SQLite and PostgreSQL) and a supply-group key change.

Run: ``pytest benchmarks/bench_vend.py --benchmark-only -p no:cacheprovider`` (PostgreSQL cases
need ``STSVEND_TEST_POSTGRES_URL``), or ``python benchmarks/bench_vend.py`` for a print-out.

What is measured (the targets in brackets):

* **vends/s** — complete credit vends through :func:`stsvend.services.vend.vend`, each one
  committed transaction (lock meter, TIDs, token through the security module, sale, ledger,
  month counters, account, token log row; periodic log seals), on 10 000 meters with accounts,
  random meters and amounts.  SQLite: WAL, ``synchronous=FULL``, one process (SQLite has one
  writer) [500/s].  PostgreSQL: ``synchronous_commit`` on, worker processes vending at once
  (``VEND_WORKERS``, default 2: the best on this 2-core machine) [1 000/s].
* **key change meters/s** — a supply-group key change of 10 000 EA07 meters (two tokens a
  meter, both logged), batches of 1 000, each one transaction; SQLite one process,
  PostgreSQL ``KEY_CHANGE_WORKERS`` processes on disjoint parts (default 2) [5 000/s].

Each figure is the median of three rounds.  The print-out (``python benchmarks/bench_vend.py``)
states PostgreSQL vends at 2 and 8 workers (``VEND_REPORT_WORKERS``) beside pgbench's TPC-B-like
transactions per second at the same concurrency (``pgbench -i -s 10``, ``-c N -j N -T 15``, on a
database of its own, run just before and just after the vends), and their ratio.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

if TYPE_CHECKING:
    from stsvend.services.context import Services

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METERS = 10_000
VENDS_PER_WORKER = int(os.environ.get("VENDS_PER_WORKER", "1500"))
PG_WORKERS = int(os.environ.get("VEND_WORKERS", "2"))
#: The concurrencies of the print-out's PostgreSQL figures (each beside pgbench's).
PG_REPORT_WORKERS = tuple(int(n) for n in os.environ.get("VEND_REPORT_WORKERS", "2,8").split(","))
KC_WORKERS = int(os.environ.get("KEY_CHANGE_WORKERS", "2"))
SPAWN = multiprocessing.get_context("spawn")


def _drn(n: int) -> str:
    from stsvend import sts

    body = f"01{n:08d}"
    return body + str(sts.luhn_check_digit(body))


def insert_meters(conn: Any, numbers: range, *, tariff: str) -> None:
    """Meters ``_drn(n)`` for each n of ``numbers``, each with a customer ``C<n>`` and an
    account ``K<n>`` on ``tariff`` (bulk inserts: setup, not measured)."""
    from sqlalchemy import insert, select

    from stsvend.store.models import Account, Customer, Meter, Tariff
    from stsvend.tokenlog.writer import open_chains

    now = datetime.now(UTC)
    tariff_id = conn.execute(select(Tariff.id).where(Tariff.code == tariff)).scalar_one()
    conn.execute(insert(Meter), [
        {"drn": _drn(i), "iin": "600727", "resource": 0, "status": "active", "sgc": 123456,
         "ti": 1, "krn": 1, "key_type": 2, "ea": "07", "base_date": 2014, "ken": 255,
         "dkga": "02", "created_at": now} for i in numbers
    ])  # fmt: skip
    conn.execute(insert(Customer), [
        {"customer_number": f"C{i}", "created_at": now} for i in numbers
    ])  # fmt: skip
    open_chains(conn, [_drn(i) for i in numbers])
    ids = dict(conn.execute(select(Meter.drn, Meter.id)).all())
    cids = dict(conn.execute(select(Customer.customer_number, Customer.id)).all())
    conn.execute(insert(Account), [
        {"contract_number": f"K{i}", "customer_id": cids[f"C{i}"], "meter_id": ids[_drn(i)],
         "tariff_id": tariff_id, "credit_balance": 0, "debt": 0, "debt_recovery_bp": 0,
         "emergency_debt": 0, "opened_at": now} for i in numbers
    ])  # fmt: skip


def populate(url: str, meters: int = METERS) -> None:
    """An installation with ``meters`` meters and accounts (bulk inserts: setup, not measured)."""
    from tests.services.helpers import PINS, Installation

    from stsvend.services import auth, registry, tariffs
    from stsvend.store.repos.settings import put_setting

    inst = Installation(url, create=False)
    try:
        assert inst.svc.config.terminal == "T1"
        registry.add_group(inst.svc, inst.admin, 123457, name="Bench", krn=1)
        tariffs.add_tariff(inst.svc, inst.admin, "IBT", name="Inclining",
                           blocks=[(500, "1.50"), (None, "2.50")], tax_percent="15")  # fmt: skip
        with inst.svc.store.transaction() as conn:
            put_setting(conn, "keyset_mode", "test")
            insert_meters(conn, range(meters), tariff="IBT")
        assert auth.login(inst.svc, "clerk", PINS["clerk"]).shift_id is not None
    finally:
        inst.close()


def _services(url: str) -> Services:
    from tests.services.helpers import LOG_KEY, config, hsm

    from stsvend.services.context import Services
    from stsvend.store.uow import Store

    return Services(Store.open(url), config(), hsm=hsm(), log_key=LOG_KEY)


def vend_worker(url: str, count: int, seed: int, start: Any = None, results: Any = None) -> int:
    """``count`` vends on random meters; returns how many committed.

    As one of several processes, the worker first imports and logs in, then waits at the
    ``start`` barrier with the others and the parent, so that no start-up falls inside the
    measured time; it puts its count on ``results``.
    """
    from tests.services.helpers import PINS

    from stsvend.services import auth, vend

    try:
        svc = _services(url)
        actor = auth.login(svc, "clerk", PINS["clerk"])
    except BaseException:
        if start is not None:
            start.abort()  # the parent and the other workers stop waiting at once
        raise
    rng = random.Random(seed)
    if start is not None:
        start.wait()
    done = 0
    for _ in range(count):
        vend.vend(svc, actor, _drn(rng.randrange(METERS)), f"{rng.randint(5, 200)}.00")
        done += 1
    svc.store.dispose()
    if results is not None:
        results.put(done)
    return done


def vends_per_second(url: str, workers: int, per_worker: int) -> float:
    if workers == 1:
        start = time.perf_counter()
        done = vend_worker(url, per_worker, 1)
        return done / (time.perf_counter() - start)
    barrier = SPAWN.Barrier(workers + 1)
    results = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=vend_worker, args=(url, per_worker, seed, barrier, results))
        for seed in range(workers)
    ]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=300)  # every worker has imported and logged in
    begin = time.perf_counter()
    done = sum(results.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - begin
    for proc in procs:
        proc.join()
    return done / elapsed


def key_change_meters_per_second(url: str, round_no: int, workers: int = 1) -> float:
    """Key-change every meter of the group (KRN 1 → 2); open changes of earlier rounds are
    cancelled first so that each round does all 10 000 meters.  ``workers`` processes take
    disjoint parts of the group (PostgreSQL)."""
    import functools

    from sqlalchemy import text
    from tests.services.helpers import PINS

    from stsvend.services import auth, keychange

    svc = _services(url)
    try:
        with svc.store.transaction() as conn:
            conn.execute(text("UPDATE key_change SET state = 'cancelled' WHERE state <> 'skipped'"))
        actor = auth.login(svc, "engineer", PINS["engineer"])
        job = keychange.start_job(svc, actor, 123456, krn=2, request_id=f"bench-{round_no}")
        start = time.perf_counter()
        result = keychange.run_job(
            svc, actor, job.job, batch_size=1000, workers=workers,
            opener=functools.partial(_services, url),
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        assert result.by_state.get("pending") == METERS, result
        # The group now names KRN 2; put it back for the next round.
        with svc.store.transaction() as conn:
            conn.execute(text("UPDATE supply_group SET krn = 1 WHERE sgc = 123456"))
    finally:
        svc.store.dispose()
    return METERS / elapsed


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
    else:
        from tests.store.pgdb import temporary_database

        with temporary_database("stsvend_bench") as url:
            yield url


def _vend_round(url: str, workers: int, _round_no: int) -> float:
    return vends_per_second(url, workers, VENDS_PER_WORKER)


def _key_change_round(url: str, workers: int, round_no: int) -> float:
    return key_change_meters_per_second(url, round_no, workers)


def _median(figure: Callable[[int], float], rounds: int = 3) -> tuple[float, list[float]]:
    values = [figure(i) for i in range(rounds)]
    return statistics.median(values), values


needs_pg = pytest.mark.skipif(
    not os.environ.get("STSVEND_TEST_POSTGRES_URL"), reason="STSVEND_TEST_POSTGRES_URL unset"
)


def _bench(benchmark: BenchmarkFixture, kind: str, what: str) -> None:
    with database(kind) as url:
        populate(url)
        workers = 1 if kind == "sqlite" else PG_WORKERS
        figures: list[float] = []

        def one_round() -> None:
            if what == "vend":
                figures.append(vends_per_second(url, workers, VENDS_PER_WORKER))
            else:
                kc_workers = 1 if kind == "sqlite" else KC_WORKERS
                figures.append(key_change_meters_per_second(url, len(figures), kc_workers))

        benchmark.pedantic(one_round, rounds=3, iterations=1)
        benchmark.extra_info.update(
            per_second_median=round(statistics.median(figures)),
            per_second_rounds=[round(f) for f in figures],
            workers=workers if what == "vend" else (1 if kind == "sqlite" else KC_WORKERS),
            meters=METERS,
        )
        print(f"\n{kind} {what}: median {statistics.median(figures):.0f}/s {figures}")


def test_vends_per_second_sqlite(benchmark: BenchmarkFixture) -> None:
    _bench(benchmark, "sqlite", "vend")


@needs_pg
def test_vends_per_second_postgres(benchmark: BenchmarkFixture) -> None:
    _bench(benchmark, "postgresql", "vend")


def test_group_key_change_sqlite(benchmark: BenchmarkFixture) -> None:
    _bench(benchmark, "sqlite", "key_change")


@needs_pg
def test_group_key_change_postgres(benchmark: BenchmarkFixture) -> None:
    _bench(benchmark, "postgresql", "key_change")


def pgbench_tps(clients: int, seconds: int = 15) -> float:
    """pgbench's TPC-B-like transactions per second with ``clients`` clients (``-s 10``), on
    a database of its own on the server the vends use: the anchor every PostgreSQL figure is
    stated against."""
    import re
    import subprocess

    from sqlalchemy.engine import make_url
    from tests.store.pgdb import temporary_database

    with temporary_database("stsvend_pgbench") as url:
        parsed = make_url(url)
        where = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
                 "-U", parsed.username or "postgres"]  # fmt: skip
        db = parsed.database or ""
        subprocess.run(["pgbench", *where, "-i", "-s", "10", "-q", db], check=True,
                       capture_output=True)  # fmt: skip
        out = subprocess.run(
            ["pgbench", *where, "-c", str(clients), "-j", str(clients), "-T", str(seconds), db],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    found = re.search(r"tps = ([0-9.]+)", out)
    assert found is not None, out
    return float(found.group(1))


def _report_postgres(url: str, workers: tuple[int, ...]) -> None:
    """Vends per second at each number of workers, beside pgbench at the same concurrency,
    measured one after the other in this run."""
    for n in workers:
        anchor_before = pgbench_tps(n)
        median, rounds = _median(partial(_vend_round, url, n))
        anchor_after = pgbench_tps(n)
        anchor = (anchor_before + anchor_after) / 2
        print(
            f"postgresql: {median:.0f} vends/s with {n} workers (rounds "
            f"{[round(r) for r in rounds]}); pgbench -c {n}: {anchor:.0f} tps "
            f"({anchor_before:.0f} before, {anchor_after:.0f} after); "
            f"ratio {median / anchor:.2f}"
        )


if __name__ == "__main__":  # a plain print-out: python benchmarks/bench_vend.py [sqlite|postgresql]
    kinds = sys.argv[1:] or ["sqlite", "postgresql"]
    for kind in kinds:
        with database(kind) as url:
            populate(url)
            if kind == "sqlite":
                median, rounds = _median(partial(_vend_round, url, 1))
                print(f"{kind}: {median:.0f} vends/s (one process, rounds {rounds})")
            else:
                _report_postgres(url, PG_REPORT_WORKERS)
            kc_workers = 1 if kind == "sqlite" else KC_WORKERS
            median, rounds = _median(partial(_key_change_round, url, kc_workers))
            print(f"{kind}: {median:.0f} key-changed meters/s (workers {kc_workers}, {rounds})")
