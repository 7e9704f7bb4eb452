"""``stsvend log seal``, ``log verify --anchor``, ``log reanchor`` and ``shift end`` as a user
runs them; tamperings done with SQL on the store's file are reported with exit code 7."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.cli.conftest import Cli, M


def _exec(cli: Cli, sql: str, **params: Any) -> int:
    """Run one statement on the installation's database (SQLite or PostgreSQL) as an insider
    would, commit, and return the number of rows it touched."""
    engine = create_engine(cli.url)
    try:
        with engine.begin() as conn:
            return int(conn.execute(text(sql), params).rowcount)
    finally:
        engine.dispose()


def _seal(cli: Cli) -> str:
    cli.ok("vend", M[2], "10", role="clerk")
    out = cli.json("log", "seal", role="supervisor")
    assert out["anchor"]["mac"] == out.get("mac", out["anchor"]["mac"])
    return str(out["anchor"]["mac"])


def test_log_seal_and_shift_end_print_the_anchor(cli: Cli) -> None:
    mac = _seal(cli)
    assert len(mac) == 64 and int(mac, 16) >= 0
    # Each command's login is in the operation log, so the next seal covers it: a new anchor.
    out = cli.ok("log", "seal", role="auditor")
    prefix = "anchor (latest seal MAC, keep it outside the database): "
    (line,) = [x for x in out.splitlines() if x.startswith(prefix)]
    latest = line.removeprefix(prefix)
    assert len(latest) == 64 and latest != mac
    # shift end runs without the keystore: it prints the latest seal, it does not seal.
    report = cli.json("shift", "end", role="clerk")
    assert report["anchor"]["mac"] == latest
    assert latest in cli.ok("shift", "end", role="supervisor")


def test_an_untouched_store_verifies_against_its_anchor(cli: Cli) -> None:
    mac = _seal(cli)
    out = cli.ok("log", "verify", "--anchor", mac, role="auditor")
    assert "token log verified against the anchor" in out


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE sale SET amount = amount - 100 WHERE id = 1",
        "UPDATE sale SET tax = 0 WHERE id = 1",
        "DELETE FROM ledger_entry WHERE id = (SELECT max(id) FROM ledger_entry)",
        "DELETE FROM operation_log WHERE action = 'login' AND operator = 'clerk'",
        "UPDATE token_log SET amount = amount + 1 WHERE id = 1",
        "UPDATE log_seal_entry SET seq = seq + 1 WHERE seal_id = 1",
    ],
    ids=["change-sale-amount", "change-sale-tax", "delete-ledger-line", "delete-oplog-entry",
         "change-token-amount", "change-seal-entry"],
)  # fmt: skip
def test_a_tampering_fails_log_verify_with_exit_7(cli: Cli, sql: str) -> None:
    _seal(cli)
    assert _exec(cli, sql) >= 1
    proc = cli.run("log", "verify", role="auditor")
    assert proc.returncode == 7, (proc.stdout, proc.stderr)
    assert "finding" in proc.stdout + proc.stderr


def test_deleting_the_newest_seal_shows_only_against_the_anchor(cli: Cli) -> None:
    mac = _seal(cli)
    ((newest,),) = cli.sql("SELECT max(id) FROM log_seal")
    _exec(cli, "DELETE FROM log_seal_entry WHERE seal_id = :n", n=newest)
    _exec(cli, "DELETE FROM log_seal WHERE id = :n", n=newest)
    cli.ok("log", "verify", role="auditor")
    proc = cli.run("log", "verify", "--anchor", mac, "--json", role="auditor")
    assert proc.returncode == 7
    assert '"kind": "anchor"' in proc.stdout


def test_a_restore_is_a_rollback_until_it_is_re_anchored(cli: Cli) -> None:
    if cli.database_url is not None:
        pytest.skip("a file copy is SQLite's backup (PostgreSQL's rollback: tamperings.py)")
    _seal(cli)
    backup = cli.data_dir.parent / "backup.db"
    shutil.copyfile(cli.data_dir / "stsvend.db", backup)
    lost = _seal(cli)
    shutil.copyfile(backup, cli.data_dir / "stsvend.db")
    assert cli.run("log", "verify", "--anchor", lost, role="auditor").returncode == 7
    # Only an admin with the keystore may declare the restore.
    assert cli.run("log", "reanchor", "--lost-anchor", lost, role="auditor").returncode == 6
    out = cli.json("log", "reanchor", "--lost-anchor", lost)
    assert out["lost"] == [lost] and out["anchor"]["mac"] != lost
    verified = cli.json("log", "verify", "--anchor", lost, role="auditor")
    assert verified["ok"] is True
    assert [n["kind"] for n in verified["notes"]] == ["restored"]
    assert cli.json("log", "verify", "--anchor", out["anchor"]["mac"], role="auditor")["ok"]
    # Another missing anchor is still a rollback.
    assert cli.run("log", "verify", "--anchor", "ab" * 32, role="auditor").returncode == 7


def test_a_malformed_anchor_is_refused_clearly(cli: Cli) -> None:
    proc = cli.run("log", "verify", "--anchor", "not-a-mac", role="auditor")
    assert proc.returncode == 3
    assert "64 hexadecimal digits" in proc.stderr
    proc = cli.run("log", "reanchor", "--lost-anchor", "12")
    assert proc.returncode == 3
