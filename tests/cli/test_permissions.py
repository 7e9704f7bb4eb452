"""Every cell of the role × command permission table, through the CLI.

For each command the expected roles come from the permission table itself
(:data:`stsvend.vending.roles.PERMISSIONS`); an allowed role must succeed (exit 0), any other
must be refused with exit 6 and say which roles may.  The refused roles run first, on one copy
of the base installation (a refusal changes nothing but the operation log), and each allowed
role on a copy of its own, on SQLite and PostgreSQL.  ``log export`` also checks the digits
cell (``log.export-digits``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.vending.roles import PERMISSIONS, Action, Role, is_allowed
from tests.cli.conftest import ROLES, Backend, M

# (command line, action, extra environment)
CASES: list[tuple[list[str], Action, dict[str, str]]] = [
    (["init"], Action.INIT, {}),
    (["keys", "list"], Action.KEYS_LIST, {}),
    (["keys", "import", "{keyfile}"], Action.KEYS_IMPORT, {}),
    (["keys", "change-kek"], Action.KEYS_IMPORT, {"STSVEND_NEW_KEK": "33" * 32}),
    (["supply-groups", "list"], Action.SUPPLY_GROUPS_VIEW, {}),
    (["supply-groups", "add", "123457", "--krn", "1"], Action.SUPPLY_GROUPS_MANAGE, {}),
    (["meters", "list"], Action.METERS_VIEW, {}),
    (["meters", "show", M[1]], Action.METERS_VIEW, {}),
    (["meters", "add", M[7], "--sgc", "123456"], Action.METERS_MANAGE, {}),
    (["meters", "limits", M[2], "--min", "2"], Action.METERS_MANAGE, {}),
    (["meters", "block", M[2], "--reason", "tamper seen"], Action.METERS_BLOCK, {}),
    (["meters", "unblock", M[2], "--reason", "inspected ok"], Action.METERS_BLOCK, {}),
    (["meters", "import", "{csvfile}"], Action.METERS_IMPORT, {}),
    # A simulated DLMS meter (the dlms_meter fixture) answers the relay command.
    (["meters", "relay", M[1], "--state"], Action.METERS_RELAY, {"STSVEND_CONFIG": "{dlms}"}),
    (["customers", "list"], Action.CUSTOMERS_VIEW, {}),
    (["customers", "open-account", "--customer", "C-5", "--contract", "K-5", "--meter", M[5],
      "--tariff", "FLAT"], Action.CUSTOMERS_MANAGE, {}),
    (["customers", "close-account", "K-2"], Action.CUSTOMERS_MANAGE, {}),
    (["tariffs", "list"], Action.TARIFFS_VIEW, {}),
    (["tariffs", "add", "T2", "--name", "Two", "--price", "1.00"], Action.TARIFFS_MANAGE, {}),
    (["operators", "list"], Action.OPERATORS_VIEW, {}),
    (["operators", "add", "newbie", "--role", "clerk"], Action.OPERATORS_MANAGE, {}),
    (["operators", "set-pin", "clerk"], Action.OPERATORS_MANAGE, {}),
    (["operators", "disable", "clerk"], Action.OPERATORS_MANAGE, {}),
    (["operators", "enable", "clerk"], Action.OPERATORS_MANAGE, {}),
    (["vend", M[2], "10"], Action.VEND, {}),
    (["trial", M[2], "10"], Action.TRIAL, {}),
    (["reprint", "1"], Action.REPRINT, {}),
    (["reprint", "2"], Action.REPRINT_ANY, {}),  # the engineer's key change: another shift
    (["reverse", "1", "--reason", "customer paid twice"], Action.REVERSE, {}),
    (["free-issue", M[2], "5", "--reason", "meter fault WO-1"], Action.FREE_ISSUE, {}),
    (["emergency", M[2]], Action.EMERGENCY_CREDIT, {}),
    (["engineering", M[2], "clear-tamper", "--work-order", "WO-1"], Action.ENGINEERING, {}),
    (["test-token", "1"], Action.TEST_TOKEN, {}),
    (["key-change", "meter", M[3], "--krn", "2"], Action.KEY_CHANGE, {}),
    (["key-change", "group", "123456", "--krn", "2"], Action.KEY_CHANGE_BULK, {}),
    (["key-change", "jobs"], Action.KEY_CHANGE_BULK, {}),
    (["key-change", "confirm", M[4]], Action.KEY_CHANGE_CONFIRM, {}),
    (["key-change", "cancel", M[4], "--reason", "not needed"], Action.KEY_CHANGE_CONFIRM, {}),
    (["key-change", "report"], Action.REPORTS, {}),
    (["log", "export", "--format", "jsonl", "--meter", M[1]], Action.LOG_EXPORT, {}),
    (["log", "operations", "--action", "login"], Action.LOG_EXPORT, {}),
    (["log", "verify"], Action.LOG_VERIFY, {}),
    (["log", "seal"], Action.LOG_VERIFY, {}),
    (["log", "reanchor"], Action.LOG_REANCHOR, {}),
    (["shift", "start"], Action.SHIFT_START, {"STSVEND_TERMINAL": "T2"}),
    (["shift", "end"], Action.SHIFT_END, {}),
    (["report", "daily"], Action.REPORTS, {}),
    (["report", "monthly"], Action.REPORTS, {}),
    (["vendors", "add", "SHOP2", "--name", "Second shop"], Action.VENDORS_MANAGE, {}),
    (["vendors", "list"], Action.VENDORS_VIEW, {}),
    (["vendors", "show", "SHOP1"], Action.VENDORS_VIEW, {}),
    (["vendors", "commission", "SHOP1", "3"], Action.VENDORS_MANAGE, {}),
    (["vendors", "credit-limit", "SHOP1", "100"], Action.VENDORS_MANAGE, {}),
    (["vendors", "deposit", "SHOP1", "100", "--reference", "B-1"], Action.VENDORS_DEPOSIT, {}),
    (["vendors", "statement", "SHOP1"], Action.VENDORS_VIEW, {}),
    (["terminals", "add", "SHOP1", "TILL-2"], Action.VENDORS_MANAGE, {}),
    (["terminals", "list", "SHOP1"], Action.VENDORS_VIEW, {}),
    (["terminals", "rotate", "SHOP1", "TILL-1"], Action.VENDORS_MANAGE, {}),
    (["terminals", "revoke", "SHOP1", "TILL-1"], Action.VENDORS_MANAGE, {}),
    (["readings", "import", "{readingsfile}"], Action.READINGS_INGEST, {}),
    (["readings", "list", M[1]], Action.READINGS_VIEW, {}),
    (["readings", "purge", "--keep-months", "12"], Action.READINGS_PURGE, {}),
    (["workorders", "status"], Action.WORKORDERS_VIEW, {}),
    (["workorders", "route", "list"], Action.WORKORDERS_VIEW, {}),
    (["workorders", "route", "set", "installation", "--url", "https://inst.example/"],
     Action.WORKORDERS_MANAGE, {}),
]  # fmt: skip


@pytest.fixture(scope="module")
def dlms_meter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A configuration file naming a simulated DLMS meter for M1 (skipped without gurux)."""
    pytest.importorskip("gurux_dlms")
    from tests.dlms.simproc import simulator

    with simulator(M[1]) as address:
        path = tmp_path_factory.mktemp("dlms") / "dlms.toml"
        path.write_text(f'[adapters.control.dlms]\n{M[1]} = "{address}"\n')
        yield str(path)


