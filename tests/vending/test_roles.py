"""The role × action table: every cell, its refusal message, and the copy in docs/security.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stsvend.vending import (
    PERMISSIONS,
    Action,
    PermissionDenied,
    Role,
    check_permission,
    is_allowed,
)
from stsvend.vending.roles import allowed_roles, describe

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
CELLS = [(role, action) for action in Action for role in Role]


def test_every_action_has_a_row() -> None:
    assert set(PERMISSIONS) == set(Action)
    assert all(PERMISSIONS[a] for a in Action), "an action nobody may take"


@pytest.mark.parametrize(("role", "action"), CELLS,
                         ids=[f"{r.value}-{a.value}" for r, a in CELLS])  # fmt: skip
def test_every_cell(role: Role, action: Action) -> None:
    if role in PERMISSIONS[action]:
        check_permission(role, action)
        assert is_allowed(role, action)
    else:
        with pytest.raises(PermissionDenied) as info:
            check_permission(role, action)
        assert info.value.code == "permission"
        assert describe(action) in str(info.value) and role.value in str(info.value)
        assert not is_allowed(role, action)


def test_separation_of_duties() -> None:
    money = {Action.VEND, Action.REVERSE, Action.FREE_ISSUE, Action.EMERGENCY_CREDIT}
    assert not any(is_allowed(Role.ADMIN, a) for a in money)
    assert not is_allowed(Role.CLERK, Action.REVERSE)
    assert not is_allowed(Role.SUPERVISOR, Action.OPERATORS_MANAGE)
    assert allowed_roles(Action.ENGINEERING) == (Role.ENGINEER,)
    assert allowed_roles(Action.LOG_EXPORT_DIGITS) == (Role.SUPERVISOR,)


def test_the_documented_table_is_the_data() -> None:
    text = SECURITY_DOC.read_text(encoding="utf-8")
    table = text.split("<!-- permission-table:start -->")[1].split("<!-- permission-table:end -->")[
        0
    ]
    rows = [line for line in table.strip().splitlines()[2:] if line.startswith("|")]
    header = [c.strip() for c in table.strip().splitlines()[0].strip("|").split("|")]
    assert header[2:] == [r.value for r in Role]
    documented = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        command = re.fullmatch(r"`(.+)`", cells[1])
        assert command, row
        documented[Action(command.group(1))] = frozenset(
            role for role, cell in zip(Role, cells[2:], strict=True) if cell == "yes"
        )
    assert documented == dict(PERMISSIONS)


def test_role_parse() -> None:
    assert Role.parse(" Clerk ") is Role.CLERK
    with pytest.raises(PermissionDenied, match="unknown role"):
        Role.parse("janitor")
