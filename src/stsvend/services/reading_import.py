"""Readings from a bulk file (CSV), as a meter data system or a hand-held reader exports them.

The file has a header row; columns ``drn``, ``read_at`` (ISO 8601 with its offset, ``Z`` for
UTC), and the register as ``energy_wh`` (whole Wh) or ``energy_kwh`` (kWh with at most three
decimals); ``interval_wh`` and ``status`` are optional.  A malformed row is rejected with its
line number and the rest are stored (:func:`stsvend.services.readings.ingest`, 5,000 a
transaction); the import is in the operation log with its counts.

>>> rows, bad = parse("drn,read_at,energy_kwh\\n01234567897,2026-11-01T00:00Z,12.5\\n")
>>> rows[0].energy_wh, rows[0].read_at.isoformat(), rows[0].ref, bad
(12500, '2026-11-01T00:00:00+00:00', 'line 2', [])
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal, InvalidOperation

from attrs import evolve

from stsvend.errors import InputError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.readings import IncomingReading, ReadingIntake, Rejected, ingest
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = ["BATCH", "import_file", "parse"]

BATCH = 5_000


def _whole(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise ValueError(f"{what} is not a whole number")
    return int(text)


def _row(line: int, raw: dict[str, str | None]) -> IncomingReading:
    def cell(name: str) -> str:
        value = raw.get(name)
        return value.strip() if isinstance(value, str) else ""

    try:
        read_at = datetime.fromisoformat(cell("read_at"))
    except ValueError:
        raise ValueError("read_at is not an ISO 8601 time") from None
    if cell("energy_wh"):
        energy = _whole(cell("energy_wh"), "energy_wh")
    else:
        try:
            kwh = Decimal(cell("energy_kwh"))
        except InvalidOperation:
            raise ValueError("give energy_wh or energy_kwh as a number") from None
        if not kwh.is_finite() or kwh < 0 or (kwh * 1000) % 1:
            raise ValueError("energy_kwh is not a number of kWh with at most 3 decimals")
        energy = int(kwh * 1000)
    interval = _whole(cell("interval_wh"), "interval_wh") if cell("interval_wh") else None
    status = _whole(cell("status"), "status") if cell("status") else 0
    return IncomingReading(cell("drn"), read_at, energy, interval, status, ref=f"line {line}")


def parse(text: str) -> tuple[list[IncomingReading], list[Rejected]]:
    """The file's readings and its malformed rows (by line, with the reason)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if not {"drn", "read_at"} <= columns or not columns & {"energy_wh", "energy_kwh"}:
        raise InputError("a readings file has a header row with drn, read_at and energy_wh "
                         "or energy_kwh")  # fmt: skip
    good: list[IncomingReading] = []
    bad: list[Rejected] = []
    for raw in reader:
        line = reader.line_num
        if None in raw:
            bad.append(Rejected(f"line {line}", "more cells than the header has columns"))
            continue
        try:
            good.append(_row(line, raw))
        except ValueError as exc:
            bad.append(Rejected(f"line {line}", str(exc)))
    return good, bad


def import_file(svc: Services, actor: Actor, text: str, *, name: str = "") -> ReadingIntake:
    """Store the readings of a CSV file; the counts, and every rejected line with its reason."""
    authorize(svc, actor, Action.READINGS_INGEST)
    good, bad = parse(text)
    total = ReadingIntake(received=len(good) + len(bad), rejected=tuple(bad))
    for start in range(0, len(good), BATCH):
        got = ingest(svc, actor, good[start : start + BATCH], source="csv")
        total = evolve(
            total, stored=total.stored + got.stored, duplicates=total.duplicates + got.duplicates,
            conflicts=total.conflicts + got.conflicts, flagged=total.flagged + got.flagged,
            reflagged=total.reflagged + got.reflagged, rejected=total.rejected + got.rejected,
        )  # fmt: skip
    with svc.store.transaction() as conn:
        log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                      action="readings.import", target=name[:200],
                      detail={"received": total.received, "stored": total.stored,
                              "duplicates": total.duplicates, "conflicts": total.conflicts,
                              "flagged": total.flagged,
                              "rejected": len(total.rejected)})  # fmt: skip
    return total
