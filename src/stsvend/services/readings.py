"""Meter readings in: stored once, placed by time, judged before they are used.

:func:`ingest` takes a batch of readings from any source (a gateway over MQTT, a bulk file, a
meter read over DLMS) in one transaction:

* a reading is its meter and its time: the same reading again is a *duplicate* and changes
  nothing; another register value at a time already stored is a *conflict*, reported, and the
  stored one is kept;
* readings are placed by their time, whatever order they arrive in: a late reading is judged
  against the good reading before it, and the readings after it are judged again;
* a register that goes backwards or rises faster than the limit is *flagged*
  (:mod:`stsvend.metering.plausibility`): stored, shown, never used as consumption;
* a reading for a meter the store does not know, from the future, or with an impossible value
  is *rejected* with its reason (no value is echoed).

>>> from stsvend.services.results import as_doc
>>> as_doc(ReadingIntake(received=3, stored=2, duplicates=1))["stored"]
2
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import evolve, frozen
from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.errors import IdentityError, InputError
from stsvend.metering.plausibility import DEFAULT_LIMIT_WH_PER_HOUR, Reading, judge
from stsvend.services.auth import authorize
from stsvend.services.common import normalise_drn
from stsvend.services.context import Actor, Services
from stsvend.store.models import Meter
from stsvend.store.repos import readings as rdg
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = [
    "EARLIEST",
    "SOURCES",
    "IncomingReading",
    "ReadingIntake",
    "ReadingList",
    "Rejected",
    "ingest",
    "list_readings",
    "purge",
]

#: Readings before this are refused (no STS meter reports from before it).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: A reading may be at most this far ahead of the store's clock (a meter's clock runs fast).
_AHEAD = timedelta(days=1)
_MAX_WH = 2**53
SOURCES = ("mqtt", "csv", "dlms")


@frozen
class IncomingReading:
    """A reading as a source gives it: the meter number, the time (timezone-aware), the
    cumulative register (Wh), and optionally the interval's consumption and status bits.
    ``ref`` names it in a rejection (a file's line, a message's device)."""

    drn: str
    read_at: datetime
    energy_wh: int
    interval_wh: int | None = None
    status: int = 0
    ref: str = ""


@frozen
class Rejected:
    """A reading not stored: where it came from (``ref``) and why."""

    ref: str
    reason: str


@frozen
class ReadingIntake:
    """What a batch did: readings received, stored (new), duplicates (already stored, same
    value), conflicts (already stored, another value: the stored one kept), flagged (stored
    with a plausibility flag), reflagged (earlier readings whose flag a late one changed),
    rejected (with reasons)."""

    received: int
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    flagged: int = 0
    reflagged: int = 0
    rejected: tuple[Rejected, ...] = ()


@frozen
class ReadingList:
    """A meter's readings, oldest first."""

    drn: str
    readings: tuple[rdg.StoredReading, ...]


def _check(reading: IncomingReading, now: datetime) -> str | None:
    at = reading.read_at
    if at.tzinfo is None or at.utcoffset() is None:
        return "the time has no time zone"
    if not EARLIEST <= at <= now + _AHEAD:
        return "the time is before 2000 or in the future"
    for value, what in ((reading.energy_wh, "register"), (reading.interval_wh, "interval")):
        if value is not None and (type(value) is not int or not 0 <= value < _MAX_WH):
            return f"the {what} is not a whole number of Wh from 0 to 2**53"
    if type(reading.status) is not int or not 0 <= reading.status < 2**31:
        return "the status is not a whole number from 0 to 2**31"
    return None


def _meters(conn: Connection, drns: set[str]) -> dict[str, int]:
    rows = conn.execute(select(Meter.drn, Meter.id).where(Meter.drn.in_(sorted(drns))))
    return {drn: meter_id for drn, meter_id in rows}


def ingest(
    svc: Services,
    actor: Actor,
    readings: Sequence[IncomingReading],
    *,
    source: str,
    limit_wh_per_hour: int = DEFAULT_LIMIT_WH_PER_HOUR,
) -> ReadingIntake:
    """Store a batch of readings (one transaction); see the module's rules."""
    authorize(svc, actor, Action.READINGS_INGEST)
    if source not in SOURCES:
        raise InputError(f"a reading's source is one of {', '.join(SOURCES)}")
    now = svc.now()
    rejected: list[Rejected] = []
    valid: list[tuple[str, IncomingReading]] = []
    numbers: dict[str, str | None] = {}  # a gateway sends the same meters again and again
    for reading in readings:
        why = _check(reading, now)
        drn = ""
        if why is None:
            if reading.drn not in numbers:
                try:
                    numbers[reading.drn] = normalise_drn(reading.drn)
                except (InputError, IdentityError):
                    numbers[reading.drn] = None
            drn = numbers[reading.drn] or ""
            if not drn:
                why = "the meter number is malformed or its check digit is wrong"
        if why is not None:
            rejected.append(Rejected(reading.ref, why))
        else:
            valid.append((drn, reading))
    rdg.ensure_partitions(svc.store.engine, (r.read_at for _, r in valid))
    with svc.store.transaction() as conn:
        ids = _meters(conn, {drn for drn, _ in valid})
        batch: dict[int, dict[datetime, IncomingReading]] = defaultdict(dict)
        conflicts = duplicates = 0
        for drn, reading in valid:
            meter_id = ids.get(drn)
            if meter_id is None:
                rejected.append(Rejected(reading.ref, f"meter {drn} is not registered"))
                continue
            at = reading.read_at.astimezone(UTC)
            seen = batch[meter_id].get(at)
            if seen is None:
                batch[meter_id][at] = reading
            elif seen.energy_wh == reading.energy_wh:
                duplicates += 1
            else:
                conflicts += 1
        intake = _store(conn, batch, now, source, limit_wh_per_hour)
    return evolve(intake, received=len(readings), duplicates=intake.duplicates + duplicates,
                  conflicts=intake.conflicts + conflicts,
                  rejected=tuple(rejected))  # fmt: skip


