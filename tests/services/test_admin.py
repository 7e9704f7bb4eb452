"""Operators and PINs, shifts, configuration, imports, reports, log export permissions,
keyset mode and log key custody."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stsvend.config import ConfigError, load_config
from stsvend.errors import CheckDigitError, InputError
from stsvend.keystore.errors import KeystoreModeError
from stsvend.services import auth, importing, keychange, logs, registry, reports, shifts, vend
from stsvend.services.bootstrap import LogKeyMismatch, open_keystore, open_services
from stsvend.services.pin import hash_pin, verify_pin
from stsvend.services.results import as_doc
from stsvend.tokenlog.reader import LogFilter
from stsvend.vending.errors import PermissionDenied
from tests.services.helpers import PINS, Installation, drn

METER = drn(1)


def test_pins_are_stored_only_as_scrypt_hashes(
    inst: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stsvend.services import pin

    monkeypatch.setattr(pin, "_LOG2_N", 14)  # the production cost (the fixture lowers it)
    stored = hash_pin("482915")
    assert "482915" not in stored and stored.startswith("scrypt$14$8$1$")
    assert verify_pin("482915", stored) and not verify_pin("482916", stored)
    assert not verify_pin("482915", "md5$abc") and not verify_pin("12", stored)
    with inst.svc.store.transaction() as conn:
        hashes = conn.exec_driver_sql("SELECT pin_hash FROM operator").scalars().all()
    # No field of a stored hash is the fixture's PIN (a digest may contain it by chance).
    assert all(h.startswith("scrypt$") and PINS["clerk"] not in h.split("$") for h in hashes)
    with pytest.raises(InputError, match="6 to 12"):
        hash_pin("12a4")


def test_five_wrong_pins_lock_an_operator_until_an_admin_resets(inst: Installation) -> None:
    for _ in range(4):
        with pytest.raises(PermissionDenied, match="wrong PIN"):
            auth.login(inst.svc, "clerk", "999999")
    with pytest.raises(PermissionDenied, match="locked"):
        auth.login(inst.svc, "clerk", "999999")
    with pytest.raises(PermissionDenied):
        auth.login(inst.svc, "clerk", PINS["clerk"])  # the right PIN no longer helps
    auth.set_pin(inst.svc, inst.admin, "clerk", "246813")
    assert auth.login(inst.svc, "clerk", "246813", new_pin="864231").username == "clerk"
    with pytest.raises(PermissionDenied, match="unknown operator"):
        auth.login(inst.svc, "nobody", "123456")


def test_operators_are_managed_by_admins_only(inst: Installation) -> None:
    with pytest.raises(PermissionDenied):
        auth.add_operator(inst.svc, inst.supervisor, "bob", "clerk", "582047")
    with pytest.raises(PermissionDenied, match="unknown role"):
        auth.add_operator(inst.svc, inst.admin, "bob", "boss", "582047")
    auth.set_operator_active(inst.svc, inst.admin, "clerk", False)
    with pytest.raises(PermissionDenied):
        auth.login(inst.svc, "clerk", PINS["clerk"])
    with pytest.raises(InputError, match="themselves"):
        auth.set_operator_active(inst.svc, inst.admin, "admin", False)
    names = [o.username for o in auth.list_operators(inst.svc, inst.admin)]
    assert names == sorted(names) and "clerk" in names
    with inst.svc.store.transaction() as conn:
        refusals = (
            conn.exec_driver_sql(
                "SELECT action FROM operation_log WHERE outcome = 'refused' AND action != 'login'"
            )
            .scalars()
            .all()
        )
    assert refusals == ["operators.manage"]


def test_a_shift_opens_once_and_closes_with_its_totals(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")
    vend.vend(inst.svc, inst.clerk, METER, "20")
    with pytest.raises(auth.ShiftError, match="already has an open shift"):
        auth.start_shift(inst.svc, inst.clerk)
    report = shifts.end_shift(inst.svc, inst.clerk)
    [credit] = report.totals
    assert (credit.kind, credit.count, credit.amount) == ("credit", 2, 5000)
    with pytest.raises(auth.ShiftError):
        shifts.end_shift(inst.svc, auth.login(inst.svc, "clerk", PINS["clerk"]))


def test_reports_count_by_kind_and_by_operator_in_the_local_day(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")
    vend.emergency_credit(inst.svc, inst.clerk, METER)
    daily = reports.daily_report(inst.svc, inst.supervisor)
    assert daily.day == "2026-03-10"
    assert {k.kind: k.count for k in daily.by_kind} == {"credit": 1, "emergency": 1}
    assert sum(e.amount for e in daily.ledger) == 0
    monthly = reports.monthly_report(inst.svc, inst.supervisor, "2026-03")
    assert monthly.by_day[0].day == "2026-03-10"
    assert reports.daily_report(inst.svc, inst.supervisor, "2026-03-11").by_kind == ()
    with pytest.raises(InputError):
        reports.daily_report(inst.svc, inst.supervisor, "10/03/2026")
    with pytest.raises(PermissionDenied):
        reports.daily_report(inst.svc, inst.clerk)


def test_log_export_gives_digits_only_to_roles_allowed_them(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "30")
    digits = sale.tokens[0].digits
    for actor, shown in ((inst.supervisor, True), (inst.actors["auditor"], False)):
        out = io.StringIO()
        result = logs.export(inst.svc, actor, LogFilter(meter=METER), out, fmt="jsonl")
        [row] = [json.loads(line) for line in out.getvalue().splitlines()]
        assert as_doc(result) == {"rows": 1, "digits": shown}
        assert row["digits"] == (digits if shown else None)
        assert row["operator"] == "clerk" and row["kcv"] and row["request_id"]
    with pytest.raises(PermissionDenied):
        logs.export(inst.svc, inst.clerk, LogFilter(), io.StringIO(), fmt="csv")
    out = io.StringIO()
    logs.export(inst.svc, inst.supervisor, LogFilter(operator="nobody"), out, fmt="csv")
    assert out.getvalue().count("\n") == 1  # the header only


def test_import_from_a_previous_system(inst: Installation) -> None:
    good = (
        "drn,sgc,krn,ti,key_type,base_date,last_tid\n"
        f"{drn(5)},123456,1,1,2,2014,9000100\n"
        f"{drn(6)},123456,1,1,2,2014,\n"
    )
    imported = importing.import_meters(inst.svc, inst.admin, good)
    assert as_doc(imported) == {"rows": 2, "added": 2, "updated": 0}
    registry.open_account(inst.svc, inst.admin, customer="C9", contract="K9", drn=drn(5),
                          tariff="FLAT")  # fmt: skip
    sale = vend.vend(inst.svc, inst.clerk, drn(5), "10")
    assert sale.tokens[0].tid == 9_000_101  # after the previous system's last TID
    bad = "drn,sgc,colour\n01234567890,123456,red\n"
    with pytest.raises(importing.ImportError_, match="unknown column"):
        importing.import_meters(inst.svc, inst.admin, bad)
    bad_rows = "drn,sgc,last_tid\n01234567890,123456,1\n" + f"{drn(7)},123456,x\n"
    with pytest.raises(importing.ImportError_) as caught:
        importing.import_meters(inst.svc, inst.admin, bad_rows)
    assert [p.split(":")[0] for p in caught.value.problems] == ["line 2", "line 3"]
    assert inst.count("meter") == 2
    with pytest.raises(PermissionDenied):
        importing.import_meters(inst.svc, inst.supervisor, good)


def test_registry_refusals(inst: Installation) -> None:
    inst.meter(METER)
    with pytest.raises(Exception, match="already registered"):
        registry.add_meter(inst.svc, inst.admin, METER, sgc=123456)
    with pytest.raises(CheckDigitError):
        registry.add_meter(inst.svc, inst.admin, "01234567890", sgc=123456)
    with pytest.raises(InputError, match="no names"):
        registry.open_account(inst.svc, inst.admin, customer="Jane Doe", contract="K2",
                              drn=METER, tariff="FLAT")  # fmt: skip
    with pytest.raises(Exception, match="open account"):
        registry.open_account(inst.svc, inst.admin, customer="C2", contract="K2", drn=METER,
                              tariff="FLAT")  # fmt: skip
    with pytest.raises(Exception, match="no vending key"):
        registry.add_group(inst.svc, inst.admin, 654321, name="x")
    assert registry.list_meters(inst.svc, inst.clerk)[0].drn == METER
    status = registry.meter_status(inst.svc, inst.clerk, METER)
    assert status.account is not None and status.account.contract == f"K-{METER}"
    assert status.key_change is None
    keychange.key_change_meter(inst.svc, inst.engineer, METER, ti=3)
    change = registry.meter_status(inst.svc, inst.clerk, METER).key_change
    assert change is not None and change.state == "pending"


def _load(folder: Path, name: str) -> object:
    return load_config({"STSVEND_DATA_DIR": str(folder), "STSVEND_CONFIG": str(folder / name)})


def test_configuration_from_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[stsvend]\nutility_name = "City Power"\ncurrency = "KES"\nlog_seal_seconds = 5\n'
    )
    cfg = load_config({"STSVEND_DATA_DIR": str(tmp_path), "STSVEND_CURRENCY": "ZAR"})
    assert (cfg.utility_name, cfg.currency, cfg.log_seal_seconds) == ("City Power", "ZAR", 5)
    assert cfg.database_url == f"sqlite:///{tmp_path / 'stsvend.db'}"
    (tmp_path / "bad.toml").write_text('kek = "00"\n')
    with pytest.raises(ConfigError, match="only from STSVEND_KEK"):
        load_config(
            {"STSVEND_DATA_DIR": str(tmp_path), "STSVEND_CONFIG": str(tmp_path / "bad.toml")}
        )
    for env, message in (
        ({"STSVEND_TIMEZONE": "Mars/Base"}, "unknown time zone"),
        ({"STSVEND_LOG_SEAL_SECONDS": "soon"}, "integer"),
        ({"STSVEND_CONFIG": str(tmp_path / "none.toml")}, "does not exist"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config({"STSVEND_DATA_DIR": str(tmp_path), **env})
    (tmp_path / "broken.toml").write_text("[stsvend\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(
            {"STSVEND_DATA_DIR": str(tmp_path), "STSVEND_CONFIG": str(tmp_path / "broken.toml")}
        )
    (tmp_path / "typo.toml").write_text('utilty_name = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load_config(
            {"STSVEND_DATA_DIR": str(tmp_path), "STSVEND_CONFIG": str(tmp_path / "typo.toml")}
        )


def test_the_demo_keystore_and_the_log_key_custody(tmp_path: Path) -> None:
    cfg = load_config({"STSVEND_DATA_DIR": str(tmp_path)})
    assert open_keystore(cfg) is None
    hsm, key = open_keystore(cfg, demo=True) or (None, None)
    assert hsm is not None and hsm.test and (tmp_path / "demo-kek.hex").stat().st_mode & 0o077 == 0
    _, again = open_keystore(cfg) or (None, None)
    assert again is not None and key is not None and again.check_value == key.check_value
    svc = open_services(cfg, migrate=True)
    svc.store.dispose()
    # Another KEK would write log rows nobody can verify: the store refuses it.
    (tmp_path / "demo-kek.hex").unlink()
    (tmp_path / "demo-keystore.json").unlink()
    with pytest.raises(LogKeyMismatch, match="wrong keystore"):
        open_services(cfg, demo=True)


def test_test_and_production_data_never_mix(inst: Installation) -> None:
    from stsvend.keystore import SoftwareSecurityModule
    from stsvend.keystore.keyfile import parse_key_file
    from tests.cli.keys_install import key_file, production_entry

    production = parse_key_file(key_file(production_entry(sgc="123456")))
    inst.svc._hsm = SoftwareSecurityModule.from_key_file(production)
    with pytest.raises(KeystoreModeError, match="never mixed"):
        registry.add_meter(inst.svc, inst.admin, drn(3), sgc=123456)
