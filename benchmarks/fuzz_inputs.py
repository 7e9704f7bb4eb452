"""Fuzz every input interface at full size and print the figures.

Run: ``python benchmarks/fuzz_inputs.py [--per-interface 10000] [--seed 1] [--cli-shards 4]``.

Interfaces (``tests/fuzz/harness.py`` has the generators and their oracles): money, the
``--jsonl`` batch lines, configuration files, key files, keypad script lines, serial lines,
keypad profiles and state files, and the option values of every store command run through
``stsvend`` in process (SQLite, a raw hex KEK and test-only fast PIN hashes).  Each interface
runs in its own process (the CLI in ``--cli-shards`` of them, each on its own store); a failure
is any exception but a stsvend error, an exit 70 or traceback, an undocumented exit code, a
parse error before the permission refusal, or a value accepted that a strict reader refuses.
The exit status is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzz.harness import INTERFACES, Report, run_interface


def _one(job: tuple[str, int, int, int]) -> Report:
    name, count, seed, shard = job
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    if name != "cli":
        return run_interface(name, count, seed, folder / "files")
    from tests.fuzz.support import build

    store = build(folder / "data")
    store.reuse_services = True
    report = run_interface("cli", count, seed * 1000 + shard, folder, cli_store=store)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-interface", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cli-shards", type=int, default=4)
    parser.add_argument("--only", nargs="*", default=None, help="Interfaces to run.")
    args = parser.parse_args()
    names = args.only or [*INTERFACES, "cli"]
    jobs = [(n, args.per_interface, args.seed, 0) for n in names if n != "cli"]
    if "cli" in names:
        shards = max(1, args.cli_shards)
        size, extra = divmod(args.per_interface, shards)
        jobs += [("cli", size + (i < extra), args.seed, i) for i in range(shards)]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        reports = pool.map(_one, jobs)
    merged: dict[str, Report] = {}
    for report in reports:
        total = merged.setdefault(report.interface, Report(report.interface))
        total.inputs += report.inputs
        total.failures += report.failures
        total.seconds = max(total.seconds, report.seconds)
    print(f"{'interface':<12} {'inputs':>8} {'failures':>9} {'seconds':>8}")
    for report in merged.values():
        print(f"{report.interface:<12} {report.inputs:>8} {len(report.failures):>9} "
              f"{report.seconds:>8.1f}")  # fmt: skip
    failures = [f"{r.interface}: {f}" for r in merged.values() for f in r.failures]
    for line in failures[:50]:
        print(line)
    print(
        f"seed {args.seed}; wall time {time.perf_counter() - start:.0f} s; "
        f"{sum(r.inputs for r in merged.values())} inputs, {len(failures)} failures"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
