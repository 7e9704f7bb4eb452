"""Load and faults: 200 clients buy for 50 meters through the client library, with repeated and
retried purchase ids, while the server (two workers, PostgreSQL) is killed with SIGKILL and
started again, twice.  Afterwards every purchase id has one outcome, the one its client holds;
no TID repeats; the float, the commissions and the ledger agree to the cent; the log verifies;
and no token exists without its sale."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.client import OutcomeUnknown, Purchase, SalePointClient, ServerUnavailable
from tests.cli.conftest import STSVEND, Cli, build, drn
from tests.server.conftest import admin_and_supervisor, free_port
from tests.store.pgdb import ENV as PG_ENV
from tests.store.pgdb import temporary_database

CLIENTS = 200
PURCHASES_EACH = 3
METERS = [drn(100 + i) for i in range(50)]
KILLS = 2


def _provision(cli: Cli) -> str:
    from stsvend.services import registry, terminals, vendors

    with admin_and_supervisor(cli) as (svc, admin, boss):
        for i, meter in enumerate(METERS):
            registry.add_meter(svc, admin, meter, sgc=123456)
            registry.open_account(svc, admin, customer=f"L-{i}", contract=f"LK-{i}", drn=meter,
                                  tariff="FLAT")  # fmt: skip
        key = terminals.rotate_key(svc, admin, "SHOP1", "TILL-1").key
        vendors.deposit(svc, boss, "SHOP1", "100000", reference="BANK-LOAD")
    return key


class Server:
    """``stsvend serve`` in a process group of its own, so that SIGKILL takes every worker."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import httpx

        self.proc = subprocess.Popen(
            [*STSVEND, "serve", "--port", str(self.port), "--workers", "2"],
            env=self.cli.base_env(None), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not start again")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set (no PostgreSQL server for tests)")
    with temporary_database("stsvend_load") as url:
        cli = build(Cli(tmp_path / "data", url))
        key = _provision(cli)
        server = Server(cli)
        server.start()
        try:
            yield server, key
        finally:
            server.stop()


def _buy_until_known(client: SalePointClient, meter: str, amount: str, pid: str) -> Purchase:
    """What a point of sale does: the same purchase id until the outcome is known."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return client.purchase(meter, amount, purchase_id=pid)
        except (OutcomeUnknown, ServerUnavailable):
            assert time.monotonic() < deadline, f"{pid}: no outcome in 120 s"
            time.sleep(0.3)


def test_purchases_survive_kills_exactly_once(loaded: tuple[Server, str]) -> None:
    server, key = loaded
    held: dict[str, tuple[str, ...]] = {}
    errors: list[BaseException] = []
    done = threading.Semaphore(0)
    lock = threading.Lock()

    def shop(n: int) -> None:
        rng = random.Random(n)
        with SalePointClient(server.base, key, budget=3.0, timeout=2.0) as client:
            mine: list[tuple[str, str, str]] = []
            try:
                for j in range(PURCHASES_EACH):
                    meter, amount = rng.choice(METERS), f"{rng.randint(5, 30)}.00"
                    pid = f"load-{n}-{j}"
                    answer = _buy_until_known(client, meter, amount, pid)
                    if rng.random() < 0.3:  # a duplicate, as a double tap would send
                        again = _buy_until_known(client, meter, amount, pid)
                        assert again.replayed and again.tokens == answer.tokens
                    mine.append((pid, meter, amount))
                    with lock:
                        held[pid] = tuple(t.digits or "" for t in answer.tokens)
                    done.release()
                if mine and rng.random() < 0.3:  # a retried id, later
                    pid, meter, amount = rng.choice(mine)
                    later = _buy_until_known(client, meter, amount, pid)
                    assert later.replayed
                    with lock:
                        assert held[pid] == tuple(t.digits or "" for t in later.tokens)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

    kills: list[int] = []  # how many purchases were held at each kill
    threads = [threading.Thread(target=shop, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    total = CLIENTS * PURCHASES_EACH
    for kill in range(KILLS):
        for _ in range(total * (kill + 1) // (KILLS + 2)):  # kill at 1/4 and 2/4 of the way
            done.acquire(timeout=180)
        server.kill()
        kills.append(len(held))
        time.sleep(0.5)
        server.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    assert len(held) == total
    assert len(kills) == KILLS and all(0 < k < total for k in kills), kills

    cli = server.cli
    stored = {pid: tuple(t["digits"] for t in result["tokens"]) for pid, result in
              cli.sql("SELECT s.request_id, s.result FROM sale s JOIN vendor v ON v.id = "
                      "s.vendor_id WHERE v.code = 'SHOP1' AND s.kind = 'credit'")}  # fmt: skip
    assert stored == held  # one outcome per id, the one its client holds; no stray sale
    assert cli.sql("SELECT meter, base_date, tid FROM token_log WHERE tid IS NOT NULL "
                   "GROUP BY meter, base_date, tid HAVING count(*) > 1") == []  # fmt: skip
    assert cli.sql("SELECT t.id FROM token_log t LEFT JOIN sale s ON s.id = t.sale_id "
                   "WHERE t.event = 'token' AND s.id IS NULL") == []  # fmt: skip
    slots = cli.sql("SELECT sum(f.balance) FROM vendor_float f JOIN vendor v "
                    "ON v.id = f.vendor_id WHERE v.code = 'SHOP1'")[0][0]  # fmt: skip
    ledger = cli.sql("SELECT sum(l.amount) FROM vendor_ledger l JOIN vendor v "
                     "ON v.id = l.vendor_id WHERE v.code = 'SHOP1'")[0][0]  # fmt: skip
    assert slots == ledger
    sold, commission = cli.sql(
        "SELECT sum(s.amount), sum(CAST(s.result->'sale_point'->>'commission' AS BIGINT)) "
        "FROM sale s JOIN vendor v ON v.id = s.vendor_id WHERE v.code = 'SHOP1'"
    )[0]
    ledger_sales = cli.sql("SELECT -sum(amount) FROM vendor_ledger WHERE entry = 'sale'")[0][0]
    ledger_commission = cli.sql(
        "SELECT sum(amount) FROM vendor_ledger WHERE entry = 'commission'"
    )[0][0]
    assert (ledger_sales, ledger_commission) == (sold, commission)
    verified = cli.run("log", "verify", role="auditor")
    assert verified.returncode == 0, verified.stdout + verified.stderr
