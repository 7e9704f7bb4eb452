"""The client's login and logout (``SalePointClient.login``, ``stsvend vend --server`` with an
operator) against a real server, on SQLite and PostgreSQL: the sale is the person's, the
session ends with the command, and every refusal is the server's."""

from __future__ import annotations

import json

import pytest

from stsvend.client import SalePointClient, ServerRefused
from tests.cli.conftest import FIRST_PIN, PINS, M
from tests.server.conftest import Served


def _client(served: Served, terminal: str = "SHOP1/TILL-1") -> SalePointClient:
    return SalePointClient(served.base, served.keys[terminal])


def test_login_makes_the_calls_the_persons_until_logout(served: Served) -> None:
    with _client(served) as api:
        shown = api.login("clerk", PINS["clerk"])
        assert set(shown) == {"operator", "role", "expires_at", "idle_timeout_seconds"}
        assert (shown["operator"], shown["role"]) == ("clerk", "clerk")
        mine = api.purchase(M[1], "10")
        assert mine.receipt.operator == "clerk" and mine.terminal == "SHOP1/TILL-1"
        api.logout()
        api.logout()  # nothing to end: no call, no error
        theirs = api.purchase(M[1], "10")
        assert theirs.receipt.operator == "SHOP1/TILL-1"
    ended = served.cli.sql("SELECT COUNT(*) FROM terminal_session s JOIN operator o "
                           "ON o.id = s.operator_id WHERE o.username = 'clerk' "
                           "AND s.ended_at IS NOT NULL")  # fmt: skip
    assert ended[0][0] >= 1


def test_login_refusals_are_the_servers(served: Served) -> None:
    with _client(served) as api:
        with pytest.raises(ServerRefused) as wrong:
            api.login("clerk", "000000")
        assert (wrong.value.code, wrong.value.status) == ("permission", 403)
        served.cli.ok("operators", "add", "cl-new", "--role", "clerk", STSVEND_NEW_PIN=FIRST_PIN)
        with pytest.raises(ServerRefused) as must:
            api.login("cl-new", FIRST_PIN)
        assert must.value.code == "pin_change_required"
        assert api.login("cl-new", FIRST_PIN, new_pin=PINS["clerk"])["operator"] == "cl-new"
        # A person's session is their role's: an engineer may not sell.
        api.login("engineer", PINS["engineer"])
        with pytest.raises(ServerRefused) as denied:
            api.purchase(M[1], "10")
        assert (denied.value.code, denied.value.status) == ("permission", 403)


def test_a_session_over_is_session_expired_and_logout_is_quiet(served: Served) -> None:
    with _client(served) as api:
        api.login("supervisor", PINS["supervisor"])
        served.cli.sql(
            "UPDATE terminal_session SET ended_at = created_at WHERE ended_at IS NULL "
            "AND operator_id = (SELECT id FROM operator WHERE username = 'supervisor')"
        )
        with pytest.raises(ServerRefused) as over:
            api.vendor()
        assert (over.value.code, over.value.status) == ("session_expired", 401)
        api.logout()  # over already: no error
        assert api.vendor()["code"] == "SHOP1"  # the terminal's own call again


def test_vend_with_server_sells_as_the_operator_and_logs_out(served: Served) -> None:
    key = served.keys["SHOP1/TILL-2"]
    sold = served.cli.run("vend", M[2], "10.00", "--server", served.base, "--json",
                          role="supervisor", STSVEND_TERMINAL_KEY=key)  # fmt: skip
    assert sold.returncode == 0, sold.stderr
    doc = json.loads(sold.stdout)
    assert (doc["operator"], doc["terminal"]) == ("supervisor", "SHOP1/TILL-2")
    assert PINS["supervisor"] not in sold.stdout + sold.stderr
    open_ones = served.cli.sql("SELECT COUNT(*) FROM terminal_session s JOIN operator o "
                               "ON o.id = s.operator_id WHERE o.username = 'supervisor' "
                               "AND s.ended_at IS NULL")  # fmt: skip
    assert open_ones == [(0,)]
    assert served.cli.operations("logout")[-1][:2] == ("supervisor", "ok")
    wrong = served.cli.run("vend", M[2], "10.00", "--server", served.base, role="supervisor",
                           STSVEND_TERMINAL_KEY=key, STSVEND_PIN="000000")  # fmt: skip
    assert wrong.returncode == 6 and "wrong PIN" in wrong.stderr and "000000" not in wrong.stderr
