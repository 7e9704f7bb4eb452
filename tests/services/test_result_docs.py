"""Known answers for the JSON form of the report and key change job results: ``as_doc`` of each
result is exactly the document ``--json`` prints (its keys and values), on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stsvend.services import keychange, registry, reports, vend
from stsvend.services.results import as_doc
from stsvend.vending.key_change import KeyChangeJobState, KeyChangeState
from tests.services.helpers import Installation, drn, installation_on

METER = drn(1)
OTHER = drn(2)
#: One R30.00 credit sale at the flat R2.00/kWh (VAT 15 % included) and one emergency credit of
#: 10.0 kWh (R20.00 advanced).
CREDIT = {"kind": "credit", "count": 1, "amount": 3000, "units": 150, "reversed": 0, "test": 1}
EMERGENCY = {"kind": "emergency", "count": 1, "amount": 0, "units": 100, "reversed": 0, "test": 1}
LEDGER = [
    {"entry": "emergency_advance", "amount": 2000, "units": 0},
    {"entry": "energy", "amount": -5000, "units": 250},
    {"entry": "payment", "amount": 3000, "units": 0},
]
TOKENS = [
    {"class": 0, "purpose": "emergency_credit", "count": 1},
    {"class": 0, "purpose": "sale", "count": 1},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest) -> Iterator[Installation]:
    with installation_on(request.param) as it:
        yield it


@pytest.fixture
def sold(inst: Installation) -> Installation:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")
    vend.emergency_credit(inst.svc, inst.clerk, METER)
    return inst


def test_the_daily_report_document(sold: Installation) -> None:
    report = reports.daily_report(sold.svc, sold.supervisor)
    assert isinstance(report.by_operator[0], reports.OperatorTotals)
    assert as_doc(report) == {
        "day": "2026-03-10",
        "from": "2026-03-10T00:00:00+02:00",
        "until": "2026-03-11T00:00:00+02:00",
        "currency": "ZAR",
        "utility": "",
        "by_kind": [CREDIT, EMERGENCY],
        "by_operator": [{"operator": "clerk", **CREDIT}, {"operator": "clerk", **EMERGENCY}],
        "ledger": LEDGER,
        "tokens": TOKENS,
        "tax": 652,
    }


def test_the_monthly_report_document(sold: Installation) -> None:
    report = reports.monthly_report(sold.svc, sold.supervisor, "2026-03")
    assert isinstance(report.by_day[0], reports.DayTotals)
    assert as_doc(report) == {
        "month": "2026-03",
        "from": "2026-03-01T00:00:00+02:00",
        "until": "2026-04-01T00:00:00+02:00",
        "currency": "ZAR",
        "utility": "",
        "by_kind": [CREDIT, EMERGENCY],
        "by_day": [{"day": "2026-03-10", **CREDIT}, {"day": "2026-03-10", **EMERGENCY}],
        "ledger": LEDGER,
        "tokens": TOKENS,
        "tax": 652,
    }


def test_an_empty_report_document(inst: Installation) -> None:
    report = reports.daily_report(inst.svc, inst.supervisor, "2026-03-11")
    assert as_doc(report) == {
        "day": "2026-03-11",
        "from": "2026-03-11T00:00:00+02:00",
        "until": "2026-03-12T00:00:00+02:00",
        "currency": "ZAR",
        "utility": "",
        "by_kind": [],
        "by_operator": [],
        "ledger": [],
        "tokens": [],
        "tax": 0,
    }


def test_the_report_rows_documents() -> None:
    assert as_doc(reports.KindTotals("refund", 2, -500, -25, 0, 0)) == {
        "kind": "refund", "count": 2, "amount": -500, "units": -25, "reversed": 0, "test": 0,
    }  # fmt: skip
    assert as_doc(reports.LedgerTotal("tax", 391, 0)) == {
        "entry": "tax", "amount": 391, "units": 0,
    }  # fmt: skip
    assert as_doc(reports.TokenCount(2, "key_change", 4)) == {
        "class": 2, "purpose": "key_change", "count": 4,
    }  # fmt: skip


def test_a_key_change_job_document_from_start_to_done(inst: Installation) -> None:
    for number in (METER, OTHER):
        registry.add_meter(inst.svc, inst.admin, number, sgc=123456)
    keychange.key_change_meter(inst.svc, inst.engineer, OTHER, ti=7)
    job = keychange.start_job(inst.svc, inst.engineer, 123456, krn=2, request_id="J1")
    target = {"rollover": False, "krn": 2, "ken": 255, "base_date": 2014}
    started = {
        "job": 1, "request_id": "J1", "sgc": "123456", "target": target, "catch_up_of": None,
        "state": "running", "total": 2, "done": 0, "by_state": {}, "skipped": [],
    }  # fmt: skip
    assert job.state is KeyChangeJobState.RUNNING
    assert as_doc(job) == started
    done = keychange.run_job(inst.svc, inst.engineer, job.job)
    assert as_doc(done) == {
        **started, "state": "done", "done": 2, "by_state": {"pending": 1, "skipped": 1},
        "skipped": [{"drn": OTHER, "reason": "an open key change (pending)"}],
    }  # fmt: skip
    assert as_doc(keychange.list_jobs(inst.svc, inst.engineer)) == [as_doc(done)]
    catch_up = keychange.catch_up(inst.svc, inst.engineer, job.job, request_id="J2")
    assert as_doc(catch_up) == {
        "job": 2, "request_id": "J2", "sgc": "123456", "target": target, "catch_up_of": 1,
        "state": "running", "total": 1, "done": 0, "by_state": {}, "skipped": [],
    }  # fmt: skip


def test_the_key_report_document(inst: Installation) -> None:
    registry.add_meter(inst.svc, inst.admin, METER, sgc=123456)
    registry.add_meter(inst.svc, inst.admin, OTHER, sgc=123456)
    keychange.key_change_meter(inst.svc, inst.engineer, OTHER, ti=7)
    report = keychange.key_report(inst.svc, inst.supervisor)
    assert report.listed[0].open_key_change is KeyChangeState.PENDING
    assert as_doc(report) == {
        "at": "2026-03-10T08:00:00+00:00",
        "meters": 2,
        "listed": [{
            "drn": OTHER, "sgc": "123456", "krn": 1, "base_date": 2014, "ken": 255,
            "statuses": [], "key_expires_at": None,
            "base_date_ends_at": "2045-11-24T20:16:00+00:00", "open_key_change": "pending",
        }],
    }  # fmt: skip


def test_a_key_report_row_behind_its_group() -> None:
    row = keychange.KeyReportRow(
        drn=METER, sgc="123456", krn=1, base_date=1993, ken=12,
        statuses=("key_expired", "not_rolled_over", "behind_group"),
        key_expires_at="2025-01-01T00:00:00+00:00", base_date_ends_at="2024-11-24T20:16:00+00:00",
        open_key_change=None,
    )  # fmt: skip
    assert as_doc(row) == {
        "drn": METER, "sgc": "123456", "krn": 1, "base_date": 1993, "ken": 12,
        "statuses": ["key_expired", "not_rolled_over", "behind_group"],
        "key_expires_at": "2025-01-01T00:00:00+00:00",
        "base_date_ends_at": "2024-11-24T20:16:00+00:00", "open_key_change": None,
    }  # fmt: skip
