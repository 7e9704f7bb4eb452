"""The registry's and the administration's answers as documents: each result class's
``as_doc`` shape, known answer by known answer, so that the JSON of ``--json`` and of the
server stays what it is; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend import sts
from stsvend.keystore import DEMO_KEY_FILE_TEXT, KekSource, SoftwareSecurityModule, demo_key_file
from stsvend.services import auth, importing, keychange, keys, registry, tariffs
from stsvend.services.bootstrap import keystore_path
from stsvend.services.demo_operators import DemoOperator
from stsvend.services.identity import UtilityIdentity
from stsvend.services.recovery import break_glass_unlock
from stsvend.services.results import as_doc
from tests.services.helpers import Installation, drn, installation
from tests.store.pgdb import temporary_database

METER = drn(1)
KEK = {"STSVEND_KEK": "7e" * 32}
GROUP = {"sgc": "123456", "name": "Demo", "key_type": 2, "krn": 1, "dkga": "02", "ea": "07",
         "base_date": 2014, "ken": 255, "test": True}  # fmt: skip
METER_DOC = {"drn": METER, "iin": "600727", "resource": "electricity", "status": "active",
             "sgc": "123456", "ti": 1, "krn": 1, "key_type": 2, "ea": "07", "base_date": 2014,
             "ken": 255, "dkga": "02", "min_vend": None, "max_vend": None,
             "daily_limit": None}  # fmt: skip
ACCOUNT = {"contract": f"K-{METER}", "customer": f"C-{METER}", "credit_balance": 0, "debt": 5000,
           "debt_recovery_bp": 2500, "emergency_debt": 0, "open": True}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    data = str(tmp_path / "data")
    if request.param == "postgresql":
        if not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
            pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
        with (
            temporary_database() as url,
            installation(url, create=False, STSVEND_DATA_DIR=data) as it,
        ):
            yield it
    else:
        url = f"sqlite:///{tmp_path / 'results.db'}"
        with installation(url, create=False, STSVEND_DATA_DIR=data) as it:
            yield it


def test_supply_groups_and_meters(site: Installation) -> None:
    assert as_doc(registry.list_groups(site.svc, site.supervisor)) == [GROUP]
    added = site.meter(METER, debt="50", debt_recovery_percent="25")
    assert as_doc(added) == {"meter": METER_DOC, "commissioning": None}
    assert as_doc(registry.list_meters(site.svc, site.clerk)) == [METER_DOC]
    limited = registry.set_limits(site.svc, site.admin, METER, minimum="5", maximum="9000",
                                  daily="15000")  # fmt: skip
    assert as_doc(limited) == {
        **METER_DOC,
        "min_vend": 500,
        "max_vend": 900000,
        "daily_limit": 1500000,
    }
    blocked = registry.set_meter_blocked(site.svc, site.supervisor, METER, True, "tampered seal")
    assert as_doc(blocked) == {"drn": METER, "status": "blocked"}


def test_a_meter_on_its_default_key_and_its_status(site: Installation) -> None:
    target = {"sgc": 123456, "ti": 1, "krn": 1, "key_type": 2, "ea": "07", "base_date": 2014,
              "ken": 255}  # fmt: skip
    added = site.meter(METER, default_key=True, debt="50", debt_recovery_percent="25")
    assert as_doc(added) == {
        "meter": {**METER_DOC, "key_type": 1},
        "commissioning": {"state": "pending", "target": target},
    }
    status = registry.meter_status(site.svc, site.clerk, METER)
    assert as_doc(status) == {
        **METER_DOC, "key_type": 1, "last_tids": {}, "account": ACCOUNT,
        "key_change": {"state": "pending", "reason": "commissioning: key_type",
                       "target": target},
    }  # fmt: skip


def test_the_last_tids_of_a_meter_are_keyed_by_base_date(site: Installation) -> None:
    importing.import_meters(site.svc, site.admin, f"drn,sgc,last_tid\n{METER},123456,9000100\n")
    keychange.key_change_meter(site.svc, site.engineer, METER, ti=3)
    status = as_doc(registry.meter_status(site.svc, site.clerk, METER))
    assert status["last_tids"] == {"2014": 9000100} and status["account"] is None
    assert status["key_change"]["target"]["ti"] == 3


def test_accounts_and_customers(site: Installation) -> None:
    site.meter(METER, debt="50", debt_recovery_percent="25")
    registry.add_meter(site.svc, site.admin, drn(2), sgc=123456)
    opened = registry.open_account(site.svc, site.admin, customer=f"C-{METER}", contract="K-2",
                                   drn=drn(2), tariff="FLAT")  # fmt: skip
    second = {**ACCOUNT, "contract": "K-2", "debt": 0, "debt_recovery_bp": 0}
    assert as_doc(opened) == {**second, "meter": drn(2), "tariff": "FLAT"}
    assert as_doc(registry.close_account(site.svc, site.admin, "K-2")) == {**second, "open": False}
    assert as_doc(registry.list_accounts(site.svc, site.clerk)) == [
        ACCOUNT, {**second, "open": False},
    ]  # fmt: skip
    assert as_doc(registry.list_customers(site.svc, site.clerk)) == [
        {"customer": f"C-{METER}", "accounts": [ACCOUNT, {**second, "open": False}]}
    ]


def test_tariffs(site: Installation) -> None:
    flat = {"code": "FLAT", "name": "Flat", "currency": "ZAR", "blocks": [[None, 2000000]],
            "tax_bp": 1500, "fixed_charge": 0, "free_units": 0, "resource": 0,
            "emergency": {"units": 100, "repayment_bp": 10000}}  # fmt: skip
    added = tariffs.add_tariff(
        site.svc, site.admin, "WATER", name="Water", blocks=[(60, "10.50"), (None, "14.25")],
        tax_percent="15.5", fixed_charge="12.00", free_units=60, resource=sts.Resource.WATER,
        emergency_repayment_bp=2500,
    )  # fmt: skip
    water = {"code": "WATER", "name": "Water", "currency": "ZAR",
             "blocks": [[60, 10500000], [None, 14250000]], "tax_bp": 1550,
             "fixed_charge": 1200, "free_units": 60, "resource": 1,
             "emergency": {"units": 0, "repayment_bp": 2500}}  # fmt: skip
    assert as_doc(added) == water
    assert as_doc(tariffs.list_tariffs(site.svc, site.clerk)) == [flat, water]


def test_meter_imports(site: Installation) -> None:
    text = f"drn,sgc,last_tid\n{drn(5)},123456,100\n{drn(6)},123456,\n"
    assert as_doc(importing.import_meters(site.svc, site.admin, text)) == {
        "rows": 2, "added": 2, "updated": 0,
    }  # fmt: skip
    job = keychange.start_job(site.svc, site.engineer, 123456, krn=2, request_id="krn2")
    keychange.run_job(site.svc, site.engineer, job.job)
    late = importing.import_meters(site.svc, site.admin, f"drn,sgc,krn\n{drn(7)},123456,1\n")
    assert isinstance(late, importing.MeterImportWarned)
    assert as_doc(late) == {
        "rows": 1, "added": 1, "updated": 0,
        "warnings": [f"line 2: meter {drn(7)} is on KRN 1 of supply group 123456, which moved "
                     f"to KRN 2 (job {job.job}): run `stsvend key-change catch-up "
                     f"{job.job}`"],
    }  # fmt: skip


def test_operators_and_the_break_glass_unlock(site: Installation) -> None:
    listed = as_doc(auth.list_operators(site.svc, site.admin))
    assert listed[0] == {"username": "admin", "role": "admin", "active": True,
                         "failed_logins": 0, "must_change_pin": False}  # fmt: skip
    assert [o["username"] for o in listed] == sorted(o["username"] for o in listed)
    keys.import_keys(site.svc, site.admin, _key_file(site), env=KEK)
    done = break_glass_unlock(site.svc, "clerk", KekSource.from_hex("7e" * 32))
    assert as_doc(done) == {"operator": "clerk", "role": "clerk", "failed_logins_cleared": 0,
                            "pin_set": False, "must_change_pin": True}  # fmt: skip


def _key_file(site: Installation) -> Path:
    path = Path(site.svc.config.data_dir).parent / "demo.toml"
    path.write_text(DEMO_KEY_FILE_TEXT)
    return path


def test_key_custody(site: Installation) -> None:
    first = {"key_id": "123456/1/VDDK", "sgc": "123456", "krn": 1, "dkga": "02",
             "vending_key_type": "VDDK", "test": True, "ken": None}  # fmt: skip
    imported = as_doc(keys.import_keys(site.svc, site.admin, _key_file(site), env=KEK))
    assert sorted(imported) == ["added", "test", "unchanged"]
    assert (len(imported["added"]), imported["unchanged"], imported["test"]) == (5, 0, True)
    row = next(r for r in imported["added"] if r["key_id"] == "123456/1/VDDK")
    assert {k: row[k] for k in first} == first
    assert sorted(row) == ["base_date", "dkga", "kcv", "ken", "key_id", "krn", "label", "sgc",
                           "test", "vending_key_type"]  # fmt: skip
    listing = keys.list_keys(site.svc, site.admin)
    assert as_doc(listing)["test"] is True
    assert [r["key_id"] for r in as_doc(listing.keys)] == sorted(
        r["key_id"] for r in imported["added"]
    )
    changed = keys.change_kek(site.svc, site.admin, env={**KEK, "STSVEND_NEW_KEK": "8f" * 32})
    assert as_doc(changed) == {
        "keystore": str(keystore_path(site.svc.config)), "mode": "test", "keys": 5,
        "kek": "raw", "log_key": changed.log_key, "changed": True,
    }  # fmt: skip


def test_demo_operators_and_the_utility_identity() -> None:
    assert as_doc(DemoOperator("demo-clerk", "clerk", "48201937")) == {
        "name": "demo-clerk", "role": "clerk", "pin": "48201937",
    }  # fmt: skip
    identity = UtilityIdentity.parse("City Power", "VAT-4012345678", "ZAR", "Africa/Johannesburg")
    assert as_doc(identity) == identity.as_dict() == {
        "utility_name": "City Power", "tax_number": "VAT-4012345678", "currency": "ZAR",
        "timezone": "Africa/Johannesburg",
    }  # fmt: skip


def test_a_vending_key_reads_as_the_keystore_lists_it() -> None:
    records = SoftwareSecurityModule.from_key_file(demo_key_file()).key_records()
    assert len(records) == 5
    for record in records:
        assert as_doc(keys.VendingKey.of(record)) == record.as_dict()
