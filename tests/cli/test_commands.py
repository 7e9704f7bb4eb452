"""Every command run as a user runs it, with its refusals, on SQLite and on PostgreSQL.

Exit codes are checked against :func:`stsvend_cli.exit_codes.exit_code_for` of the error code
the refusal raises; ``test_exit_codes.py`` checks that table against the documented one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from stsvend.store.migrate import HEAD
from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import PINS, Cli, M


def _receipt_tokens(text: str) -> list[str]:
    return re.findall(r"\b\d{4} \d{4} \d{4} \d{4} \d{4}\b", text)


def test_a_sale_prints_the_legal_receipt(cli: Cli) -> None:
    out = cli.ok("vend", M[2], "100", role="clerk")
    for needed in ("*** TEST ***", "City Power", "Tax number: VAT-4012345678", "SALE",
                   "Receipt 3", f"Meter 600727 {M[2]}", "SGC 123456", "KRN 1", "TI 01",
                   "Contract K-2", "Amount tendered", "100.00", "VAT included (15%)",
                   "13.04", "Units: 50.0 kWh", "Credit 50.0 kWh"):  # fmt: skip
        assert needed in out, needed
    assert len(_receipt_tokens(out)) == 1


def test_vend_json_and_request_id_replay(cli: Cli) -> None:
    first = cli.json("vend", M[2], "10", "--request-id", "till-7-0001", role="clerk")
    again = cli.json("vend", M[2], "10", "--request-id", "till-7-0001", role="clerk")
    assert first["tokens"] == again["tokens"] and again["replayed"] is True
    assert first["units"] == 50 and first["money"]["tendered"] == 1000
    out = cli.ok("vend", M[2], "10", "--request-id", "till-7-0001", role="clerk")
    assert "nothing was issued again" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["vend", "01000000990", "10"], "not_found", "no meter 01000000990"),
        (["vend", "01000000018", "10"], "check_digit", "check digit is wrong"),
        (["vend", "12345", "10"], "identity", "11 or 13 digits"),
        (["vend", M[2], "0.10"], "amount_too_small", "below this meter's minimum"),
        (["vend", M[2], "20000"], "amount_too_large", "above this meter's maximum"),
        (["vend", M[2], "ten"], "money", "must be plain digits"),
        (["vend", M[5], "10"], "not_found", "no open account"),
        (["reprint", "999"], "not_found", "no receipt 999"),
    ],
)
def test_vend_refusals(cli: Cli, args: list[str], code: str, message: str) -> None:
    proc = cli.run(*args, role="clerk")
    assert proc.returncode == exit_code_for(code), proc.stderr
    assert message in proc.stderr and proc.stderr.startswith("error: ")


def test_a_blocked_meter_and_a_wrong_role_are_refused(cli: Cli) -> None:
    cli.ok("meters", "block", M[2], "--reason", "tamper seen", role="supervisor")
    proc = cli.run("vend", M[2], "10", role="clerk")
    assert proc.returncode == exit_code_for("meter_blocked") and "blocked" in proc.stderr
    proc = cli.run("vend", M[3], "10", role="auditor")
    assert proc.returncode == exit_code_for("permission") == 6
    assert "an auditor may not vend credit" in proc.stderr
    cli.ok("meters", "unblock", M[2], "--reason", "inspected fine", role="supervisor")
    cli.ok("vend", M[2], "10", role="clerk")


def test_wrong_pin_no_operator_and_no_shift(cli: Cli) -> None:
    proc = cli.run("vend", M[2], "10", role="clerk", STSVEND_PIN="999999")
    assert proc.returncode == 6 and "wrong PIN" in proc.stderr
    proc = cli.run("vend", M[2], "10", role=None)
    assert proc.returncode == exit_code_for("input") and "--operator" in proc.stderr
    proc = cli.run("vend", M[2], "10", role="clerk", STSVEND_TERMINAL="T9")
    assert proc.returncode == exit_code_for("refused") and "no open shift" in proc.stderr
    proc = cli.run("vend", M[2], "10", role="clerk", STSVEND_PIN="")
    assert "no PIN" in proc.stderr


def test_the_commissioning_sale_prints_key_change_tokens_first(cli: Cli) -> None:
    cli.ok("meters", "add", M[7], "--sgc", "123456", "--default-key", role="engineer")
    cli.ok("customers", "open-account", "--customer", "C-7", "--contract", "K-7",
           "--meter", M[7], "--tariff", "FLAT", role="supervisor")  # fmt: skip
    out = cli.ok("vend", M[7], "30", role="clerk")
    assert out.index("Key change 1 of 2") < out.index("Key change 2 of 2") < out.index("Credit")
    assert "Enter the key change tokens first" in out
    assert len(_receipt_tokens(out)) == 3
    shown = cli.json("meters", "show", M[7], role="clerk")
    assert shown["key_change"]["state"] == "issued"
    cli.ok("key-change", "confirm", M[7], role="supervisor")
    assert cli.json("meters", "show", M[7], role="clerk")["key_type"] == 2


def test_trial_reprint_reverse(cli: Cli) -> None:
    trial = cli.json("trial", M[1], "--units", "12.5", role="clerk")
    assert trial["units"] == 125 and trial["money"]["tendered"] == 2500
    assert "no token was issued" in cli.ok("trial", M[1], "25", role="clerk")
    copy = cli.ok("reprint", "1", role="clerk")
    assert "*** COPY ***" in copy and "Receipt 1" in copy
    proc = cli.run("reverse", "1", "--reason", "paid twice", role="clerk")
    assert proc.returncode == 6
    out = cli.ok("reverse", "1", "--reason", "customer paid twice", role="supervisor")
    assert "REVERSAL" in out and "cannot be revoked at the meter" in out
    proc = cli.run("reverse", "1", "--reason", "customer paid twice", role="supervisor")
    assert proc.returncode == exit_code_for("reversal") and "already reversed" in proc.stderr
    assert "REVERSED" in cli.ok("reprint", "1", role="clerk")


def test_emergency_free_issue_engineering_and_test_tokens(cli: Cli) -> None:
    out = cli.ok("emergency", M[3], role="clerk")
    assert "EMERGENCY CREDIT" in out and "Emergency credit debt" in out
    proc = cli.run("emergency", M[3], role="clerk")
    assert proc.returncode == exit_code_for("emergency_credit") and "unpaid" in proc.stderr
    free = cli.json("free-issue", M[3], "5", "--reason", "meter fault WO-3", role="supervisor")
    assert free["units"] == 50
    eng = cli.json("engineering", M[3], "max-power-limit", "--work-order", "WO-9",
                   "--value", "5000", role="engineer")  # fmt: skip
    assert eng["tokens"][0]["class"] == 2 and eng["work_order"] == "WO-9"
    proc = cli.run("engineering", M[3], "clear-tamper", role="engineer")
    assert proc.returncode == 2  # click: --work-order is required
    test = cli.json("test-token", "1", role="clerk")
    assert test["tokens"][0]["digits"] == "00000000000150997584"


def test_registry_commands(cli: Cli, tmp_path: Path) -> None:
    groups = cli.json("supply-groups", "list", role="auditor")
    assert groups[0]["sgc"] == "123456" and groups[0]["test"] is True
    assert len(cli.json("meters", "list", role="clerk")) == 6
    assert cli.json("meters", "list", "--status", "blocked", role="clerk") == []
    limits = cli.json("meters", "limits", M[2], "--min", "5", "--max", "50", role="supervisor")
    assert (limits["min_vend"], limits["max_vend"]) == (500, 5000)
    assert cli.run("vend", M[2], "60", role="clerk").returncode == exit_code_for("amount_too_large")
    customers = cli.json("customers", "list", role="clerk")
    assert {c["customer"] for c in customers} == {"C-1", "C-2", "C-3", "C-4"}
    assert cli.json("customers", "close-account", "K-3", role="supervisor")["open"] is False
    tariffs = cli.json("tariffs", "list", role="clerk")
    assert tariffs[0]["code"] == "FLAT" and tariffs[0]["tax_bp"] == 1500
    cli.ok("tariffs", "add", "IBT", "--name", "Inclining", "--block", "50:1.50", "--block",
           ":2.50", "--fixed-charge", "10", "--free-units", "5")  # fmt: skip
    proc = cli.run("tariffs", "add", "BAD", "--name", "x", "--price", "1", "--block", ":2")
    assert proc.returncode == 3 and "not both" in proc.stderr
    operators = cli.json("operators", "list", role="supervisor")
    assert {o["username"] for o in operators} == set(PINS)
    listed = json.dumps(operators)
    assert "pin_hash" not in listed and "scrypt" not in listed
    assert not any(pin in listed for pin in PINS.values())
    csv_file = tmp_path / "old.csv"
    csv_file.write_text(
        "drn,sgc,krn,key_type,base_date,last_tid\n01000000991,123456,1,2,2014,7000000\n"
    )
    proc = cli.run("meters", "import", str(csv_file))
    assert proc.returncode == 3 and "line 2" in proc.stderr  # the check digit is wrong
    csv_file.write_text(
        "drn,sgc,krn,key_type,base_date,last_tid\n01000000990,123456,1,2,2014,7000000\n"
    )
    assert cli.json("meters", "import", str(csv_file)) == {"added": 1, "rows": 1, "updated": 0}
    assert cli.json("meters", "show", "01000000990", role="clerk")["last_tids"] == {"2014": 7000000}


def test_keys_listing_never_shows_key_material(cli: Cli) -> None:
    out = cli.ok("keys", "list", role="auditor")
    listed = cli.json("keys", "list", role="auditor")
    assert {k["key_id"] for k in listed} >= {"123456/1/VUDK", "123456/2/VUDK"}
    for secret in ("abababababababab", "9494949494949494"):
        assert secret not in out and secret not in json.dumps(listed)
    assert "TEST" in out and "C33F45" in out
    proc = cli.run("keys", "import", "/nonexistent.toml")
    assert proc.returncode != 0 and proc.stderr.startswith("error: ")


def test_a_wrong_kek_is_refused(cli: Cli) -> None:
    proc = cli.run("keys", "list", STSVEND_KEK="00" * 32)
    assert proc.returncode == exit_code_for("wrong_kek")
    assert "key-encryption key does not open" in proc.stderr


def test_shifts_and_reports(cli: Cli) -> None:
    cli.ok("vend", M[2], "10", role="clerk")
    status = cli.json("shift", "status", role="clerk")
    assert status["shift"] is not None and status["terminal"] == "T1"
    ended = cli.json("shift", "end", role="clerk")
    kinds = {t["kind"]: t for t in ended["totals"]}
    assert kinds["credit"]["count"] == 2 and kinds["credit"]["amount"] == 3000
    assert cli.json("shift", "status", role="clerk")["shift"] is None
    assert "Shift totals" not in cli.ok("shift", "start", role="clerk")
    daily = cli.json("report", "daily", role="auditor")
    assert sum(e["amount"] for e in daily["ledger"]) == 0
    assert any(t["purpose"] == "sale" for t in daily["tokens"])
    assert "By operator" in cli.ok("report", "daily", role="auditor")
    monthly = cli.json("report", "monthly", role="supervisor")
    assert monthly["by_kind"] and monthly["by_day"]
    proc = cli.run("report", "daily", "yesterday", role="auditor")
    assert proc.returncode == 3 and "YYYY-MM-DD" in proc.stderr


def test_log_export_verify_and_tampering(cli: Cli, tmp_path: Path) -> None:
    cli.ok("vend", M[2], "10", role="clerk")
    target = tmp_path / "log.csv"
    proc = cli.run("log", "export", "--format", "csv", "-o", str(target), role="auditor")
    assert proc.returncode == 0 and "withheld" in proc.stderr
    rows = list(csv.DictReader(target.open()))
    assert len(rows) >= 4 and all(r["digits"] == "" for r in rows)
    assert all(r["test"] == "True" for r in rows)
    jsonl = cli.ok("log", "export", "--format", "jsonl", "--meter", M[2], role="supervisor")
    mine = [json.loads(line) for line in jsonl.splitlines()]
    assert len(mine) == 1 and len(mine[0]["digits"]) == 20
    by_key = cli.ok("log", "export", "--key", "123456/2", role="supervisor")
    assert len(list(csv.DictReader(io.StringIO(by_key)))) == 0
    assert cli.json("log", "verify", role="auditor")["ok"] is True
    seal = cli.json("log", "seal", role="auditor")
    assert seal["sealed"] in (True, False)
    [(row_id,)] = cli.sql("SELECT id FROM token_log WHERE meter = :m", m=M[2])
    cli.sql("UPDATE token_log SET amount = amount * 2 WHERE id = :i", i=row_id)
    proc = cli.run("log", "verify", "--json", role="auditor")
    assert proc.returncode == exit_code_for("refused")
    report = json.loads(proc.stdout)
    assert [(f["kind"], f["row_id"]) for f in report["findings"]] == [("changed", row_id)]
    assert "finding" in proc.stderr


def test_key_change_commands(cli: Cli) -> None:
    out = cli.ok("key-change", "meter", M[2], "--ti", "5", role="engineer")
    assert "KEY CHANGE" in out and "pending" in out and _receipt_tokens(out) == []
    sale = cli.json("vend", M[2], "10", role="clerk")
    assert [t["label"] for t in sale["tokens"]][-1] == "Credit" and len(sale["tokens"]) == 3
    proc = cli.run("key-change", "meter", M[2], "--krn", "2", role="engineer")
    assert proc.returncode == exit_code_for("key_change") and "already has" in proc.stderr
    assert (
        cli.json("key-change", "cancel", M[2], "--reason", "wrong index", role="supervisor")[
            "state"
        ]
        == "cancelled"
    )
    report = cli.json("key-change", "report", role="auditor")
    assert {m["drn"] for m in report["listed"]} == {M[4]}
    out = cli.ok("key-change", "group", "123456", "--krn", "2", "--batch-size", "2",
                 "--workers", "2", role="engineer")  # fmt: skip
    assert "job 1 (done)" in out and "skipped 1" in out
    jobs = cli.json("key-change", "jobs", role="engineer")
    assert jobs[0]["done"] == jobs[0]["total"] == 6
    resumed = cli.json("key-change", "resume", "1", role="engineer")
    assert resumed["state"] == "done"


def test_a_group_key_change_stopped_and_resumed(cli: Cli) -> None:
    part = cli.json("key-change", "group", "123456", "--krn", "2", "--batch-size", "2",
                    "--max-batches", "1", "--request-id", "rollout-1", role="engineer")  # fmt: skip
    assert (part["state"], part["done"]) == ("running", 2)
    again = cli.json("key-change", "group", "123456", "--krn", "2", "--batch-size", "2",
                     "--request-id", "rollout-1", role="engineer")  # fmt: skip
    assert (again["job"], again["state"], again["done"]) == (part["job"], "done", 6)


def test_db_commands_and_init_twice(cli: Cli) -> None:
    assert "no drift" in cli.ok("db", "check", role=None)
    assert f"database {HEAD}, code {HEAD}" in cli.ok("db", "current", role=None)
    assert f"schema at {HEAD}" in cli.ok("db", "upgrade", role=None)
    again = cli.json("init")
    assert again["created_admin"] is None and again["by"] == "admin"
    proc = cli.run("init", role="clerk")
    assert proc.returncode == 6


def test_commands_on_a_store_that_does_not_exist(fresh: Cli) -> None:
    proc = fresh.run("meters", "list", role="clerk")
    assert proc.returncode == exit_code_for("storage") and "stsvend init" in proc.stderr
    proc = fresh.run("init", role=None)
    assert proc.returncode == 3 and "--admin" in proc.stderr
