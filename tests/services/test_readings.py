"""Meter readings through the services, on SQLite and PostgreSQL: stored once, placed by time,
judged (backwards, jump) and judged again when a late one arrives; every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsvend.errors import InputError
from stsvend.metering.plausibility import Reading, judge
from stsvend.services.readings import IncomingReading, ingest, list_readings, purge
from stsvend.vending.errors import PermissionDenied
from tests.services.helpers import Installation, drn, installation, installation_on

T0 = datetime(2026, 11, 1, tzinfo=UTC)
M1, M2, GONE = drn(1), drn(2), drn(99)


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest) -> Iterator[Installation]:
    with installation_on(request.param) as it:
        it.clock.now = T0 + timedelta(days=40)
        it.meter(M1)
        it.meter(M2)
        yield it


def r(meter: str, hours: float, wh: int, **more: object) -> IncomingReading:
    return IncomingReading(meter, T0 + timedelta(hours=hours), wh, **more)  # type: ignore[arg-type]


def flags(inst: Installation, meter: str = M1) -> list[tuple[float, int, str | None]]:
    found = list_readings(inst.svc, inst.engineer, meter, limit=1000).readings
    return [((x.read_at - T0).total_seconds() / 3600, x.energy_wh, x.flag) for x in found]


def test_stored_once_flagged_and_duplicates_counted(inst: Installation) -> None:
    batch = [r(M1, 0, 1000), r(M1, 1, 1500), r(M1, 2, 900_000), r(M1, 3, 2000),
             r(M1, 4, 1900), r(M2, 0, 5), r(M1, 1, 1500)]  # fmt: skip
    got = ingest(inst.svc, inst.engineer, batch, source="mqtt")
    assert (got.received, got.stored, got.duplicates, got.conflicts, got.flagged) == (7, 6, 1, 0, 2)
    assert flags(inst) == [(0, 1000, None), (1, 1500, None), (2, 900_000, "jump"),
                           (3, 2000, None), (4, 1900, "backwards")]  # fmt: skip
    again = ingest(inst.svc, inst.engineer, [*batch[:3], r(M1, 3, 2222)], source="csv")
    assert (again.stored, again.duplicates, again.conflicts) == (0, 3, 1)
    assert flags(inst)[3] == (3, 2000, None)  # the stored value is kept


def test_a_late_reading_is_placed_by_time_and_the_later_ones_judged_again(
    inst: Installation,
) -> None:
    ingest(inst.svc, inst.engineer, [r(M1, 0, 1000), r(M1, 10, 1400)], source="mqtt")
    # Arrives late, between them, and far above the 10-hour one: the 10-hour one now reads
    # backwards against it.
    late = ingest(inst.svc, inst.engineer, [r(M1, 5, 1600)], source="mqtt")
    assert (late.stored, late.flagged, late.reflagged) == (1, 0, 1)
    assert flags(inst) == [(0, 1000, None), (5, 1600, None), (10, 1400, "backwards")]
    nxt = ingest(inst.svc, inst.engineer, [r(M1, 11, 1700)], source="mqtt")
    assert nxt.flagged == 0  # judged against 1600 at 5 h, the last good one


def test_rejections_name_the_reading_never_its_value(inst: Installation) -> None:
    batch = [
        IncomingReading(GONE, T0, 1, ref="line 2"),
        IncomingReading("01000000010", T0, 1, ref="line 3"),
        IncomingReading(M1, datetime(2026, 11, 1), 1, ref="line 4"),
        IncomingReading(M1, T0 + timedelta(days=60), 1, ref="line 5"),
        IncomingReading(M1, datetime(1999, 12, 31, tzinfo=UTC), 1, ref="line 6"),
        IncomingReading(M1, T0, -1, ref="line 7"),
        IncomingReading(M1, T0, 2**53, ref="line 8"),
        IncomingReading(M1, T0, 5, interval_wh=-3, ref="line 9"),
        IncomingReading(M1, T0, 5, status=-1, ref="line 10"),
        IncomingReading(M1, T0, True, ref="line 11"),
    ]
    got = ingest(inst.svc, inst.engineer, batch, source="csv")
    assert got.stored == 0 and len(got.rejected) == 10
    reasons = {x.ref: x.reason for x in got.rejected}
    assert reasons["line 2"] == f"meter {GONE} is not registered"
    assert "check digit" in reasons["line 3"]
    assert reasons["line 4"] == "the time has no time zone"
    assert reasons["line 5"] == reasons["line 6"] == "the time is before 2000 or in the future"
    assert "register" in reasons["line 7"] and "register" in reasons["line 8"]
    assert "interval" in reasons["line 9"] and "status" in reasons["line 10"]
    assert "register" in reasons["line 11"]
    with pytest.raises(InputError, match="source"):
        ingest(inst.svc, inst.engineer, [], source="pigeon")
    with pytest.raises(PermissionDenied):
        ingest(inst.svc, inst.actors["clerk"], [r(M1, 0, 1)], source="csv")
    with pytest.raises(PermissionDenied):
        list_readings(inst.svc, inst.actors["clerk"], M1)
    with pytest.raises(InputError, match="limit"):
        list_readings(inst.svc, inst.engineer, M1, limit=0)


def test_purge_keeps_the_months_asked_for(inst: Installation) -> None:
    ingest(inst.svc, inst.engineer, [r(M1, 0, 10), r(M1, 24 * 31, 20), r(M1, 24 * 35, 30)],
           source="csv")  # fmt: skip
    with pytest.raises(PermissionDenied):
        purge(inst.svc, inst.engineer, keep_months=1)
    with pytest.raises(InputError):
        purge(inst.svc, inst.admin, keep_months=0)
    assert purge(inst.svc, inst.admin, keep_months=2) == 0  # November and December kept
    assert purge(inst.svc, inst.admin, keep_months=1) == 1  # November goes
    assert [f[1] for f in flags(inst)] == [20, 30]
    ingest(inst.svc, inst.engineer, [r(M1, 2, 15)], source="csv")  # November again
    assert [f[1] for f in flags(inst)] == [15, 20, 30]
    if inst.svc.store.dialect == "postgresql":  # the months' partitions are not schema drift
        from stsvend.store.migrate import check

        check(inst.svc.store.engine)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 400_000)), min_size=1,
                    max_size=25, unique_by=lambda v: v[0]),
    order=st.randoms(use_true_random=False),
    cut=st.integers(0, 25),
)  # fmt: skip
def test_any_arrival_order_gives_the_flags_of_the_sorted_readings(
    values: list[tuple[int, int]], order: object, cut: int
) -> None:
    shuffled = list(values)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    with installation() as inst:
        inst.clock.now = T0 + timedelta(days=40)
        inst.meter(M1)
        for part in (shuffled[:cut], shuffled[cut:]):
            ingest(inst.svc, inst.engineer, [r(M1, h, wh) for h, wh in part], source="mqtt")
        expected = [
            (float(x.read_at.hour + (x.read_at - T0).days * 24), x.energy_wh, f)
            for x, f in judge(None, [Reading(T0 + timedelta(hours=h), wh)
                                     for h, wh in sorted(values)], limit_wh_per_hour=50_000)
        ]  # fmt: skip
        assert flags(inst) == expected
