"""A CRM import of 1,000,000 IS-U rows on SQLite, its re-import, and new meters' commissioning.

Run: ``python benchmarks/bench_crm_import.py [ROWS]`` (not part of CI; ROWS defaults to
1,000,000).  A rich progress bar shows each import.

What is measured (targets in brackets):

* **import** — ``ROWS`` IS-U rows (the default mapping's 11 identifier columns plus six
  personal columns that are dropped unread) through the ``isu`` adapter and
  :func:`stsvend.services.crm.import_crm`, chunks of 5,000, each one transaction: one account
  and one customer created per row, on meters already registered (as a previous system's
  ``stsvend meters import`` leaves them) [under 2 minutes for 1,000,000];
* **re-import** — the same file again: every row unchanged [under 1 minute];
* **new meters** — ``NEW`` rows (default 20,000) whose meters are new to stsvend: each meter
  registered on its default key with its commissioning key change made (two tokens through the
  security module, both in the token log);
* **memory** — the import runs in a process of its own (the setup in another), so its peak RSS
  (``ru_maxrss``) is the import's; RSS is also sampled after each chunk (flat = the last sample
  is close to the first);
* **anchor** — a plain ``sqlite3`` ``executemany`` of ``ROWS`` rows of 14 text columns into
  one table of a new file, one transaction, in the same run: the machine's figure for "write
  that many rows", so the import's time reads as a ratio of it.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROWS = 1_000_000
NEW = int(os.environ.get("CRM_BENCH_NEW", "20000"))
SPAWN = multiprocessing.get_context("spawn")
HEADER = ("PARTNER,VKONTO,VERTRAG,ANLAGE,VSTELLE,SPARTE,EINZDAT,AUSZDAT,EQUNR,GERNR,TARIFTYP,"
          "NAME_FIRST,NAME_LAST,STREET,CITY1,TEL_NUMBER,SMTP_ADDR\n")  # fmt: skip


def _drn(n: int) -> str:
    from stsvend import sts

    body = f"01{n:08d}"
    return body + str(sts.luhn_check_digit(body))


def write_file(path: Path, numbers: range) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for n in numbers:
            out.write(
                f"{1_000_000_000 + n},{2_000_000_000 + n},{3_000_000_000 + n},"
                f"{4_000_000_000 + n},{5_000_000_000 + n},01,20240101,99991231,"
                f"{6_000_000_000 + n},{_drn(n)},FLAT,Anna,Muster{n},Bahnhofstrasse {n % 90},"
                f"Bern,+41 31 555 {n % 10000:04d},anna{n}@example.org\n"
            )


def setup(url: str, folder: str, rows: int, new: int) -> None:
    """The installation, its meters (bulk: setup, not measured) and the two files."""
    from sqlalchemy import insert
    from tests.services.helpers import Installation

    from stsvend.store.models import Meter
    from stsvend.tokenlog.writer import open_chains

    inst = Installation(url, create=False)  # migrated, as stsvend init leaves it
    now = datetime.now(UTC)
    try:
        with inst.svc.store.transaction() as conn:
            for start in range(0, rows, 50_000):
                numbers = range(start, min(rows, start + 50_000))
                conn.execute(insert(Meter), [
                    {"drn": _drn(i), "iin": "600727", "resource": 0, "status": "active",
                     "sgc": 123456, "ti": 1, "krn": 1, "key_type": 2, "ea": "07",
                     "base_date": 2014, "ken": 255, "dkga": "02", "created_at": now}
                    for i in numbers
                ])  # fmt: skip
                open_chains(conn, [_drn(i) for i in numbers])
    finally:
        inst.close()
    write_file(Path(folder) / "isu.csv", range(rows))
    write_file(Path(folder) / "new.csv", range(rows, rows + new))


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(url: str, folder: str, rows: int, new: int, out: Any) -> None:
    """The imports, in a process of their own: times, RSS samples and the peak."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from tests.services.helpers import LOG_KEY, Installation, config, hsm

    from stsvend.adapters.crm.formats import isu
    from stsvend.services.crm import import_crm

    inst = Installation.__new__(Installation)
    from tests.services.helpers import PINS

    from stsvend.services.auth import login
    from stsvend.services.context import Services
    from stsvend.store.uow import Store

    inst.svc = Services(Store.open(url), config(), hsm=hsm(), log_key=LOG_KEY)
    admin = login(inst.svc, "admin", PINS["admin"])
    figures: dict[str, Any] = {}
    importer = isu()
    for label, name, total in (("import", "isu.csv", rows), ("re-import", "isu.csv", rows),
                               ("new meters", "new.csv", new)):  # fmt: skip
        samples: list[float] = []
        with Progress(*Progress.get_default_columns()[:2], MofNCompleteColumn(), BarColumn(),
                      TimeElapsedColumn()) as bar:  # fmt: skip
            task = bar.add_task(label, total=total)

            def tick(done: int, task: Any = task, bar: Any = bar, samples: Any = samples) -> None:
                bar.update(task, completed=done)
                samples.append(_rss_mb())

            with (Path(folder) / name).open(encoding="utf-8", newline="") as stream:
                started, cpu = time.perf_counter(), time.process_time()
                report = import_crm(inst.svc, admin, importer.source(stream),
                                    supply_group=123456, progress=tick)  # fmt: skip
                seconds = time.perf_counter() - started
                cpu = time.process_time() - cpu
        assert report.adds_up and report.rejected == 0, report.rejections[:3]
        figures[label] = {"seconds": seconds, "cpu": cpu, "rows": report.rows,
                          "created": report.created,
                          "unchanged": report.unchanged, "meters_added": report.meters_added,
                          "rss_first_mb": samples[0], "rss_last_mb": samples[-1],
                          "rss_max_mb": max(samples)}  # fmt: skip
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inst.svc.store.dispose()
    out.put(figures)


