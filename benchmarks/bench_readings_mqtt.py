"""Meter readings per second through MQTT into the store, at QoS 1 with a persistent session.

Run: ``python benchmarks/bench_readings_mqtt.py [postgresql] [sqlite]`` (needs ``mosquitto``;
PostgreSQL needs ``STSVEND_TEST_POSTGRES_URL`` and ``pgbench``).  A broker of its own on a free
port, set as docs/readings.md asks of a production broker (no cap on the messages queued for a
session: Mosquitto's default of 1,000 drops the rest); an
installation with ``METERS`` (10,000) meters; a real ``stsvend worker --part readings-mqtt``;
gateways (a process of their own) publish messages of ``PER_MESSAGE`` (100) meters' readings
at QoS 1 for ``SECONDS`` (20):

* **sustained** — at ``RATE`` readings a second (the bar: 5,000), the readings stored a second
  and how far behind the store was when publishing stopped (kept up: under a second's
  readings), and then that none is lost: the store holds exactly the readings published;
* **maximum** — ``MAXIMUM_READINGS`` (200,000) published as fast as the gateways can, the
  readings stored a second until the last is stored.

PostgreSQL's figures come with ``pgbench -c 2`` of the same run (two writers: the worker and
the broker's client, roughly).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METERS = 10_000
FIRST_METERS = range(1000, 1000 + METERS)
PER_MESSAGE = 100
SECONDS = float(os.environ.get("READINGS_BENCH_SECONDS", "20"))
RATE = float(os.environ.get("READINGS_RATE", "5000"))
MAXIMUM_READINGS = int(os.environ.get("READINGS_MAXIMUM", "200000"))
SPAWN = multiprocessing.get_context("spawn")


def _publish(port: int, rate: float | None, seconds: float, start_ms: int, out: Any) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from tests.cli.conftest import drn

    numbers = [drn(n) for n in FIRST_METERS]
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}")
    pub.max_inflight_messages_set(100)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    sent = 0
    began = time.monotonic()
    k = 0
    pending = []
    total = None if rate is not None else MAXIMUM_READINGS
    while time.monotonic() - began < seconds if total is None else sent < total:
        for first in range(0, METERS, PER_MESSAGE):
            if (time.monotonic() - began >= seconds) if total is None else sent >= total:
                break
            if rate is not None:
                due = began + sent / rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
            doc = {m: [{"ts": start_ms + k * 60_000, "values": {"energy_wh": 1000 + k}}]
                   for m in numbers[first : first + PER_MESSAGE]}  # fmt: skip
            pending.append(pub.publish("v1/gateway/telemetry", json.dumps(doc), qos=1))
            sent += PER_MESSAGE
        k += 1
    for info in pending:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()
    out.put((sent, time.monotonic() - began, began))


def installation(root: Path, url: str | None) -> Any:
    from tests.cli.conftest import Cli, build
    from tests.server.conftest import admin_and_supervisor

    from bench_vend import insert_meters

    cli = build(Cli(root / "data", url))
    with admin_and_supervisor(cli) as (svc, _admin, _boss), svc.store.transaction() as conn:
        insert_meters(conn, FIRST_METERS, tariff="FLAT")
    return cli


@contextmanager
def broker(root: Path) -> Iterator[int]:
    from tests.server.conftest import free_port

    port = free_port()
    conf = root / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                    "max_queued_messages 0\nmax_inflight_messages 0\n")  # fmt: skip
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.5)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def worker(cli: Any, root: Path, port: int) -> Iterator[None]:
    from tests.cli.conftest import STSVEND

    config = root / "worker.toml"
    config.write_text(f"[adapters.worker.readings-mqtt]\nhost = \"127.0.0.1\"\nport = {port}\n"
                      f"client_id = \"bench-{uuid.uuid4().hex[:8]}\"\n"
                      "batch_messages = 50\ninterval_seconds = 0.05\n")  # fmt: skip
    env = {**cli.base_env("engineer"), "STSVEND_CONFIG": str(config)}
    proc = subprocess.Popen([*STSVEND, "worker", "--part", "readings-mqtt"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    assert proc.stderr is not None
    while '"event": "started"' not in proc.stderr.readline():
        assert proc.poll() is None, "the worker did not start"
    time.sleep(1.0)
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def _count(cli: Any) -> int:
    return int(cli.sql("SELECT count(*) FROM meter_reading")[0][0])


def _run_load(cli: Any, port: int, rate: float | None, start_ms: int) -> dict[str, float]:
    before = _count(cli)
    queue = SPAWN.Queue()
    gateway = SPAWN.Process(target=_publish, args=(port, rate, SECONDS, start_ms, queue))
    gateway.start()
    sent, elapsed, began = queue.get(timeout=SECONDS * 10)
    gateway.join()
    stored_when_done = _count(cli) - before
    while _count(cli) - before < sent and time.monotonic() - began < SECONDS * 20:
        time.sleep(0.25)
    drained = time.monotonic() - began
    stored = _count(cli) - before
    return {"sent": sent, "published_per_second": sent / elapsed, "stored": stored,
            "stored_per_second": stored / drained, "behind_at_end": sent - stored_when_done,
            "drain_seconds": drained - elapsed}  # fmt: skip


def run(kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder, _database(kind) as url:
        root = Path(folder)
        cli = installation(root, url)
        anchor = None
        if url:
            from bench_vend import pgbench_tps

            anchor = pgbench_tps(2)
        with broker(root) as port, worker(cli, root, port):
            base = 1_764_547_200_000
            held = _run_load(cli, port, RATE, base)
            top = _run_load(cli, port, None, base + 10**9)
        # Kept up: nothing lost, and when the gateways stopped the store was less than a
        # second's readings behind them (a backlog that grows would be far more).
        ok = held["stored"] == held["sent"] and held["behind_at_end"] <= RATE
        print(f"{kind} sustained at {RATE:.0f}/s: sent {held['sent']}, stored "
              f"{held['stored']} ({held['stored_per_second']:.0f}/s), "
              f"{held['behind_at_end']} behind when publishing stopped, drained in "
              f"{held['drain_seconds']:.1f} s" + ("  [bar met]" if ok else "  [bar NOT met]"))
        print(f"{kind} maximum: published {top['published_per_second']:.0f}/s, stored "
              f"{top['stored']} of {top['sent']} ({top['stored_per_second']:.0f}/s)")
        if anchor is not None:
            print(f"pgbench -c 2: {anchor:.0f} tps; maximum readings/s / pgbench tps = "
                  f"{top['stored_per_second'] / anchor:.2f}")


@contextmanager
def _database(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    from tests.store.pgdb import temporary_database

    with temporary_database("stsvend_bench_readings") as url:
        yield url


if __name__ == "__main__":
    for name in sys.argv[1:] or ["postgresql", "sqlite"]:
        run(name)
