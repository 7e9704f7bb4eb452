"""End to end, as a user runs ``stsvend``, on SQLite and PostgreSQL: a request id reused for a
different request exits 9 and issues nothing (also when two processes send it at once); a
supervisor does not reverse their own sale, nor one above the configured amount or age; a clerk
reprints only receipts of their own open shift, and every reprint is in the operation log."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from stsvend.store.repos.oplog import list_operations
from stsvend.store.uow import Store
from tests.cli.conftest import STSVEND, Cli, M

EXIT_REFUSED, EXIT_NOT_ALLOWED, EXIT_MISMATCH = 7, 6, 9


@pytest.fixture
def store_cli(cli: Cli) -> Cli:
    """The CLI tests' installation, on SQLite and on PostgreSQL (the ``cli`` fixture's backends)."""
    return cli


def _url(cli: Cli) -> str:
    return cli.database_url or f"sqlite:///{cli.data_dir / 'stsvend.db'}"


def _query(cli: Cli, sql: str) -> list[tuple[Any, ...]]:
    store = Store.open(_url(cli))
    try:
        with store.transaction() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).all()]
    finally:
        store.dispose()


def _operations(cli: Cli) -> list[dict[str, Any]]:
    store = Store.open(_url(cli))
    try:
        with store.transaction() as conn:
            return list_operations(conn)
    finally:
        store.dispose()


def _counts(cli: Cli) -> tuple[Any, ...]:
    return _query(cli, "SELECT (SELECT count(*) FROM sale), (SELECT count(*) FROM token_log), "
                       "(SELECT count(*) FROM ledger_entry)")[0]  # fmt: skip


# -- request ids ---------------------------------------------------------------------------------


def test_a_request_id_reused_with_another_amount_exits_9_and_issues_nothing(
    store_cli: Cli,
) -> None:
    cli = store_cli
    first = cli.json("vend", M[2], "50.00", "--request-id", "X", role="clerk")
    before = _counts(cli)
    proc = cli.run("vend", M[2], "60.00", "--request-id", "X", role="clerk")
    assert proc.returncode == EXIT_MISMATCH, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: request id 'X' was already used for a different")
    assert f"receipt {first['receipt']}" in proc.stderr
    assert _counts(cli) == before
    # The same request again is still the first receipt.
    again = cli.json("vend", M[2], "50.00", "--request-id", "X", role="clerk")
    assert again["replayed"] is True and again["tokens"] == first["tokens"]
    ops = [(o["action"], o["outcome"]) for o in _operations(cli)
           if o["operator"] == "clerk" and o["action"] != "login"]  # fmt: skip
    assert ops[-2:] == [("credit", "refused"), ("replay", "ok")]


@pytest.mark.parametrize(
    ("second", "role"),
    [(["vend", M[3], "50.00"], "clerk"),
     (["vend", M[2], "50.00"], "supervisor"),
     (["emergency", M[2]], "clerk"),
     (["test-token", "1"], "clerk")],
    ids=["other meter", "other operator", "other operation", "other operation, no meter"],
)  # fmt: skip
def test_a_request_id_reused_for_another_request_exits_9(
    store_cli: Cli, second: list[str], role: str
) -> None:
    cli = store_cli
    cli.ok("vend", M[2], "50.00", "--request-id", "X", role="clerk")
    before = _counts(cli)
    proc = cli.run(*second, "--request-id", "X", role=role)
    assert proc.returncode == EXIT_MISMATCH, (proc.stdout, proc.stderr)
    assert "use a new request id" in proc.stderr
    assert _counts(cli) == before


@pytest.mark.parametrize("bad", ["a b", "x" * 65, "ä"])
def test_a_malformed_request_id_exits_3(store_cli: Cli, bad: str) -> None:
    before = _counts(store_cli)
    proc = store_cli.run("vend", M[2], "50.00", "--request-id", bad, role="clerk")
    assert proc.returncode == 3 and "request id is 1-64 printable ASCII" in proc.stderr
    assert _counts(store_cli) == before


def _at_once(cli: Cli, *commands: tuple[list[str], str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command before waiting for any: real concurrent processes."""
    procs = [
        subprocess.Popen(STSVEND + args + ["--json"], env=cli.base_env(role), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        for args, role in commands
    ]  # fmt: skip
    out = []
    for proc, (args, _) in zip(procs, commands, strict=True):
        stdout, stderr = proc.communicate(timeout=120)
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        out.append(subprocess.CompletedProcess(args, proc.returncode, stdout, stderr))
    return out


def test_two_processes_sending_the_same_request_at_once_get_one_token(store_cli: Cli) -> None:
    cli = store_cli
    before = _counts(cli)
    results = _at_once(cli, *[(["vend", M[2], "50.00", "--request-id", "RACE"], "clerk")] * 3)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    docs = [json.loads(r.stdout) for r in results]
    assert sorted(d["replayed"] for d in docs) == [False, True, True]
    assert len({d["receipt"] for d in docs}) == 1
    assert len({tuple(t["digits"] for t in d["tokens"]) for d in docs}) == 1
    assert _counts(cli)[:2] == (before[0] + 1, before[1] + 1)


def test_two_processes_sending_one_id_with_different_content_at_once(store_cli: Cli) -> None:
    cli = store_cli
    before = _counts(cli)
    results = _at_once(cli, (["vend", M[2], "50.00", "--request-id", "RACE2"], "clerk"),
                       (["vend", M[3], "60.00", "--request-id", "RACE2"], "clerk"))  # fmt: skip
    codes = sorted(r.returncode for r in results)
    assert codes == [0, EXIT_MISMATCH], [r.stderr for r in results]
    assert _counts(cli)[:2] == (before[0] + 1, before[1] + 1)


# -- reversals -----------------------------------------------------------------------------------


def test_a_supervisor_cannot_reverse_their_own_sale(store_cli: Cli) -> None:
    cli = store_cli
    sale = cli.json("vend", M[2], "50.00", role="supervisor")
    before = _counts(cli)
    proc = cli.run("reverse", str(sale["receipt"]), "--reason", "customer paid twice",
                   role="supervisor")  # fmt: skip
    assert proc.returncode == EXIT_REFUSED, proc.stderr
    assert "another operator than the one who sold it" in proc.stderr
    assert _counts(cli) == before
    # A clerk's sale is reversed by the supervisor.
    clerk_sale = cli.json("vend", M[3], "50.00", role="clerk")
    out = cli.json("reverse", str(clerk_sale["receipt"]), "--reason", "customer paid twice",
                   role="supervisor")  # fmt: skip
    assert out["refund"] == 5000


def test_the_reversal_limits_come_from_the_configuration(store_cli: Cli) -> None:
    cli = store_cli
    sale = cli.json("vend", M[2], "50.00", role="clerk")
    args = ("reverse", str(sale["receipt"]), "--reason", "customer paid twice")
    proc = cli.run(*args, role="supervisor", STSVEND_REVERSAL_MAX_AMOUNT="49.99")
    assert proc.returncode == EXIT_REFUSED and "more than ZAR 49.99" in proc.stderr
    proc = cli.run(*args, role="supervisor", STSVEND_REVERSAL_MAX_AGE_HOURS="0")
    assert proc.returncode == EXIT_REFUSED and "within 0 hours" in proc.stderr
    proc = cli.run(*args, role="supervisor", STSVEND_REVERSAL_MAX_AMOUNT="lots")
    assert proc.returncode == 8 and "reversal_max_amount" in proc.stderr
    cli.ok(*args, role="supervisor", STSVEND_REVERSAL_MAX_AMOUNT="50.00")


def test_the_reversal_limits_are_read_from_the_toml_file(store_cli: Cli) -> None:
    cli = store_cli
    (cli.data_dir / "config.toml").write_text('reversal_max_amount = "10.00"\n')
    sale = cli.json("vend", M[2], "50.00", role="clerk")
    proc = cli.run("reverse", str(sale["receipt"]), "--reason", "customer paid twice",
                   role="supervisor")  # fmt: skip
    assert proc.returncode == EXIT_REFUSED and "more than ZAR 10.00" in proc.stderr


# -- reprints ------------------------------------------------------------------------------------


def test_a_clerk_reprints_only_receipts_of_their_own_open_shift(store_cli: Cli) -> None:
    cli = store_cli
    own = cli.json("vend", M[2], "25.00", role="clerk")
    theirs = cli.json("vend", M[3], "25.00", role="supervisor")
    copy = cli.json("reprint", str(own["receipt"]), role="clerk")
    assert copy["copy"] is True and copy["tokens"] == own["tokens"]
    for receipt in (theirs["receipt"], 2):  # the supervisor's sale; the engineer's key change
        proc = cli.run("reprint", str(receipt), role="clerk")
        assert proc.returncode == EXIT_NOT_ALLOWED, proc.stderr
        assert "outside their own open shift (allowed: supervisor)" in proc.stderr
        assert proc.stdout == ""
    assert cli.json("reprint", str(theirs["receipt"]), role="supervisor")["copy"] is True
    cli.ok("shift", "end", role="clerk")
    proc = cli.run("reprint", str(own["receipt"]), role="clerk")
    assert proc.returncode == EXIT_NOT_ALLOWED
    reprints = [(o["operator"], o["action"], o["outcome"], o["target"])
                for o in _operations(cli) if o["action"].startswith("reprint")]  # fmt: skip
    assert reprints == [
        ("clerk", "reprint", "ok", str(own["receipt"])),
        ("clerk", "reprint.any", "refused", str(theirs["receipt"])),
        ("clerk", "reprint.any", "refused", "2"),
        ("supervisor", "reprint", "ok", str(theirs["receipt"])),
        ("clerk", "reprint.any", "refused", str(own["receipt"])),
    ]
