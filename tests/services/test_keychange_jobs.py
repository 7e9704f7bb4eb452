"""Key change audit and supply-group follow-up, on SQLite and PostgreSQL: the whole reason is
stored, skipped meters are named, a catch-up job takes the stragglers, meters that arrive on a
group's old key revision are warned about and listed in the key report, and the report reads
the store in a fixed number of queries."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from stsvend.services import importing, keychange, registry
from stsvend.services.results import as_doc
from stsvend.vending.errors import KeyChangeError
from stsvend.vending.key_change import KeyChangeJobState, KeyChangeState
from tests.services.helpers import Installation, drn, installation
from tests.services.saved import Bare
from tests.store.pgdb import ENV

METER = drn(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest, bare: Bare, tmp_path: Path) -> Iterator[Installation]:
    if request.param == "postgresql":
        if not os.environ.get(ENV):
            pytest.skip(f"{ENV} is not set")
        with bare.copy("postgresql", tmp_path) as (_, it):
            yield it
    else:
        with installation() as it:
            yield it


def _group_meters(inst: Installation, count: int, sgc: int = 123456) -> list[str]:
    meters = [drn(100 + i) for i in range(count)]
    for number in meters:
        registry.add_meter(inst.svc, inst.admin, number, sgc=sgc)
    return meters


def _stored(inst: Installation, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with inst.svc.store.transaction() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def test_the_whole_reason_of_a_key_change_is_stored(inst: Installation) -> None:
    registry.add_group(inst.svc, inst.admin, 123457, name="Old", krn=1, base_date=1993)
    inst.meter(METER, sgc=123457)
    out = keychange.key_change_meter(inst.svc, inst.engineer, METER, rollover=True, krn=4, ti=5,
                                     ken=200)  # fmt: skip
    reason = "rollover: base_date,ken,krn,ti"
    assert out.reason == reason
    assert _stored(inst, "SELECT reason FROM key_change") == [(reason,)]
    assert _stored(inst, "SELECT reason FROM sale WHERE kind = 'key_change'") == [(reason,)]
    other = drn(2)
    inst.meter(other)
    changed = keychange.key_change_meter(inst.svc, inst.engineer, other, krn=2, ti=9, ken=200)
    assert changed.reason == "ken,krn,ti"


def test_a_group_job_names_the_meters_it_skipped(inst: Installation) -> None:
    meters = _group_meters(inst, 3)
    keychange.key_change_meter(inst.svc, inst.engineer, meters[1], ti=7)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2)
    final = keychange.run_job(inst.svc, inst.engineer, job.job)
    assert final.by_state == {"pending": 2, "skipped": 1}
    assert final.skipped == (keychange.SkippedMeter(meters[1], "an open key change (pending)"),)
    assert final.state is KeyChangeJobState.DONE and as_doc(final)["state"] == "done"
    listed = keychange.list_jobs(inst.svc, inst.engineer)
    assert listed[0].skipped == final.skipped


def test_a_catch_up_job_takes_the_stragglers_and_late_imports(inst: Installation) -> None:
    meters = _group_meters(inst, 3)
    keychange.key_change_meter(inst.svc, inst.engineer, meters[1], ti=7)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2, request_id="krn2")
    keychange.run_job(inst.svc, inst.engineer, job.job)
    # The same group key change again is refused, and says how to catch up instead.
    with pytest.raises(KeyChangeError, match=f"stsvend key-change catch-up {job.job}"):
        keychange.start_job(inst.svc, inst.engineer, 123456, krn=2, request_id="again")
    keychange.cancel(inst.svc, inst.supervisor, meters[1], "meter replaced by the ti change")
    late = drn(200)
    imported = importing.import_meters(inst.svc, inst.admin, f"drn,sgc,krn\n{late},123456,1\n")
    assert imported.warning_lines() == (
        f"line 2: meter {late} is on KRN 1 of supply group 123456, which moved to KRN 2 "
        f"(job {job.job}): run `stsvend key-change catch-up {job.job}`",
    )
    report = keychange.key_report(inst.svc, inst.supervisor, sgc=123456)
    behind = {r.drn for r in report.listed if "behind_group" in r.statuses}
    assert behind == {meters[1], late}

    catch_up = keychange.catch_up(inst.svc, inst.engineer, job.job)
    assert catch_up.catch_up_of == job.job and catch_up.total == 2
    assert catch_up.target == job.target
    done = keychange.run_job(inst.svc, inst.engineer, catch_up.job)
    assert done.state is KeyChangeJobState.DONE and done.by_state == {"pending": 2}
    assert done.skipped == ()
    rows = _stored(inst, "SELECT m.drn, k.state FROM key_change k JOIN meter m "
                         "ON m.id = k.meter_id WHERE k.job_id = :j ORDER BY m.drn",
                   j=catch_up.job)  # fmt: skip
    assert rows == sorted([(meters[1], "pending"), (late, "pending")])
    # Nothing is left behind: another catch-up has nothing to do.
    again = keychange.catch_up(inst.svc, inst.engineer, job.job)
    assert again.total == 0
    assert keychange.run_job(inst.svc, inst.engineer, again.job).done == 0
    report = keychange.key_report(inst.svc, inst.supervisor, sgc=123456)
    assert not [r for r in report.listed if "behind_group" in r.statuses]


def test_catch_up_refusals(inst: Installation) -> None:
    _group_meters(inst, 1)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2)
    with pytest.raises(KeyChangeError, match="still running"):
        keychange.catch_up(inst.svc, inst.engineer, job.job)
    keychange.run_job(inst.svc, inst.engineer, job.job)
    with pytest.raises(Exception, match="no key change job 999"):
        keychange.catch_up(inst.svc, inst.engineer, 999)
    from stsvend.vending.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        keychange.catch_up(inst.svc, inst.supervisor, job.job)


def test_the_key_report_reads_the_store_in_a_fixed_number_of_queries(
    inst: Installation,
) -> None:
    def statements(count: int) -> int:
        seen: list[str] = []

        def listen(*args: Any) -> None:
            seen.append(str(args[2]))

        engine = inst.svc.store.engine
        event.listen(engine, "before_cursor_execute", listen)
        try:
            report = keychange.key_report(inst.svc, inst.supervisor)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        assert len(report.listed) == count
        return len(seen)

    _group_meters(inst, 2)
    for row in _stored(inst, "SELECT drn FROM meter"):
        keychange.key_change_meter(inst.svc, inst.engineer, row[0], ti=3)
    few = statements(2)
    for i in range(20):
        number = drn(300 + i)
        registry.add_meter(inst.svc, inst.admin, number, sgc=123456)
        keychange.key_change_meter(inst.svc, inst.engineer, number, ti=3)
    assert statements(22) == few


def test_states_are_enums_stored_as_their_values(inst: Installation) -> None:
    _group_meters(inst, 1)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2)
    assert _stored(inst, "SELECT state FROM key_change_job") == [("running",)]
    keychange.run_job(inst.svc, inst.engineer, job.job)
    assert _stored(inst, "SELECT state FROM key_change_job") == [(KeyChangeJobState.DONE.value,)]
    assert _stored(inst, "SELECT state FROM key_change") == [(KeyChangeState.PENDING.value,)]
    assert {s.value for s in KeyChangeState} == {"pending", "issued", "confirmed", "cancelled",
                                                 "skipped"}  # fmt: skip


def test_a_catch_up_request_id_names_one_catch_up(inst: Installation) -> None:
    from stsvend.errors import IdempotencyMismatch

    _group_meters(inst, 2)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2, request_id="krn2")
    keychange.run_job(inst.svc, inst.engineer, job.job)
    # The group job's own id is not a catch-up: reusing it is refused, nothing is made.
    with pytest.raises(IdempotencyMismatch, match="'krn2' was already used for job"):
        keychange.catch_up(inst.svc, inst.engineer, job.job, request_id="krn2")
    first = keychange.catch_up(inst.svc, inst.engineer, job.job, request_id="late-1")
    again = keychange.catch_up(inst.svc, inst.engineer, job.job, request_id="late-1")
    assert again.job == first.job
    jobs = _stored(inst, "SELECT count(*) FROM key_change_job")
    assert jobs == [(2,)]
