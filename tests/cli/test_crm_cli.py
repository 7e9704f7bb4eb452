"""``stsvend crm import`` end to end, on SQLite and PostgreSQL: the formats, the report, the
errors, and the privacy rule: names, addresses, phone numbers and e-mail addresses of the file
end up nowhere (database files, operation log, output, log records)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, drn

#: Personal data in the file; none of it may be stored, logged or printed.
PERSONAL = ("Zanele", "Mokoena-Dlamini", "Jacaranda Crescent", "Kwa-Thema", "+27 82 555 0137",
            "0825550137", "zanele.mokoena@example.org", "19850214", "Nomvula Ndlovu")  # fmt: skip
HEADER = ("PARTNER,VKONTO,VERTRAG,ANLAGE,VSTELLE,SPARTE,EINZDAT,AUSZDAT,EQUNR,GERNR,TARIFTYP,"
          "NAME_FIRST,NAME_LAST,NAME_ORG1,STREET,HOUSE_NUM1,POST_CODE1,CITY1,TEL_NUMBER,"
          "SMTP_ADDR,BIRTHDT")  # fmt: skip


def _isu(n: int, *, contract: str | None = None, move_out: str = "99991231") -> str:
    return (f"{1000000 + n},{2000000 + n},{contract or 3000000 + n},{4000000 + n},"
            f"{5000000 + n},01,20240101,{move_out},{6000000 + n},{drn(40 + n)},FLAT,Zanele,"
            f"Mokoena-Dlamini,Nomvula Ndlovu,Jacaranda Crescent,{n},1575,Kwa-Thema,"
            f"+27 82 555 0137,zanele.mokoena@example.org,19850214")  # fmt: skip


def _write(tmp_path: Path, *rows: str, name: str = "isu.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _leaks_in_files(folder: Path) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.name}: {v}" for v in PERSONAL if v.encode() in data]
    return found


def _leaks_in_tables(cli: Cli) -> list[str]:
    """Every table's every row, as text (an SQL dump of the contents)."""
    if cli.database_url is None:
        names = [n for (n,) in cli.sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        names = [n for (n,) in cli.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    assert "account" in names and "operation_log" in names
    dump = "\n".join(repr(row) for name in names for row in cli.sql(f'SELECT * FROM "{name}"'))
    assert "3000001" in dump  # the dump holds the contracts: it is the real content
    return [v for v in PERSONAL if v in dump]


def test_import_report_json_reimport_and_privacy(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = _write(tmp_path, _isu(1), _isu(2), _isu(3, contract="zanele.mokoena@example.org"),
                  _isu(4, contract="+27 82 555 0137"))  # fmt: skip
    first = cli.run("crm", "import", str(path), "--format", "isu", "--supply-group", "123456")
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout and "rejected rows" in first.stdout
    assert "looks like an e-mail address" in first.stdout
    assert "columns dropped unread: NAME_FIRST, NAME_LAST" in first.stdout
    again = cli.json("crm", "import", str(path), "--format", "isu", "--supply-group", "123456")
    assert {k: again[k] for k in ("rows", "created", "changed", "unchanged", "rejected")} == {
        "rows": 4, "created": 0, "changed": 0, "unchanged": 2, "rejected": 2}  # fmt: skip
    assert [r["line"] for r in again["rejections"]] == [4, 5]
    assert again["dropped_columns"][:2] == ["NAME_FIRST", "NAME_LAST"]
    ops = cli.operations("crm.import")
    assert [(o[0], o[1], o[2]["created"], o[2]["rejected"]) for o in ops] == [
        ("admin", "ok", 2, 2), ("admin", "ok", 0, 2)]  # fmt: skip
    listing = cli.ok("log", "operations", "--action", "crm", "--json", role="auditor")
    shown = first.stdout + first.stderr + json.dumps(again) + listing
    shown += "\n".join(r.getMessage() for r in caplog.records)
    assert [v for v in PERSONAL if v in shown] == []
    assert _leaks_in_tables(cli) == []
    if cli.database_url is None:  # the SQLite file, its -wal or -journal, every file there
        assert any(p.name.startswith("stsvend.db") for p in cli.data_dir.iterdir())
    assert _leaks_in_files(cli.data_dir) == []


def test_move_out_closes_and_the_new_meter_waits_for_its_key_change(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("crm", "import", str(_write(tmp_path, _isu(1))), "--format", "isu",
           "--supply-group", "123456")  # fmt: skip
    status = cli.json("meters", "show", drn(41))
    assert status["key_type"] == 1 and status["key_change"]["state"] == "pending"
    out = cli.json("crm", "import", str(_write(tmp_path, _isu(1, move_out="20250101"))),
                   "--format", "isu")  # fmt: skip
    assert (out["changed"], out["closed"]) == (1, 1)
    rows = cli.sql("SELECT closed_at FROM account WHERE contract_number = '3000001'")
    assert rows[0][0] is not None


def test_plain_csv_and_ise_with_a_mapping(cli: Cli, tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("customer,contract,meter,tariff,supply_group,phone\n"
                     f"C-9,K-9,{drn(60)},FLAT,123456,+27 82 555 0137\n")  # fmt: skip
    assert cli.json("crm", "import", str(plain), "--format", "csv")["created"] == 1
    mapping = tmp_path / "ise.toml"
    mapping.write_text('[tariffs]\nH1 = "FLAT"\n')
    ise = tmp_path / "ise.csv"
    ise.write_text("SubjektNr;Vertragsnr;ZaehlerNr;Tarif;Name\n"
                   f"S-7;V-7;{drn(61)};H1;Zanele\n", encoding="utf-8")  # fmt: skip
    out = cli.json("crm", "import", str(ise), "--format", "ise", "--mapping", str(mapping),
                   "--supply-group", "123456")  # fmt: skip
    assert out["created"] == 1 and out["dropped_columns"] == ["Name"]


def test_the_adapters_are_listed(cli: Cli) -> None:
    listed = json.loads(cli.ok("adapters", "list", "--group", "crm", "--json"))["adapters"]
    assert [(a["name"], a["status"]) for a in listed] == [
        ("csv", "ready"), ("ise", "ready"), ("isu", "ready")]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "sap"], "no crm adapter 'sap' (csv, ise, isu)"),
        (["--format", "isu", "--supply-group", "12x"], "supply group code"),
        (["--format", "isu", "--supply-group", "999999"], "not registered"),
        (["--format", "isu", "--mapping", "/nonexistent/m.toml"], "cannot read the mapping"),
    ],
)
def test_bad_arguments(cli: Cli, tmp_path: Path, args: list[str], message: str) -> None:
    path = _write(tmp_path, _isu(1))
    out = cli.run("crm", "import", str(path), *args)
    assert out.returncode != 0 and message in out.stderr, out.stderr


def test_bad_files_and_roles(cli: Cli, tmp_path: Path) -> None:
    missing = cli.run("crm", "import", str(tmp_path / "none.csv"), "--format", "isu")
    assert missing.returncode == 3 and "cannot read" in missing.stderr
    header = tmp_path / "h.csv"
    header.write_text("PARTNER,VERTRAG\n1,2\n")
    out = cli.run("crm", "import", str(header), "--format", "isu")
    assert out.returncode == 3 and "no column GERNR (meter)" in out.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\n").encode() + _isu(1).replace("Zanele", "Zan\xe9le").encode(
        "latin-1") + b"\n")  # fmt: skip
    out = cli.run("crm", "import", str(latin), "--format", "isu", "--supply-group", "123456")
    assert out.returncode == 3 and "not utf-8 text" in out.stderr and "Zan" not in out.stderr
    assert [o[1] for o in cli.operations("crm.import")] == ["failed", "failed"]
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[columns]\ncustomer = "BP"\nphone = "TEL"\n')
    out = cli.run("crm", "import", str(header), "--format", "isu", "--mapping", str(mapping))
    assert out.returncode == 3 and "unknown field(s) phone" in out.stderr
    refused = cli.run("crm", "import", str(header), "--format", "isu", role="supervisor")
    assert refused.returncode == 6