def _store(
    conn: Connection,
    batch: dict[int, dict[datetime, IncomingReading]],
    now: datetime,
    source: str,
    limit: int,
) -> ReadingIntake:
    heads = rdg.lock_heads(conn, list(batch))
    rows: list[dict[str, Any]] = []
    late: dict[int, datetime] = {}
    new_heads = []
    for meter_id, by_time in batch.items():
        head = heads[meter_id]
        times = sorted(by_time)
        fresh = [t for t in times if head.last_at is None or t > head.last_at]
        if len(fresh) < len(times):
            late[meter_id] = times[0]
        reference = None if head.good_at is None or head.good_wh is None else (
            Reading(head.good_at, head.good_wh))  # fmt: skip
        flags = {} if meter_id in late else {
            r.read_at: f for r, f in judge(reference, [Reading(t, by_time[t].energy_wh)
                                                       for t in fresh], limit_wh_per_hour=limit)
        }  # fmt: skip
        good = reference
        for t in times:
            incoming = by_time[t]
            flag = flags.get(t)
            if meter_id not in late and flag is None:
                good = Reading(t, incoming.energy_wh)
            rows.append({"meter_id": meter_id, "read_at": t, "energy_wh": incoming.energy_wh,
                         "interval_wh": incoming.interval_wh, "status": incoming.status,
                         "source": source, "flag": flag, "received_at": now})  # fmt: skip
        last = max(times[-1], head.last_at) if head.last_at is not None else times[-1]
        new_heads.append(rdg.Head(meter_id, last, None if good is None else good.read_at,
                                  None if good is None else good.energy_wh))  # fmt: skip
    inserted = rdg.insert_readings(conn, rows)
    keys: list[tuple[int, datetime]] = [(r["meter_id"], r["read_at"]) for r in rows]
    missed = [key for key in keys if key not in inserted]
    stored_values = rdg.stored_energy(conn, missed)
    energy = {(r["meter_id"], r["read_at"]): r["energy_wh"] for r in rows}
    conflicts = sum(1 for key in missed if stored_values.get(key) != energy[key])
    flagged = sum(1 for r in rows if r["flag"] is not None
                  and (r["meter_id"], r["read_at"]) in inserted)  # fmt: skip
    reflagged = 0
    heads_out = {h.meter_id: h for h in new_heads}
    for meter_id, since in late.items():
        changed, good_head, newly = _rejudge(conn, meter_id, since, limit, inserted)
        reflagged += changed
        flagged += newly
        heads_out[meter_id] = evolve(
            heads_out[meter_id],
            good_at=None if good_head is None else good_head[0],
            good_wh=None if good_head is None else good_head[1],
        )
    rdg.save_heads(conn, heads_out.values())
    return ReadingIntake(received=0, stored=len(inserted), duplicates=len(missed) - conflicts,
                         conflicts=conflicts, flagged=flagged, reflagged=reflagged)  # fmt: skip


def _rejudge(
    conn: Connection,
    meter_id: int,
    since: datetime,
    limit: int,
    inserted: set[tuple[int, datetime]],
) -> tuple[int, tuple[datetime, int] | None, int]:
    """Judge a meter's readings again from ``since`` on (a late reading arrived); the number
    of earlier readings whose flag changed, the last good reading, and how many of this
    batch's readings were flagged."""
    before = rdg.good_before(conn, meter_id, since)
    reference = None if before is None else Reading(*before)
    stored = rdg.readings_since(conn, meter_id, since)
    judged = judge(reference, [Reading(at, wh) for at, wh, _ in stored], limit_wh_per_hour=limit)
    changes = []
    good = before
    reflagged = newly = 0
    for (at, _wh, old), (reading, flag) in zip(stored, judged, strict=True):
        if flag is None:
            good = (reading.read_at, reading.energy_wh)
        if flag != old:
            changes.append((meter_id, at, flag))
            reflagged += int((meter_id, at) not in inserted)
        newly += int(flag is not None and (meter_id, at) in inserted)
    rdg.set_flags(conn, changes)
    return reflagged, good, newly


def list_readings(
    svc: Services,
    actor: Actor,
    drn: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> ReadingList:
    """The meter's readings in [since, until), the newest ``limit``, oldest first."""
    authorize(svc, actor, Action.READINGS_VIEW)
    number = normalise_drn(drn)
    if not 1 <= limit <= 100_000:
        raise InputError("the limit is 1 to 100000 readings")
    with svc.store.transaction() as conn:
        from stsvend.store.repos.meters import get_meter

        meter = get_meter(conn, number)
        found = rdg.list_readings(conn, meter.id, since, until, limit)
    return ReadingList(number, tuple(found))


def purge(svc: Services, actor: Actor, *, keep_months: int) -> int:
    """Remove the readings of every month before the last ``keep_months`` (this month
    included); the number removed.  Logged."""
    authorize(svc, actor, Action.READINGS_PURGE)
    if not 1 <= keep_months <= 1200:
        raise InputError("keep 1 to 1200 months of readings")
    now = svc.now()
    month = now.year * 12 + now.month - 1 - (keep_months - 1)
    cutoff = datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
    with svc.store.transaction() as conn:
        removed = rdg.purge_before(conn, cutoff)
        log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                      action="readings.purge", target=cutoff.date().isoformat(),
                      detail={"removed": removed, "keep_months": keep_months})  # fmt: skip
    return removed
