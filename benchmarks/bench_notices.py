"""Customer notices: how fast the producer fills the outbox and a worker empties it.

Run: ``python benchmarks/bench_notices.py`` (well under a minute).  ``NOTICE_SALES`` (default
500) sets the sales made first, on an in-memory SQLite installation like the service tests'.

Printed: the time of a producer scan that enqueues one receipt per sale on two channels, of a
second scan over the same sales (the overlap: nothing added), and of sending them all through
the ``file`` channel (claims, template, append, settle), as notices a second.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.services.helpers import drn, installation

from stsvend.adapters.notify.file_channel import FileChannel
from stsvend.services import vend
from stsvend.services.notices.delivery import deliver
from stsvend.services.notices.outbox import RetryPolicy
from stsvend.services.notices.producer import scan

SALES = int(os.environ.get("NOTICE_SALES", "500"))


def main() -> None:
    with installation() as inst, tempfile.TemporaryDirectory() as folder:
        meters = [drn(i) for i in range(1, 21)]
        for meter in meters:
            inst.meter(meter)
        for n in range(SALES):
            vend.vend(inst.svc, inst.clerk, meters[n % len(meters)], "20")
            inst.clock.advance(seconds=1)
        channels = {"file": FileChannel(Path(folder) / "a.txt"),
                    "file2": FileChannel(Path(folder) / "b.txt")}  # fmt: skip
        start = time.perf_counter()
        added = scan(inst.svc, list(channels))
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = scan(inst.svc, list(channels))
        second = time.perf_counter() - start
        start = time.perf_counter()
        sent = 0
        while True:
            done = deliver(inst.svc, channels, None, RetryPolicy(), limit=100)
            if not done.handled:
                break
            sent += done.sent
        sending = time.perf_counter() - start
    print(f"scan: {added} notices from {SALES} sales in {first:.3f} s "
          f"({added / first:.0f} a second)")
    print(f"re-scan (the overlap): {again} added in {second:.3f} s")
    print(f"send through the file channel: {sent} in {sending:.3f} s "
          f"({sent / sending:.0f} a second)")


if __name__ == "__main__":
    main()
