"""Every cell of the role × command permission table, through the CLI.

For each command the expected roles come from the permission table itself
(:data:`stsvend.vending.roles.PERMISSIONS`); an allowed role must succeed (exit 0), any other
must be refused with exit 6 and say which roles may.  Each cell runs on its own copy of the
base installation.  ``log export`` also checks the digits cell (``log.export-digits``).
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from stsvend.vending.roles import PERMISSIONS, Action, Role, is_allowed
from tests.cli.conftest import ROLES, Cli, M

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
    (["log", "verify"], Action.LOG_VERIFY, {}),
    (["log", "seal"], Action.LOG_VERIFY, {}),
    (["log", "reanchor"], Action.LOG_REANCHOR, {}),
    (["shift", "start"], Action.SHIFT_START, {"STSVEND_TERMINAL": "T2"}),
    (["shift", "end"], Action.SHIFT_END, {}),
    (["report", "daily"], Action.REPORTS, {}),
    (["report", "monthly"], Action.REPORTS, {}),
]  # fmt: skip


def test_the_cases_cover_every_action() -> None:
    covered = {action for _, action, _ in CASES} | {Action.LOG_EXPORT_DIGITS}
    assert covered == set(PERMISSIONS)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "action", "env"), CASES, ids=[" ".join(a[:2]) for a, _, _ in CASES]
)
def test_every_role_for_this_command(
    base: Cli, tmp_path: Path, args: list[str], action: Action, env: dict[str, str]
) -> None:
    keyfile = base.data_dir.parent / "test-keys.toml"
    if not keyfile.exists():
        from stsvend.keystore import DEMO_KEY_FILE_TEXT

        keyfile.write_text(DEMO_KEY_FILE_TEXT)
    csvfile = tmp_path / "import.csv"
    csvfile.write_text("drn,sgc,krn,key_type,base_date\n01000000990,123456,1,2,2014\n")
    line = [a.format(keyfile=keyfile, csvfile=csvfile) for a in args]

    def cell(role: str) -> tuple[str, int, str, str]:
        folder = tmp_path / role
        shutil.copytree(base.data_dir, folder)
        proc = Cli(folder).run(*line, role=role, **env)
        return role, proc.returncode, proc.stdout, proc.stderr

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(cell, ROLES))
    for role, code, out, err in results:
        allowed = is_allowed(Role(role), action)
        if allowed:
            assert code == 0, (role, line, err)
        else:
            assert code == 6, (role, line, code, err)
            assert "may not" in err and "(allowed:" in err, err
        if action is Action.LOG_EXPORT and allowed:
            [row] = [json.loads(x) for x in out.splitlines()]
            assert (row["digits"] is not None) == is_allowed(Role(role), Action.LOG_EXPORT_DIGITS)
