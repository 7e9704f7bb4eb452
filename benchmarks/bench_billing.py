"""The billing export of a month of sales: how long the figures and their checks take.

Run: ``python benchmarks/bench_billing.py [SALES]`` (SQLite file, default 10 000 credit sales
on 1 000 meters with accounts, a reversal every 50th) or
``pytest benchmarks/bench_billing.py --benchmark-only -p no:cacheprovider``.

What is measured: :func:`stsvend.services.billing.billing_export` of the month, which sums the
sales and the ledger by account in the database, reads the purchases' receipts for the energy
blocks, and checks the seven reconciliation rules (the token log's units and every sale's
record digest among them); then the CSV and JSON renderings of the result.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pytest_benchmark.fixture import BenchmarkFixture

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

METERS = 1_000


def build(folder: Path, sales: int) -> Any:
    """An installation on a SQLite file with ``sales`` credit sales (and a reversal every 50th)."""
    from tests.services.helpers import Installation

    from bench_vend import _drn, insert_meters
    from stsvend.services import receipts, vend

    inst = Installation(f"sqlite:///{folder / 'bench.db'}")
    with inst.svc.store.transaction() as conn:
        insert_meters(conn, range(1, METERS + 1), tariff="FLAT")
    for n in range(sales):
        result = vend.vend(inst.svc, inst.clerk, _drn(1 + n % METERS), f"{10 + n % 90}.00")
        inst.clock.advance(seconds=30)
        if n % 50 == 49:
            receipts.reverse(inst.svc, inst.supervisor, result.number, "benchmark reversal")
    return inst


def measure(inst: Any) -> dict[str, float]:
    from stsvend.adapters.billing.csv_format import CsvExporter
    from stsvend.adapters.billing.json_format import JsonExporter
    from stsvend.services.billing import billing_export

    day = inst.clock.now.date()
    first = day.replace(day=1).isoformat()
    times, renders = [], []
    for _ in range(3):
        start = time.perf_counter()
        export = billing_export(inst.svc, inst.admin, first, day.isoformat())
        times.append(time.perf_counter() - start)
        assert export.reconciled
        start = time.perf_counter()
        CsvExporter({}).render(export, {})
        JsonExporter({}).render(export, {})
        renders.append(time.perf_counter() - start)
    return {"export_s": statistics.median(times), "render_s": statistics.median(renders),
            "accounts": len(export.accounts)}  # fmt: skip


def test_billing_export(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    inst = build(tmp_path, 2_000)
    try:
        from stsvend.services.billing import billing_export

        day = inst.clock.now.date()
        benchmark.pedantic(billing_export, args=(inst.svc, inst.admin,
                           day.replace(day=1).isoformat(), day.isoformat()), rounds=3)  # fmt: skip
    finally:
        inst.close()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        made = build(Path(folder), count)
        print(f"{count} sales on {METERS} meters built in {time.perf_counter() - began:.1f} s")
        figures = measure(made)
        print(f"billing export of the month: {figures['export_s']:.3f} s "
              f"({figures['accounts']} accounts); CSV + JSON: {figures['render_s']:.3f} s")
        made.close()
