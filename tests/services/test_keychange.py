"""Key changes: one meter (pending → issued → confirmed, cancel), a supply group in resumable
batches (every meter exactly once), and the 1993 → 2014 rollover worked case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stsvend import sts
from stsvend.errors import TidError
from stsvend.meter import Meter, MeterProfile
from stsvend.services import keychange, registry, vend
from stsvend.services.results import as_doc
from stsvend.store.repos.meters import get_meter
from stsvend.vending.errors import KeyChangeError, PermissionDenied
from stsvend.vending.key_change import KeyChangeJobState, KeyChangeState
from tests.services.helpers import Installation, digits, drn, installation

METER = drn(1)
DKGA04_KEY = bytes.fromhex("abababababababab949494949494949401234567")


def test_one_meter_krn_change_pending_issued_confirmed(inst: Installation) -> None:
    inst.meter(METER)
    out = keychange.key_change_meter(inst.svc, inst.engineer, METER, krn=2)
    assert out.state == "pending" and len(out.tokens) == 2
    assert out.target is not None and out.target.krn == 2 and out.rollover is False
    with pytest.raises(KeyChangeError, match="already has a key change"):
        keychange.key_change_meter(inst.svc, inst.engineer, METER, ti=5)
    sale = vend.vend(inst.svc, inst.clerk, METER, "10")
    assert [t.digits for t in sale.tokens[:2]] == [t.digits for t in out.tokens]
    assert sale.meter is not None and sale.meter.krn == 2  # credit under the new key
    done = keychange.confirm(inst.svc, inst.supervisor, METER)
    assert as_doc(done) == {"meter": METER, "state": "confirmed", "was": "issued",
                            "target": done.target}  # fmt: skip
    assert done.target["krn"] == 2
    with inst.svc.store.transaction() as conn:
        assert get_meter(conn, METER).krn == 2
    inst.clock.advance(minutes=1)
    assert [t.label for t in vend.vend(inst.svc, inst.clerk, METER, "10").tokens] == ["Credit"]
    with pytest.raises(KeyChangeError, match="no open key change"):
        keychange.confirm(inst.svc, inst.supervisor, METER)


def test_a_pending_change_cannot_be_confirmed_but_can_be_cancelled(inst: Installation) -> None:
    inst.meter(METER)
    keychange.key_change_meter(inst.svc, inst.engineer, METER, krn=2)
    with pytest.raises(KeyChangeError, match="pending cannot be confirmed"):
        keychange.confirm(inst.svc, inst.supervisor, METER)
    with pytest.raises(Exception, match="reason"):
        keychange.cancel(inst.svc, inst.supervisor, METER, "no")
    cancelled = keychange.cancel(inst.svc, inst.supervisor, METER, "wrong KRN")
    assert cancelled.state is KeyChangeState.CANCELLED
    assert [t.label for t in vend.vend(inst.svc, inst.clerk, METER, "10").tokens] == ["Credit"]


def test_key_change_refusals(inst: Installation) -> None:
    inst.meter(METER)
    with pytest.raises(PermissionDenied):
        keychange.key_change_meter(inst.svc, inst.clerk, METER, krn=2)
    with pytest.raises(KeyChangeError, match="no key change is needed"):
        keychange.key_change_meter(inst.svc, inst.engineer, METER, krn=1)
    with pytest.raises(Exception, match="no vending key 123456/3"):
        keychange.key_change_meter(inst.svc, inst.engineer, METER, krn=3)


def _group_meters(inst: Installation, count: int, sgc: int = 123456) -> list[str]:
    meters = [drn(100 + i) for i in range(count)]
    for number in meters:
        registry.add_meter(inst.svc, inst.admin, number, sgc=sgc)
    return meters


def test_a_group_job_killed_between_batches_and_resumed_does_every_meter_once(
    inst: Installation,
) -> None:
    meters = _group_meters(inst, 23)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2, request_id="krn2")
    seen: list[tuple[int, int]] = []
    part = keychange.run_job(inst.svc, inst.engineer, job.job, batch_size=5, max_batches=2,
                             progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert part.done == 10 and part.state is KeyChangeJobState.RUNNING
    assert seen == [(0, 23), (5, 23), (10, 23)]
    again = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2, request_id="krn2")
    assert again.job == job.job  # the same request id finds the job
    final = keychange.run_job(inst.svc, inst.engineer, job.job, batch_size=7)
    assert final.state is KeyChangeJobState.DONE and final.done == 23
    assert final.by_state == {"pending": 23}
    with inst.svc.store.transaction() as conn:
        per_meter = conn.exec_driver_sql(
            "SELECT meter_id, count(*) FROM key_change WHERE job_id = ? GROUP BY meter_id",
            (job.job,),
        ).all()
        log_rows = conn.exec_driver_sql(
            "SELECT count(*) FROM token_log WHERE purpose = 'key_change'"
        ).scalar_one()
    assert len(per_meter) == len(meters) and {n for _, n in per_meter} == {1}
    assert log_rows == 2 * len(meters)
    # Running the finished job again changes nothing.
    assert keychange.run_job(inst.svc, inst.engineer, job.job).done == 23


def test_a_group_job_skips_meters_with_an_open_key_change(inst: Installation) -> None:
    meters = _group_meters(inst, 3)
    keychange.key_change_meter(inst.svc, inst.engineer, meters[1], ti=7)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2)
    final = keychange.run_job(inst.svc, inst.engineer, job.job)
    assert final.by_state == {"pending": 2, "skipped": 1}


def test_the_1993_to_2014_rollover_worked_case() -> None:
    """A DKGA04 group on base date 1993 rolls over to KRN 4 on base date 2014.

    Before the rollover every vend is refused (1993's TIDs ran out in November 2024); after
    it, the meter takes the key change tokens (RO bit: TID memory cleared) and then credit
    whose TIDs count from 2014.
    """
    with installation() as inst:
        registry.add_group(inst.svc, inst.admin, 123457, name="Old", krn=1, base_date=1993)
        inst.meter(METER, sgc=123457)
        identity = sts.MeterIdentity.parse(None, METER)
        old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
        meter = Meter.manufacture(
            MeterProfile.derive(identity, old, DKGA04_KEY, dkga="04"),
            datetime(2024, 11, 1, tzinfo=UTC),
        )
        with pytest.raises(TidError, match="rollover"):
            vend.vend(inst.svc, inst.clerk, METER, "10")
        report = keychange.key_report(inst.svc, inst.supervisor)
        assert report.listed[0].statuses == ("not_rolled_over",)
        job = keychange.start_job(inst.svc, inst.engineer, 123457, rollover=True, krn=4)
        assert as_doc(job.target) == {"rollover": True, "krn": 4, "ken": 255, "base_date": 2014}
        keychange.run_job(inst.svc, inst.engineer, job.job)
        sale = vend.vend(inst.svc, inst.clerk, METER, "10")
        assert sale.meter is not None and sale.meter.base_date == 2014 and sale.meter.krn == 4
        answers = [meter.enter(digits(t), inst.clock.now) for t in sale.tokens]
        assert [a.accepted for a in answers] == [True, True, True], answers
        assert sale.tokens[-1].tid == sts.tid_at(inst.clock.now, sts.BaseDate.Y2014)
        keychange.confirm(inst.svc, inst.engineer, METER)
        assert keychange.key_report(inst.svc, inst.supervisor).listed == ()


def test_supply_group_jobs_need_a_target_and_the_right_role(inst: Installation) -> None:
    with pytest.raises(Exception, match="needs --rollover"):
        keychange.start_job(inst.svc, inst.engineer, 123456)
    with pytest.raises(PermissionDenied):
        keychange.start_job(inst.svc, inst.supervisor, 123456, krn=2)
    assert keychange.list_jobs(inst.svc, inst.engineer) == ()
