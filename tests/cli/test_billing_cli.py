"""``stsvend billing export`` and ``billing metering-points`` end to end, on SQLite and PostgreSQL.

A known answer (an inclining-block tariff with a fixed charge, debt recovery, emergency credit
and a reversal, figured by hand), each format (CSV, JSON, MSCONS parsed back with pydifact), a
tampered period reported as not reconciling, and every refusal: bad dates, a period backwards,
an unknown format, a premise without a metering point (named), with no output file left behind.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydifact.segmentcollection import Interchange

from tests.cli.conftest import Cli, M

ZONE = ZoneInfo("Africa/Johannesburg")


def today() -> str:
    return datetime.now(ZONE).date().isoformat()


def month() -> tuple[str, str]:
    """This local month's first day and today (the base's sale was made today)."""
    now = datetime.now(ZONE).date()
    return now.replace(day=1).isoformat(), now.isoformat()


def export(cli: Cli, *args: str, fmt: str = "json") -> Any:
    first, last = month()
    out = cli.run("billing", "export", "--from", first, "--to", last, "--format", fmt, *args,
                  role="auditor")  # fmt: skip
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert "reconciled: " in out.stderr and "7 checks hold" in out.stderr
    return json.loads(out.stdout) if fmt == "json" else out.stdout


def known_sales(cli: Cli) -> int:
    """The worked example of docs/integration.md: returns the receipt reversed."""
    cli.ok("tariffs", "add", "STEP", "--name", "Step", "--block", "50:1.00", "--block", ":2.00",
           "--tax", "15", "--fixed-charge", "10", "--emergency-units", "10",
           "--emergency-repay", "50")  # fmt: skip
    cli.ok("customers", "open-account", "--customer", "C-5", "--contract", "K-5", "--meter", M[5],
           "--tariff", "STEP", "--debt", "100", "--recovery", "10")  # fmt: skip
    cli.ok("vend", M[5], "100", role="clerk")
    cli.ok("emergency", M[5], role="clerk")
    second = cli.json("vend", M[5], "50", role="clerk")["receipt"]
    cli.ok("reverse", str(second), "--reason", "customer cancelled", role="supervisor")
    return int(second)


KNOWN = {
    "purchases": 2, "purchase_amount": 15000, "units": 755, "energy_charge": 8100,
    "energy_by_block": [{"block": 1, "amount": 5000, "units": 500},
                        {"block": 2, "amount": 3100, "units": 155}],
    "fixed_charges": 1000, "tax": 1187 + 261, "debt_recovered": 900,
    "emergency_granted": 2000, "emergency_units": 100, "emergency_repaid": 0, "free_units": 0,
    "credit_brought_forward": 0, "credit_carried_forward": 0,
    "reversals": 1, "reversed_amount": 5000, "reversed_units": 135,
}  # fmt: skip


def test_known_answer_in_json(cli: Cli) -> None:
    known_sales(cli)
    doc = export(cli)
    assert doc["reconciled"] is True and all(c["ok"] for c in doc["checks"])
    by = {a["contract"]: a for a in doc["accounts"]}
    assert by["K-5"]["figures"] == KNOWN
    assert by["K-5"]["meter"] == M[5] and by["K-5"]["unit"] == "kWh"
    assert by["K-1"]["figures"]["purchase_amount"] == 2000  # the base's sale
    assert doc["totals"]["purchases"] == 3 and doc["totals"]["units"] == 755 + 100
    assert doc["totals"]["purchase_amount"] == 17000
    assert doc["currency"] == "ZAR" and doc["from"] == month()[0] and doc["to"] == month()[1]


def test_known_answer_in_csv_to_a_file(cli: Cli, tmp_path: Path) -> None:
    known_sales(cli)
    target = tmp_path / "billing.csv"
    assert export(cli, "--out", str(target), fmt="csv") == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["contract"] for r in rows] == ["K-1", "K-5", "TOTAL"]
    k5 = rows[1]
    for name, value in KNOWN.items():
        if name != "energy_by_block":
            assert int(k5[name]) == value, name
    assert (k5["energy_block_1_amount"], k5["energy_block_2_units"]) == ("5000", "155")
    assert rows[2]["energy_block_1_amount"] == str(5000 + 2000)  # K-1's flat block 1 too
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def premises(cli: Cli, tmp_path: Path) -> None:
    cli.sql("UPDATE account SET premise = 'P-100' WHERE contract_number IN ('K-1', 'K-5')")
    mapping = tmp_path / "points.csv"
    mapping.write_text("premise,metering_point\nP-100,DE0001234567890\nP-200,DE02\n")
    assert "2 added, 0 changed" in cli.ok("billing", "metering-points", "import", str(mapping))
    mapping.write_text("premise,metering_point\nP-200,DE03\n")
    assert "0 added, 1 changed" in cli.ok("billing", "metering-points", "import", str(mapping))


def test_mscons_parses_back_with_its_segments(cli: Cli, tmp_path: Path) -> None:
    known_sales(cli)
    premises(cli, tmp_path)
    listed = cli.json("billing", "metering-points", "list", role="auditor")
    assert listed["metering_points"][0] == {"premise": "P-100",
                                            "metering_point": "DE0001234567890"}  # fmt: skip
    text = export(cli, fmt="mscons")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydifact has no directory files for syntax 3
        parsed = Interchange.from_str(text)
        (message,) = list(parsed.get_messages())
    tags = [s.tag for s in parsed.segments]
    assert tags == ["UNH", "BGM", "DTM", "NAD", "NAD", "UNS", "LOC", "DTM", "DTM", "LIN", "QTY",
                    "DTM", "DTM", "UNT"]  # fmt: skip
    assert text.startswith("UNB+UNOC:3+STSVEND:500+BILLING:500+") and "UNZ+1+" in text
    assert (message.type, message.version) == ("MSCONS", "D.04B")
    seg = {s.tag: s for s in parsed.segments}
    assert seg["LOC"].elements == ["172", "DE0001234567890"]
    # K-1's 10.0 and K-5's 75.5 kWh share premise P-100; no money anywhere.
    assert seg["QTY"].elements == [["220", "85.5", "KWH"]]
    assert seg["UNT"].elements == ["14", "1"]
    assert "ZAR" not in text and "MOA" not in text
    first, last = month()
    dates = [s.elements[0] for s in parsed.segments if s.tag == "DTM"]
    assert dates[1:] == [["163", first.replace("-", ""), "102"],
                         ["164", last.replace("-", ""), "102"]] * 2  # fmt: skip


def test_mscons_refuses_a_premise_without_a_metering_point(cli: Cli, tmp_path: Path) -> None:
    known_sales(cli)
    cli.sql("UPDATE account SET premise = 'P-777' WHERE contract_number IN ('K-1', 'K-5')")
    target = tmp_path / "out.edi"
    first, last = month()
    out = cli.run("billing", "export", "--from", first, "--to", last, "--format", "mscons",
                  "--out", str(target), role="auditor")  # fmt: skip
    assert out.returncode == 5 and "premise P-777 has no metering point" in out.stderr
    assert not target.exists()
    cli.sql("UPDATE account SET premise = NULL WHERE contract_number = 'K-1'")
    out = cli.run("billing", "export", "--from", first, "--to", last, "--format", "mscons",
                  role="auditor")  # fmt: skip
    assert out.returncode == 5 and "contract K-1 has no premise" in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("UPDATE ledger_entry SET amount = amount - 100 WHERE entry = 'energy' AND sale_id = "
         "(SELECT MAX(id) FROM sale WHERE kind = 'credit')", "ledger_balanced"),
        ("UPDATE sale SET units = units + 10 WHERE id = (SELECT MAX(id) FROM sale WHERE kind = "
         "'credit')", "token_log_units"),
        ("UPDATE sale SET amount = amount + 500 WHERE id = (SELECT MIN(id) FROM sale)",
         "payments"),
        ("DELETE FROM token_log WHERE event = 'reversal'", "token_log_units"),
    ],
)  # fmt: skip
def test_a_tampered_period_does_not_reconcile(
    cli: Cli, tmp_path: Path, statement: str, rule: str
) -> None:
    known_sales(cli)
    cli.sql(statement)
    target = tmp_path / "billing.json"
    first, last = month()
    out = cli.run("billing", "export", "--from", first, "--to", last, "--format", "json",
                  "--out", str(target), role="auditor")  # fmt: skip
    assert out.returncode == 7, (out.stdout, out.stderr)
    assert f"not reconciled: {rule}: " in out.stderr
    assert "do not reconcile" in out.stderr and "nothing was written" in out.stderr
    assert not target.exists() and out.stdout == ""
    if rule != "token_log_units" or "DELETE" not in statement:
        assert "not reconciled: token_log_records: sale " in out.stderr


def test_another_period_and_an_empty_one(cli: Cli) -> None:
    known_sales(cli)
    out = cli.run("billing", "export", "--from", "2001-01-01", "--to", "2001-01-31", "--format",
                  "json", role="auditor")  # fmt: skip
    doc = json.loads(out.stdout)
    assert out.returncode == 0 and doc["accounts"] == [] and doc["totals"]["units"] == 0
    assert "reconciled: 0 account(s)" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-13-01", "--to", "2026-12-31"), "a day is YYYY-MM-DD"),
        (("--from", "yesterday", "--to", "2026-12-31"), "a day is YYYY-MM-DD"),
        (("--from", "1899-12-01", "--to", "2026-12-31"), "years 1900 to 9998"),
        (("--from", "2026-12-31", "--to", "2026-12-01"), "is after its end"),
        (("--from", "2020-01-01", "--to", "2026-12-31"), "at most 367 days"),
        (("--from", "2026-12-01", "--to", "2026-12-31", "--format", "xlsx"),
         "no billing adapter 'xlsx' (csv, json, mscons)"),
    ],
)  # fmt: skip
def test_refusals_leave_no_file(cli: Cli, tmp_path: Path, args: tuple[str, ...],
                                message: str) -> None:  # fmt: skip
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "out.csv"
    out = cli.run("billing", "export", *args, "--out", str(target), role="auditor")
    assert out.returncode in (2, 3, 8), (out.returncode, out.stderr)
    assert message in out.stderr and out.stdout == ""
    assert list(folder.iterdir()) == []


def test_the_export_needs_the_reports_right(cli: Cli) -> None:
    out = cli.run("billing", "export", "--from", today(), "--to", today(), role="clerk")
    assert out.returncode == 6 and "a clerk may not run reports" in out.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("premise;metering_point\nP-1;DE1\n", "line 1: the header must be"),
        ("premise,metering_point\nP-1,DE 1\n", "line 2: a metering point is 1 to 35"),
        ("premise,metering_point\nP-1,DE1\nP-1,DE2\n", "line 3: premise P-1 is in the file twice"),
        ("premise,metering_point\nP-1\n", "line 2: two fields"),
        ("premise,metering_point\n,DE1\n", "line 2: a premise is 1 to 40"),
        ("premise,metering_point\nP-1," + "D" * 36 + "\n", "line 2: a metering point"),
    ],
)  # fmt: skip
def test_metering_point_files_refused_whole(cli: Cli, tmp_path: Path, text: str,
                                            message: str) -> None:  # fmt: skip
    good = tmp_path / "good.csv"
    good.write_text("premise,metering_point\nP-9,DE9\n")
    cli.ok("billing", "metering-points", "import", str(good))
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    out = cli.run("billing", "metering-points", "import", str(bad))
    assert out.returncode == 3 and message in out.stderr
    assert cli.sql("SELECT premise, metering_point FROM metering_point") == [("P-9", "DE9")]


def test_metering_point_file_unreadable_and_the_right_needed(cli: Cli, tmp_path: Path) -> None:
    out = cli.run("billing", "metering-points", "import", str(tmp_path / "none.csv"))
    assert out.returncode == 3 and "cannot read" in out.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"premise,metering_point\nP-\xe9,DE1\n")
    out = cli.run("billing", "metering-points", "import", str(latin))
    assert out.returncode == 3 and "not UTF-8 text" in out.stderr
    good = tmp_path / "good.csv"
    good.write_text("premise,metering_point\nP-9,DE9\n")
    out = cli.run("billing", "metering-points", "import", str(good), role="clerk")
    assert out.returncode == 6
    assert cli.operations("billing.metering_points") == []
    cli.ok("billing", "metering-points", "import", str(good))
    ((who, outcome, detail),) = cli.operations("billing.metering_points")
    assert (who, outcome, detail) == ("admin", "ok", {"added": 1, "changed": 0, "lines": 1})


def test_the_adapters_are_listed(cli: Cli) -> None:
    listed = json.loads(cli.ok("adapters", "list", "--group", "billing", "--json", role=None))
    assert [(a["name"], a["status"]) for a in listed["adapters"]] == [
        ("csv", "ready"),
        ("json", "ready"),
        ("mscons", "ready"),
    ]


def test_the_real_program_exports(cli: Cli) -> None:
    first, last = month()
    proc = cli.run_process("billing", "export", "--from", first, "--to", last, role="auditor")
    assert proc.returncode == 0 and proc.stdout.startswith("contract,customer,meter,premise")
    assert "reconciled: 1 account(s)" in proc.stderr
