"""``stsvend vendors`` and ``stsvend terminals`` as an admin and a supervisor run them, on
SQLite and PostgreSQL (the base installation holds vendor SHOP1 with terminal TILL-1)."""

from __future__ import annotations

import re

from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import Cli


def test_a_vendor_from_registration_to_statement(cli: Cli) -> None:
    made = cli.json("vendors", "add", "agent-7", "--name", "Agent seven", "--commission", "1.5",
                    "--credit-limit", "200", "--low-float", "100", role="admin")  # fmt: skip
    assert made == {
        "code": "AGENT-7", "name": "Agent seven", "currency": "ZAR", "commission_bp": 150,
        "commissions": {}, "credit_limit": 20_000, "float": 0, "low_float": 10_000,
        "low": True, "active": True, "test": True,
    }  # fmt: skip
    shown = cli.run("vendors", "show", "AGENT-7", role="supervisor")
    assert shown.returncode == 0, shown.stderr
    assert "Agent seven" in shown.stdout and "(LOW)" in shown.stdout and "1.5 %" in shown.stdout
    moved = cli.json("vendors", "deposit", "AGENT-7", "1250.50", "--reference", "FNB-991",
                     role="supervisor")  # fmt: skip
    assert (moved["amount"], moved["float_after"], moved["reference"]) == (125_050, 125_050,
                                                                            "FNB-991")  # fmt: skip
    text = cli.run("vendors", "deposit", "AGENT-7", "10", "--reference", "FNB-992",
                   role="supervisor")  # fmt: skip
    assert text.returncode == 0 and "float now ZAR 1,260.50" in text.stdout, text.stdout
    statement = cli.json("vendors", "statement", "AGENT-7", role="auditor")
    assert [(line["entry"], line["amount"]) for line in statement["lines"]] == [
        ("deposit", 125_050), ("deposit", 1_000)
    ]  # fmt: skip
    assert (statement["opening"], statement["closing"]) == (0, 126_050)
    water = cli.json("vendors", "commission", "AGENT-7", "4", "--resource", "water", role="admin")
    assert water["commissions"] == {"water": 400}
    listed = cli.json("vendors", "list", role="admin")
    assert [v["code"] for v in listed] == ["AGENT-7", "SHOP1"]


def test_a_terminal_key_is_printed_once_and_never_listed(cli: Cli) -> None:
    made = cli.run("terminals", "add", "SHOP1", "till-9", "--role", "supervisor", role="admin")
    assert made.returncode == 0, made.stderr
    [key] = re.findall(r"stv_[0-9a-f]{12}_[0-9a-f]{32}", made.stdout)
    assert "never shown again" in made.stdout
    listed = cli.run("terminals", "list", "SHOP1", role="supervisor")
    assert listed.returncode == 0 and key[4:16] in listed.stdout and key[17:] not in listed.stdout
    rotated = cli.json("terminals", "rotate", "SHOP1", "TILL-9", role="admin")
    assert rotated["key"] != key and rotated["prefix"] != key[4:16]
    revoked = cli.json("terminals", "revoke", "SHOP1", "TILL-9", role="admin")
    assert revoked["active"] is False
    ops = cli.json("log", "operations", "--action", "terminals.rotate", role="auditor")
    assert key[17:] not in str(ops) and rotated["key"][17:] not in str(ops)


def test_refusals_are_clear_and_change_nothing(cli: Cli) -> None:
    cases = [
        (["vendors", "add", "SHOP1", "--name", "again"], "admin", "exists"),
        (["vendors", "add", "NEW", "--name", "x", "--commission", "101"], "admin", "input"),
        (["vendors", "deposit", "SHOP1", "5.001", "--reference", "B"], "supervisor", "money"),
        (["vendors", "deposit", "NOPE", "5", "--reference", "B"], "supervisor", "not_found"),
        (["vendors", "deposit", "SHOP1", "5", "--reference", "B"], "clerk", "permission"),
        (["vendors", "statement", "SHOP1", "--from", "01/02/2026"], "auditor", "input"),
        (["terminals", "add", "SHOP1", "T-2", "--role", "auditor"], "admin", "input"),
        (["terminals", "rotate", "SHOP1", "NOPE"], "admin", "not_found"),
    ]
    before = cli.json("vendors", "show", "SHOP1", role="admin")
    for args, role, code in cases:
        proc = cli.run(*args, role=role)
        assert proc.returncode == exit_code_for(code), (args, proc.returncode, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.strip(), proc.stderr
    assert cli.json("vendors", "show", "SHOP1", role="admin") == before
