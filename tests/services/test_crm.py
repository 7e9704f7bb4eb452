"""The CRM import service through the shipped adapters, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.adapters.crm.formats import csv as plain_csv
from stsvend.adapters.crm.formats import ise, isu
from stsvend.adapters.crm.source import CrmFileError
from stsvend.errors import InputError
from stsvend.services import registry
from stsvend.services.crm import CrmImportReport, import_crm
from stsvend.services.registry import meter_status
from stsvend.vending.errors import PermissionDenied
from tests.services.helpers import Installation, drn
from tests.services.saved import BACKENDS, Bare

HEADER = ("PARTNER,VKONTO,VERTRAG,ANLAGE,VSTELLE,SPARTE,EINZDAT,AUSZDAT,EQUNR,GERNR,TARIFTYP,"
          "NAME_LAST,TEL_NUMBER")  # fmt: skip


def isu_row(n: int, *, contract: str | None = None, premise: str | None = None,
            tariff: str = "FLAT", meter: str | None = None, move_out: str = "99991231",
            name: str = "Muster") -> str:  # fmt: skip
    return (f"{100000 + n},{200000 + n},{contract or 300000 + n},{400000 + n},"
            f"{premise or 500000 + n},01,20240101,{move_out},{600000 + n},"
            f"{meter or drn(100 + n)},{tariff},{name},+27 82 555 {n:04d}")  # fmt: skip


def isu_text(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, bare: Bare, tmp_path: Path) -> Iterator[Installation]:
    with bare.copy(request.param, tmp_path) as (_url, inst):
        yield inst


def run(inst: Installation, text: str, fmt: object = isu, **kw: object) -> CrmImportReport:
    importer = fmt()  # type: ignore[operator]
    report = import_crm(inst.svc, inst.admin, importer.source(io.StringIO(text)),
                        supply_group=kw.pop("supply_group", 123456), **kw)  # type: ignore[arg-type]  # fmt: skip
    assert report.adds_up
    return report


def counts(r: CrmImportReport) -> tuple[int, int, int, int]:
    return r.created, r.changed, r.unchanged, r.rejected


def test_import_creates_then_reimport_is_unchanged(db: Installation) -> None:
    text = isu_text(*(isu_row(n) for n in range(1, 6)))
    first = run(db, text)
    assert counts(first) == (5, 0, 0, 0) and first.meters_added == 5
    assert first.dropped_columns == ("NAME_LAST", "TEL_NUMBER")
    again = run(db, text)
    assert counts(again) == (0, 0, 5, 0) and again.meters_added == 0
    assert db.count("account") == 5 and db.count("customer") == 5
    rows = db.svc.store.engine.connect().exec_driver_sql(
        "SELECT contract_account, installation, premise, division, equipment FROM account "
        "WHERE contract_number = '300001'").all()  # fmt: skip
    assert [tuple(r) for r in rows] == [("200001", "400001", "500001", "01", "600001")]


def test_a_new_meter_is_on_its_default_key_with_the_commissioning_change_pending(
    db: Installation,
) -> None:
    run(db, isu_text(isu_row(1)))
    status = meter_status(db.svc, db.admin, drn(101))
    assert status.key_type == 1
    assert status.key_change is not None and status.key_change.state == "pending"
    assert status.key_change.reason.startswith("commissioning")
    with db.svc.store.transaction() as conn:
        logged = conn.exec_driver_sql(
            f"SELECT count(*) FROM token_log WHERE meter = '{drn(101)}' "
            "AND purpose = 'key_change'").scalar_one()  # fmt: skip
    assert logged == 2


def test_a_meter_already_here_keeps_its_key(db: Installation) -> None:
    registry.add_meter(db.svc, db.admin, drn(101), sgc=123456)
    report = run(db, isu_text(isu_row(1)), supply_group=None)
    assert counts(report) == (1, 0, 0, 0) and report.meters_added == 0
    status = meter_status(db.svc, db.admin, drn(101))
    assert status.key_type == 2 and status.key_change is None


def test_changes_tariff_meter_premise_and_move_out(db: Installation) -> None:
    from stsvend.services import tariffs

    tariffs.add_tariff(db.svc, db.admin, "HIGH", name="High", blocks=[(None, "3.00")],
                       tax_percent="15")  # fmt: skip
    run(db, isu_text(*(isu_row(n) for n in range(1, 5))))
    with db.svc.store.transaction() as conn:
        conn.exec_driver_sql("UPDATE account SET credit_balance = 1234 WHERE contract_number "
                             "= '300004'")  # fmt: skip
    changed = run(db, isu_text(
        isu_row(1, tariff="HIGH"), isu_row(2, meter=drn(150)), isu_row(3, premise="599999"),
        isu_row(4, move_out="20240601"),
    ))  # fmt: skip
    assert counts(changed) == (0, 4, 0, 0) and changed.closed == 1 and changed.meters_added == 1
    accounts = {a.contract: a for a in registry.list_accounts(db.svc, db.admin)}
    assert accounts["300004"].open is False and accounts["300004"].credit_balance == 1234
    assert counts(run(db, isu_text(
        isu_row(1, tariff="HIGH"), isu_row(2, meter=drn(150)), isu_row(3, premise="599999"),
        isu_row(4, move_out="20240601"),
    ))) == (0, 0, 4, 0)  # fmt: skip
    # A moved-out contract listed again as open is refused; its meter is free for another.
    again = run(db, isu_text(isu_row(4), isu_row(7, meter=drn(104))))
    assert counts(again) == (1, 0, 0, 1)
    assert "closed" in again.rejections[0].reason


def test_personal_data_in_identifiers_rejects_the_row_without_echoing_it(
    db: Installation,
) -> None:
    bad = {
        "jane.doe@example.org": "e-mail", "+27 82 555 0199": "phone", "082-555-0199": "phone",
        "Jane Doe": "name", "Smith": "letters",
    }  # fmt: skip
    rows = [isu_row(1)] + [isu_row(10 + i, contract=v) for i, v in enumerate(bad)]
    report = run(db, isu_text(*rows))
    assert counts(report) == (1, 0, 0, len(bad))
    for rejection, value in zip(report.rejections, bad, strict=True):
        assert value not in rejection.reason and "Doe" not in rejection.reason
        assert rejection.reason.startswith("contract (VERTRAG)")
    assert [r.line for r in report.rejections] == list(range(3, 3 + len(bad)))


def test_every_kind_of_bad_row_is_rejected_and_the_good_ones_go_in(db: Installation) -> None:
    rows = [
        isu_row(1),
        isu_row(2, meter="01234567890"),  # wrong check digit
        isu_row(3, tariff="NOSUCH"),
        isu_row(4, move_out="2024-06-01"),  # not YYYYMMDD
        isu_row(1, premise="1"),  # contract 300001 again in the chunk
        isu_row(5, meter=drn(101)),  # the meter of line 2's contract
        "1,2,3",
        isu_row(6).replace(",Muster,", ",,"),
        isu_row(8).replace("100008,", ","),
        isu_row(9, tariff="b@c.de"),
    ]
    report = run(db, isu_text(*rows))
    assert counts(report) == (2, 0, 0, 8)
    reasons = {r.line: r.reason for r in report.rejections}
    assert "check digit" in reasons[3] and "tariff" in reasons[4]
    assert "not a date" in reasons[5] and "listed again" in reasons[6]
    assert "another" in reasons[7] and "3 values for 13 columns" in reasons[8]
    assert "customer (PARTNER) is empty" in reasons[10]
    assert "e-mail" in reasons[11]
    assert db.count("account") == 2  # lines 2 and 9 (its personal column empty: no matter)


def test_a_new_meter_needs_a_supply_group(db: Installation) -> None:
    report = run(db, isu_text(isu_row(1)), supply_group=None)
    assert counts(report) == (0, 0, 0, 1) and "supply group" in report.rejections[0].reason
    with pytest.raises(InputError, match="not registered"):
        run(db, isu_text(isu_row(1)), supply_group=999999)


def test_plain_csv_with_a_supply_group_column(db: Installation) -> None:
    # 123457 has no default key (VDDK) in the TEST keystore: its new meters cannot be made.
    registry.add_group(db.svc, db.admin, 123457, name="Other", krn=1)
    text = ("customer,contract,meter,tariff,premise,move_in,move_out,supply_group,email\n"
            f"C-1,K-1,{drn(201)},FLAT,P-1,2024-01-01,,123456,a@b.org\n"
            f"C-2,K-2,{drn(202)},FLAT,P-2,2024-01-01,,999998,c@d.org\n"
            f"C-3,K-3,{drn(203)},FLAT,P-3,2024-01-01,,123457,e@f.org\n")  # fmt: skip
    report = run(db, text, plain_csv, supply_group=None)
    assert counts(report) == (1, 0, 0, 2) and report.dropped_columns == ("email",)
    assert "no such supply group" in report.rejections[0].reason
    assert "keystore" in report.rejections[1].reason
    assert meter_status(db.svc, db.admin, drn(201)).sgc == "123456"


def test_ise_format_and_a_tariff_mapping(db: Installation, tmp_path: Path) -> None:
    mapping = tmp_path / "ise.toml"
    mapping.write_text('[tariffs]\n"H1 Haushalt" = "FLAT"\n')
    text = ("SubjektNr;Name;Rechnungskonto;Vertragsnr;Messpunkt;ObjektNr;Adresse;Sparte;"
            "GueltigAb;GueltigBis;GeraetNr;ZaehlerNr;Tarif\n"
            f"S-1001;Anna Muster;RK-1;V-1;MP-1;O-1;Bahnhofstr. 1;Strom;01.01.2024;31.12.9999;"
            f"G-1;{drn(301)};H1 Haushalt\n")  # fmt: skip

    def ise_mapped() -> object:
        return ise(mapping)

    report = run(db, text, ise_mapped)
    assert counts(report) == (1, 0, 0, 0) and report.dropped_columns == ("Name", "Adresse")


def test_header_and_encoding_errors(db: Installation) -> None:
    with pytest.raises(CrmFileError, match="no column GERNR"):
        run(db, "PARTNER,VERTRAG,TARIFTYP\n1,2,FLAT\n")
    with pytest.raises(CrmFileError, match="empty"):
        run(db, "")
    with pytest.raises(PermissionDenied):
        import_crm(db.svc, db.clerk, isu().source(io.StringIO(isu_text(isu_row(1)))))
    ops = db.svc.store.engine.connect().exec_driver_sql(
        "SELECT outcome FROM operation_log WHERE action = 'crm.import'").all()  # fmt: skip
    assert [o for (o,) in ops] == ["failed", "failed"]


def test_every_import_is_in_the_operation_log_with_counts_only(db: Installation) -> None:
    run(db, isu_text(isu_row(1), isu_row(2, contract="x@y.org")))
    with db.svc.store.transaction() as conn:
        sql = "SELECT detail FROM operation_log WHERE action = 'crm.import'"
        detail = conn.exec_driver_sql(sql).scalar_one()

    doc = json.loads(detail) if isinstance(detail, str) else detail
    assert doc == {"format": "isu", "rows": 2, "created": 1, "changed": 0, "unchanged": 0,
                   "rejected": 1, "meters_added": 1, "closed": 0, "dropped_columns": 2}  # fmt: skip


def test_chunks_are_independent_and_progress_is_told(db: Installation) -> None:
    seen: list[int] = []
    report = run(db, isu_text(*(isu_row(n) for n in range(1, 8))), chunk=3,
                 progress=seen.append)  # fmt: skip
    assert seen == [3, 6, 7] and report.created == 7


def test_a_larger_file_goes_through_the_bulk_paths(db: Installation) -> None:
    # Chunks of 128: COPY on PostgreSQL and the driver's executemany on SQLite.
    text = isu_text(*(isu_row(n) for n in range(1, 301)))
    first = run(db, text, chunk=128)
    assert counts(first) == (300, 0, 0, 0) and first.meters_added == 300
    assert db.count("key_change") == 300 and db.count("token_log") >= 600
    assert counts(run(db, text, chunk=128)) == (0, 0, 300, 0)
    moved = text.replace(",20240101,99991231,", ",20240101,20250101,")
    assert counts(run(db, moved, chunk=128)) == (0, 300, 0, 0)
    with db.svc.store.transaction() as conn:
        sql = "SELECT count(*) FROM account WHERE closed_at IS NOT NULL AND move_in IS NOT NULL"
        assert conn.exec_driver_sql(sql).scalar_one() == 300