def anchor(folder: str, rows: int) -> tuple[float, float]:
    """Seconds (wall clock, CPU) for a plain sqlite3 executemany of ``rows`` rows of 14 text
    columns."""
    path = Path(folder) / "anchor.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, " +
               ", ".join(f"c{i} TEXT" for i in range(14)) + ")")  # fmt: skip
    data = ((f"{1_000_000_000 + n}",) * 14 for n in range(rows))
    started, cpu = time.perf_counter(), time.process_time()
    with db:
        db.executemany("INSERT INTO t (" + ", ".join(f"c{i}" for i in range(14)) + ") VALUES ("
                       + ", ".join("?" * 14) + ")", data)  # fmt: skip
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return seconds, cpu


def main(rows: int = ROWS, new: int = NEW) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-crm-") as folder:
        url = f"sqlite:///{folder}/stsvend.db"
        t0 = time.perf_counter()
        proc = SPAWN.Process(target=setup, args=(url, folder, rows, new))
        proc.start()
        proc.join()
        assert proc.exitcode == 0
        print(f"setup ({rows:,} meters, the files): {time.perf_counter() - t0:.0f} s")
        size = (Path(folder) / "isu.csv").stat().st_size
        load = os.getloadavg()[0]
        anchor_s, anchor_cpu = anchor(folder, rows)
        queue = SPAWN.Queue()
        proc = SPAWN.Process(target=measure, args=(url, folder, rows, new, queue))
        proc.start()
        proc.join()
        assert proc.exitcode == 0, "the measuring process failed"
        figures = queue.get(timeout=5)
        buf = io.StringIO()
        print(f"file: {rows:,} IS-U rows, {size / 1e6:.0f} MB", file=buf)
        print(f"load average before the run: {load:.1f} ({os.cpu_count()} CPUs)", file=buf)
        print(f"anchor: sqlite3 executemany of {rows:,} rows x 14 text columns: "
              f"{anchor_s:.1f} s ({anchor_cpu:.1f} s CPU)", file=buf)  # fmt: skip
        for label in ("import", "re-import", "new meters"):
            f = figures[label]
            print(f"{label}: {f['rows']:,} rows in {f['seconds']:.1f} s, {f['cpu']:.1f} s CPU "
                  f"({f['rows'] / f['seconds']:,.0f} rows/s; {f['seconds'] / anchor_s:.1f}x the "
                  f"anchor, {f['cpu'] / anchor_cpu:.1f}x its CPU); created {f['created']:,}, "
                  f"unchanged {f['unchanged']:,}, meters "
                  f"added {f['meters_added']:,}; RSS {f['rss_first_mb']:.0f} MB after the first "
                  f"chunk, {f['rss_last_mb']:.0f} MB after the last, at most "
                  f"{f['rss_max_mb']:.0f} MB", file=buf)  # fmt: skip
        print(f"peak RSS of the importing process: {figures['peak_rss_mb']:.0f} MB", file=buf)
        print(buf.getvalue(), end="")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)