def test_the_cases_cover_every_action() -> None:
    # A credit transfer needs a completed replacement (tests/workorders/test_acks_server.py
    # refuses a clerk and serves an engineer); an acknowledgement is an installer key's.
    covered = {action for _, action, _ in CASES} | {
        Action.LOG_EXPORT_DIGITS, Action.WORKORDERS_CREDIT, Action.WORKORDER_ACK}
    assert covered == set(PERMISSIONS)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "action", "env"), CASES, ids=[" ".join(a[:2]) for a, _, _ in CASES]
)
def test_every_role_for_this_command(
    backend: Backend, tmp_path: Path, args: list[str], action: Action, env: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    from stsvend.keystore import DEMO_KEY_FILE_TEXT

    keyfile = tmp_path / "test-keys.toml"
    keyfile.write_text(DEMO_KEY_FILE_TEXT)
    csvfile = tmp_path / "import.csv"
    csvfile.write_text("drn,sgc,krn,key_type,base_date\n01000000990,123456,1,2,2014\n")
    readingsfile = tmp_path / "readings.csv"
    readingsfile.write_text(f"drn,read_at,energy_wh\n{M[1]},2026-11-01T00:00Z,5\n")
    line = [a.format(keyfile=keyfile, csvfile=csvfile, readingsfile=readingsfile) for a in args]
    if "{dlms}" in env.values():
        env = {k: v.format(dlms=request.getfixturevalue("dlms_meter")) for k, v in env.items()}
    refused = [r for r in ROLES if not is_allowed(Role(r), action)]
    allowed = [r for r in ROLES if is_allowed(Role(r), action)]

    shared = backend.copy(tmp_path / "refused")
    for role in refused:
        proc = shared.run(*line, role=role, **env)
        assert proc.returncode == 6, (role, line, proc.returncode, proc.stderr)
        assert "may not" in proc.stderr and "(allowed:" in proc.stderr, proc.stderr
    for role in allowed:
        proc = backend.copy(tmp_path / role).run(*line, role=role, **env)
        assert proc.returncode == 0, (role, line, proc.stderr)
        if action is Action.LOG_EXPORT and args[1] == "export":
            [row] = [json.loads(x) for x in proc.stdout.splitlines()]
            assert (row["digits"] is not None) == is_allowed(Role(role), Action.LOG_EXPORT_DIGITS)
