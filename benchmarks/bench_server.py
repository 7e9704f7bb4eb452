"""Purchases per second through the sale-point server, all on one vendor with 50 terminals.

Run: ``python benchmarks/bench_server.py [postgresql] [sqlite]`` (PostgreSQL needs
``STSVEND_TEST_POSTGRES_URL`` and ``pgbench``).  Each backend gets an installation of its own
(10 000 meters with accounts, vendor SHOP1 with 50 terminals and a float that never runs out)
served by a real ``stsvend serve``: PostgreSQL with 2 workers and ``synchronous_commit`` on,
SQLite with one worker (WAL, ``synchronous=FULL``).  The load generator runs on the same
machine, in a process of its own, over keep-alive HTTP/1.1 connections:

* **closed loop** — ``CLOSED_CLIENTS`` (50) clients each send a purchase as soon as the last
  one is answered, for ``SECONDS``: the maximum rate, with p50 and p99;
* **open loop** — purchases sent at a fixed arrival rate for ``SECONDS``, whatever the answers;
  a purchase's latency counts from when it was due, so a server that falls behind shows it.
  PostgreSQL's rate is ``OPEN_RATIO`` (0.25) × what ``pgbench -c 8`` does in the same run, the
  bar: that rate with p99 under 100 ms and no error.  SQLite's rate is half its closed-loop
  maximum (no pgbench anchor applies to it).  ``OPEN_RATE`` sets another rate (to find the
  highest that keeps p99 under 100 ms).

Every purchase has a new purchase id, a random meter and amount, and a random terminal's key.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METERS = 10_000
#: The benchmark's meters: clear of the base installation's (tests/cli/conftest.py).
FIRST_METERS = range(1000, 1000 + METERS)
TERMINALS = 50
SECONDS = float(os.environ.get("SERVER_BENCH_SECONDS", "15"))
CLOSED_CLIENTS = int(os.environ.get("CLOSED_CLIENTS", "50"))
OPEN_RATIO = 0.25
#: The most connections the open-loop generator keeps (a purchase waits for a free one).
OPEN_CONNECTIONS = 64
SPAWN = multiprocessing.get_context("spawn")


def installation(root: Path, url: str | None) -> tuple[Any, list[str]]:
    """The tests' base installation plus the benchmark's meters, vendor float and terminals."""
    from tests.cli.conftest import Cli, build
    from tests.server.conftest import admin_and_supervisor

    from bench_vend import insert_meters
    from stsvend.services import terminals, vendors

    cli = build(Cli(root / "data", url))
    with admin_and_supervisor(cli) as (svc, admin, boss):
        with svc.store.transaction() as conn:
            insert_meters(conn, FIRST_METERS, tariff="FLAT")
        keys = [terminals.add_terminal(svc, admin, "SHOP1", f"B-{i}").key
                for i in range(TERMINALS)]  # fmt: skip
        vendors.deposit(svc, boss, "SHOP1", "100000000", reference="BENCH")
    return cli, keys


@contextmanager
def serving(cli: Any, workers: int) -> Iterator[str]:
    import httpx
    from tests.cli.conftest import STSVEND
    from tests.server.conftest import free_port

    port = free_port()
    # Rate limits off: the benchmark is one vendor's whole network, not one terminal.
    env = {**cli.base_env(None), "STSVEND_SERVER_RATE_PER_SECOND": "0"}
    proc = subprocess.Popen([*STSVEND, "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator needs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, key: str, body: bytes) -> int:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status


def drn(n: int) -> str:
    from tests.cli.conftest import drn as numbered

    return numbered(n)


def _purchase(rng: random.Random, seq: str, keys: list[str]) -> tuple[str, bytes]:
    body = {"purchase_id": seq, "meter": drn(rng.choice(FIRST_METERS)),
            "amount": f"{rng.randint(10, 60)}.00", "tender": "cash"}  # fmt: skip
    return rng.choice(keys), json.dumps(body).encode()


async def _closed(port: int, keys: list[str], clients: int, seconds: float,
                  tag: str) -> dict[str, Any]:  # fmt: skip
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        conn = await Connection.open(port)
        i = 0
        while time.monotonic() < stop:
            key, body = _purchase(rng, f"{tag}-{n}-{i}", keys)
            started = time.monotonic()
            status = await conn.post("/v1/purchases", key, body)
            latencies.append(time.monotonic() - started)
            errors += status != 201
            i += 1
        conn.writer.close()

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return _figures(latencies, errors, time.monotonic() - began)


async def _open(port: int, keys: list[str], rate: float, seconds: float,
                tag: str) -> dict[str, Any]:  # fmt: skip
    latencies: list[float] = []
    errors = 0
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    opened = 0
    rng = random.Random(7)

    async def one(i: int, due: float) -> None:
        nonlocal errors, opened
        if idle.empty() and opened < OPEN_CONNECTIONS:
            opened += 1
            idle.put_nowait(await Connection.open(port))
        conn = await idle.get()
        key, body = _purchase(rng, f"{tag}-{i}", keys)
        try:
            status = await conn.post("/v1/purchases", key, body)
        finally:
            idle.put_nowait(conn)
        latencies.append(time.monotonic() - due)
        errors += status != 201

    began = time.monotonic()
    total = int(rate * seconds)
    tasks = []
    for i in range(total):
        due = began + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return _figures(latencies, errors, time.monotonic() - began)


def _figures(latencies: list[float], errors: int, elapsed: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "purchases": len(ordered), "per_second": len(ordered) / elapsed, "errors": errors,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }  # fmt: skip


def _generate(kind: str, port: int, keys: list[str], amount: float, tag: str, out: Any) -> None:
    if kind == "closed":
        out.put(asyncio.run(_closed(port, keys, int(amount), SECONDS, tag)))
    else:
        out.put(asyncio.run(_open(port, keys, amount, SECONDS, tag)))


def load(kind: str, base: str, keys: list[str], amount: float, tag: str) -> dict[str, Any]:
    """Run the load generator in a process of its own; its figures."""
    out = SPAWN.Queue()
    port = int(base.rsplit(":", 1)[1])
    proc = SPAWN.Process(target=_generate, args=(kind, port, keys, amount, tag, out))
    proc.start()
    figures: dict[str, Any] = out.get(timeout=SECONDS * 20 + 120)
    proc.join()
    return figures


def _line(label: str, f: dict[str, Any]) -> str:
    return (
        f"{label}: {f['per_second']:.0f} purchases/s ({f['purchases']} in the run), "
        f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, errors {f['errors']}"
    )


def run(kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder, contextmanager_db(kind) as url:
        cli, keys = installation(Path(folder), url)
        with serving(cli, 2 if url else 1) as base:
            load("closed", base, keys, 20, "warm")  # warm the caches and pools
            closed = load("closed", base, keys, CLOSED_CLIENTS, "closed")
            print(_line(f"{kind} closed loop, {CLOSED_CLIENTS} clients", closed))
            if url:
                from bench_vend import pgbench_tps

                anchor = pgbench_tps(8)
                rate = OPEN_RATIO * anchor
                print(f"pgbench -c 8: {anchor:.0f} tps; open-loop rate {OPEN_RATIO} x that = "
                      f"{rate:.0f}/s; closed-loop maximum / pgbench = "
                      f"{closed['per_second'] / anchor:.2f}")  # fmt: skip
            else:
                rate = closed["per_second"] / 2
            rate = float(os.environ.get("OPEN_RATE", rate))
            opened = load("open", base, keys, rate, "open")
            ok = opened["p99_ms"] < 100 and opened["errors"] == 0
            print(_line(f"{kind} open loop at {rate:.0f}/s", opened)
                  + ("  [bar met]" if ok else "  [bar NOT met]"))  # fmt: skip


@contextmanager
def contextmanager_db(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    from tests.store.pgdb import temporary_database

    with temporary_database("stsvend_bench_server") as url:
        yield url


if __name__ == "__main__":
    for name in sys.argv[1:] or ["postgresql", "sqlite"]:
        run(name)
