"""Work orders per second through the whole pipeline: files dropped → taken in (moved,
size-checked, parsed with defusedxml, validated against the schema, check digits) → stored in
one transaction a file → routed through the outbox to an installer's system (a local HTTP
server) → delivered.

Run: ``python benchmarks/bench_workorders.py`` (under a minute).  ``WO_ORDERS`` (default 2000)
sets the orders; they are sent as bulk files of ``WO_BULK`` (default 100) orders, and then as
many again one order a file.  ``WO_POSTGRES=1`` runs it on PostgreSQL instead of SQLite, in a
temporary database of the tests' server (``STSVEND_TEST_POSTGRES_URL``).

The pipeline runs in-process, as ``stsvend workorders run`` does (its ``run_once`` rounds as the
engineer), timed from the first round to the last routed order the receiver took.  Printed:
orders per second for bulk files and for single-order files, and the share of the time each
stage took (intake, route delivery).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cli.conftest import PINS, Cli, build, drn
from tests.workorders.support import Receiver, bulk, configure, drop, order_xml, single

ORDERS = int(os.environ.get("WO_ORDERS", "2000"))
BULK = int(os.environ.get("WO_BULK", "100"))


def meter(n: int) -> str:
    return drn(1000 + n)


def run(cli: Cli, root: Path, label: str, files: list[tuple[str, str]], count: int) -> None:
    from stsvend.adapters.workorders import folders as folder_mod
    from stsvend.adapters.workorders.part import factory
    from stsvend.config import load_config
    from stsvend.services import auth
    from stsvend.services.bootstrap import open_services
    from stsvend.services.workorders import deliver_due, route_handler

    folders = configure(cli, root / label, retry_base_seconds=0)
    env = cli.base_env(None)
    svc = open_services(load_config(env), env=env)
    actor = auth.login(svc, "engineer", PINS["engineer"])
    with Receiver() as rx:
        cli.ok("workorders", "route", "set", "installation", "--url", rx.url, role="engineer")
        for name, text in files:
            drop(folders, name, text)
        part = factory(svc, actor, svc.config.adapter_settings("worker", "workorders") or {})
        intake = route = 0.0
        started = time.perf_counter()
        while len(rx.received) < count:
            t0 = time.perf_counter()
            taken = folder_mod.intake_round(svc, actor, part.folders)
            t1 = time.perf_counter()
            sent = deliver_due(svc, actor, ("route",), route_handler(svc, part._transport),
                               limit=500).handled  # fmt: skip
            t2 = time.perf_counter()
            intake, route = intake + t1 - t0, route + t2 - t1
            if taken == 0 and sent == 0:
                break
        elapsed = time.perf_counter() - started
        part.close()
        assert len(rx.received) == count, (len(rx.received), count)
    svc.store.dispose()
    print(f"{label:>8}: {count} orders in {elapsed:6.2f} s = {count / elapsed:7.1f} orders/s "
          f"(intake {intake / elapsed:4.0%}, routing {route / elapsed:4.0%})")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        url = None
        if os.environ.get("WO_POSTGRES") == "1":
            from tests.store.pgdb import temporary_database

            url = stack.enter_context(temporary_database("stsvend_wo_bench"))
        cli = build(Cli(root / "data", url))
        print(f"{'PostgreSQL' if url else 'SQLite'}, {ORDERS} orders each way")
        bulk_files = [
            (f"bulk-{b:04d}.xml", bulk(f"B-{b}", [order_xml(f"WO-{n}", meter=meter(n))
                                                for n in range(b * BULK, (b + 1) * BULK)]))
            for b in range(ORDERS // BULK)
        ]  # fmt: skip
        run(cli, root, "bulk", bulk_files, ORDERS)
        singles = [(f"one-{n:05d}.xml", single(f"WS-{n}", meter=meter(n)))
                   for n in range(ORDERS)]  # fmt: skip
        run(cli, root, "single", singles, ORDERS)


if __name__ == "__main__":
    main()
