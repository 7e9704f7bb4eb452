"""People's sessions at a terminal over HTTP, from a real server: a person logs in with their
PIN through the terminal, and the requests that carry the session act as that person — on the
receipts, in the operation log, in their own shift and in their own role; every way a login or
a session is refused; the idle and the longest lifetime, on a server with short ones.

Each test stands alone (xdist may run any of them first on its server): a test that sells uses
meters no other test here sells to, and a test that locks an operator makes its own.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cli.conftest import FIRST_PIN, PINS, M
from tests.server.conftest import Served, start_server, stop_server

HEADER = "X-Stsvend-Session"
BOSS = "SHOP1/BOSS-1"


@pytest.fixture(scope="module", autouse=True)
def _boss(served: Served) -> Iterator[None]:
    """A supervisor's terminal of SHOP1 (the base has none)."""
    out = served.cli.ok("terminals", "add", "SHOP1", "BOSS-1", "--role", "supervisor", "--json")
    served.keys[BOSS] = json.loads(out)["key"]
    yield


def _login(served: Served, username: str, pin: str | None = None,
           terminal: str = "SHOP1/TILL-1", **extra: Any) -> httpx.Response:  # fmt: skip
    body = {"username": username, "pin": PINS[username] if pin is None else pin, **extra}
    return served.call("POST", "/v1/sessions", terminal, json=body)


def _session(served: Served, username: str, terminal: str = "SHOP1/TILL-1") -> str:
    answer = _login(served, username, terminal=terminal)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["session"]
    return token


def _as(served: Served, token: str, method: str, path: str, terminal: str = "SHOP1/TILL-1",
        **kwargs: Any) -> httpx.Response:  # fmt: skip
    return served.call(method, path, terminal, headers={HEADER: token}, **kwargs)


def _problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = answer.json()
    assert doc["code"] == code, doc
    return doc


def _buy(served: Served, token: str | None, purchase_id: str, meter: str, amount: str = "10",
         terminal: str = "SHOP1/TILL-1") -> httpx.Response:  # fmt: skip
    body = {"purchase_id": purchase_id, "meter": meter, "amount": amount}
    headers = {} if token is None else {HEADER: token}
    return served.call("POST", "/v1/purchases", terminal, json=body, headers=headers)


def _log(served: Served, action: str, operator: str) -> list[tuple[str, str, Any]]:
    """(terminal, outcome, detail) of the operation log's ``action`` rows of ``operator``."""
    rows = served.cli.sql("SELECT terminal, outcome, detail FROM operation_log WHERE action = :a "
                          "AND operator = :o ORDER BY id", a=action, o=operator)  # fmt: skip
    return [(r[0], r[1], json.loads(r[2]) if isinstance(r[2], str) else r[2]) for r in rows]


def _new_operator(served: Served, name: str, role: str = "clerk") -> None:
    """An operator of this test's own, with their PIN chosen (PINS["clerk"])."""
    served.cli.ok("operators", "add", name, "--role", role, STSVEND_NEW_PIN=FIRST_PIN)
    answer = _login(served, name, FIRST_PIN, new_pin=PINS["clerk"])
    assert answer.status_code == 201, answer.text


def test_a_session_sells_as_the_person_in_their_own_shift(served: Served) -> None:
    answer = _login(served, "clerk")
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    doc = answer.json()
    assert set(doc) == {"session", "operator", "role", "expires_at", "idle_timeout_seconds"}
    assert (doc["operator"], doc["role"], doc["idle_timeout_seconds"]) == ("clerk", "clerk", 900)
    token = doc["session"]
    assert token.startswith("svs_") and len(token) == 4 + 64 and doc["expires_at"][-6:] == "+02:00"
    # Only the token's hash is stored.
    stored = served.cli.sql("SELECT token_hash FROM terminal_session")
    digest = hashlib.sha256(b"stsvend terminal session v1\x00" + token.encode()).digest()
    assert digest in [bytes(r[0]) for r in stored]
    assert token.encode() not in b"".join(bytes(r[0]) for r in stored)

    sold = _buy(served, token, "s-own-1", M[1])
    assert sold.status_code == 201, sold.text
    assert (sold.json()["operator"], sold.json()["terminal"]) == ("clerk", "SHOP1/TILL-1")
    batch = _as(served, token, "GET", "/v1/batches/current").json()
    assert (batch["operator"], batch["terminal"]) == ("clerk", "SHOP1/TILL-1")
    # The terminal's own batch is not the person's.
    assert _buy(served, None, "s-own-2", M[1]).json()["operator"] == "SHOP1/TILL-1"
    terminal_batch = served.call("GET", "/v1/batches/current").json()
    assert terminal_batch["operator"] == "SHOP1/TILL-1"
    assert terminal_batch["batch"] != batch["batch"]
    # The purchase id is the vendor's: the terminal finds it without a session.
    assert served.call("GET", "/v1/purchases/s-own-1").json()["operator"] == "clerk"
    assert _buy(served, token, "s-own-1", M[1]).json()["replayed"] is True
    logins = _log(served, "login", "clerk")
    assert logins[-1][:2] == ("SHOP1/TILL-1", "ok") and logins[-1][2]["via"] == "server"
    # Their shift there was opened by their first sale, in their name.
    assert ("SHOP1/TILL-1", "ok") in [row[:2] for row in _log(served, "shift.start", "clerk")]


def test_two_people_at_one_terminal_are_two_operators(served: Served) -> None:
    """Each person's sales at a terminal are their own: their name, their shift, their
    request (the ground of every separation-of-duties rule)."""
    clerk = _session(served, "clerk", "SHOP1/TILL-2")
    boss = _session(served, "supervisor", "SHOP1/TILL-2")
    by_clerk = _buy(served, clerk, "s-two-1", M[2], terminal="SHOP1/TILL-2")
    by_boss = _buy(served, boss, "s-two-2", M[3], terminal="SHOP1/TILL-2")
    assert by_clerk.status_code == by_boss.status_code == 201, (by_clerk.text, by_boss.text)
    assert (by_clerk.json()["operator"], by_boss.json()["operator"]) == ("clerk", "supervisor")
    for person in ("clerk", "supervisor"):
        assert ("SHOP1/TILL-2", "ok") in [row[:2] for row in _log(served, "login", person)]
        assert ("SHOP1/TILL-2", "ok") in [row[:2] for row in _log(served, "shift.start", person)]
    tokens = served.cli.sql("SELECT request_id, operator, terminal FROM token_log "
                            "WHERE request_id IN ('s-two-1', 's-two-2') ORDER BY id")  # fmt: skip
    assert tokens == [("s-two-1", "clerk", "SHOP1/TILL-2"),
                      ("s-two-2", "supervisor", "SHOP1/TILL-2")]  # fmt: skip
    sellers = served.cli.sql(
        "SELECT o.username FROM sale s JOIN operator o ON o.id = s.operator_id "
        "WHERE s.id IN (:a, :b) ORDER BY s.id",
        a=by_clerk.json()["receipt"], b=by_boss.json()["receipt"])  # fmt: skip
    assert sellers == [("clerk",), ("supervisor",)]
    # Their shifts at the terminal are two.
    shifts = {_as(served, t, "GET", "/v1/batches/current", "SHOP1/TILL-2").json()["batch"]
              for t in (clerk, boss)}  # fmt: skip
    assert len(shifts) == 2
    # The same purchase id from another person is another request.
    _problem(_buy(served, boss, "s-two-1", M[2], terminal="SHOP1/TILL-2"), 409,
             "idempotency_mismatch")  # fmt: skip
    # The sales are the vendor's: the counter does not reverse them (the vendor's float would
    # stay short); the vendor's reversal advice does.
    counter = served.cli.run("reverse", str(by_clerk.json()["receipt"]), "--reason", "paid twice",
                             role="supervisor")  # fmt: skip
    assert counter.returncode == 7 and "the vendor reverses it" in counter.stderr


def test_a_session_acts_in_its_persons_role_not_the_terminals(served: Served) -> None:
    day = served.call("GET", "/v1/purchases/none", BOSS)  # any answer: the key works
    assert day.status_code == 404
    today = time.strftime("%Y-%m-%d")
    assert served.call("GET", f"/v1/batches?day={today}", BOSS).status_code == 200
    clerk = _session(served, "clerk", BOSS)
    _problem(_as(served, clerk, "GET", f"/v1/batches?day={today}", BOSS), 403, "permission")
    free = {"request_id": "s-free-1", "meter": M[1], "units": "5", "reason": "goodwill visit"}
    _problem(_as(served, clerk, "POST", "/v1/free-issue", BOSS, json=free), 403, "permission")
    refused = _log(served, "reports", "clerk")
    assert refused and refused[-1][:2] == ("SHOP1/BOSS-1", "refused")
    # A supervisor at a clerk's terminal acts as a supervisor.
    boss = _session(served, "supervisor", "SHOP1/TILL-1")
    assert _as(served, boss, "GET", f"/v1/batches?day={today}").status_code == 200
    # An engineer may not sell, wherever they log in.
    engineer = _session(served, "engineer")
    _problem(_buy(served, engineer, "s-eng-1", M[1]), 403, "permission")


def test_wrong_pins_unknown_names_and_terminal_rows_are_refused(served: Served) -> None:
    wrong = _problem(_login(served, "auditor", "000000"), 403, "permission")
    unknown = _problem(_login(served, "nobody", "000000"), 403, "permission")
    assert wrong["detail"] == unknown["detail"] == "unknown operator or wrong PIN"
    refused = _log(served, "login", "auditor")
    assert refused[-1][:2] == ("SHOP1/TILL-1", "refused")
    assert refused[-1][2] == {"via": "server", "key": served.keys["SHOP1/TILL-1"][4:16],
                              "reason": "wrong PIN"}  # fmt: skip
    assert _log(served, "login", "nobody")[-1][2]["reason"] == "unknown operator"
    # A terminal's own operator row is no one's login.
    _problem(_login(served, "SHOP1/TILL-1", "000000"), 422, "input")
    # The right PIN after a wrong one opens a session (the count starts again).
    assert _login(served, "auditor").status_code == 201
    assert served.cli.sql("SELECT failed_logins FROM operator WHERE username = 'auditor'") == [(0,)]


def test_five_wrong_pins_lock_the_person_and_end_their_sessions(served: Served) -> None:
    _new_operator(served, "lock-me")
    token = _session_of(served, "lock-me")
    assert _as(served, token, "GET", "/v1/vendor").status_code == 200
    for _ in range(4):
        _problem(_login(served, "lock-me", "000000"), 403, "permission")
    locked = _problem(_login(served, "lock-me", "000000"), 403, "permission")
    assert "locked after 5 wrong PINs" in locked["detail"]
    still = _problem(_login(served, "lock-me", PINS["clerk"]), 403, "permission")
    assert "locked" in still["detail"]
    _problem(_as(served, token, "GET", "/v1/vendor"), 401, "session_expired")
    reasons = [row[2]["reason"] for row in _log(served, "login", "lock-me")[-6:]]
    assert reasons == ["wrong PIN"] * 5 + ["locked"]


def _session_of(served: Served, name: str) -> str:
    answer = _login(served, name, PINS["clerk"])
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["session"]
    return token


def test_a_pin_set_by_an_admin_must_be_changed_first(served: Served) -> None:
    served.cli.ok("operators", "add", "new-pin", "--role", "clerk", STSVEND_NEW_PIN=FIRST_PIN)
    _problem(_login(served, "new-pin", FIRST_PIN), 403, "pin_change_required")
    _problem(_login(served, "new-pin", FIRST_PIN, new_pin="1"), 422, "weak_pin")
    _problem(_login(served, "new-pin", FIRST_PIN, new_pin=FIRST_PIN), 422, "weak_pin")
    changed = _login(served, "new-pin", FIRST_PIN, new_pin=PINS["clerk"])
    assert changed.status_code == 201, changed.text
    assert _log(served, "login", "new-pin")[-1][2] == {
        "via": "server", "key": served.keys["SHOP1/TILL-1"][4:16], "pin_changed": True}  # fmt: skip
    assert _login(served, "new-pin", PINS["clerk"]).status_code == 201


def test_a_session_is_its_terminals_only(served: Served) -> None:
    token = _session(served, "clerk", "SHOP1/TILL-1")
    _problem(_as(served, token, "GET", "/v1/vendor", "SHOP1/TILL-2"), 401, "session_expired")
    _problem(_as(served, token, "GET", "/v1/vendor", "SHOP2/POS-1"), 401, "session_expired")
    assert _as(served, token, "GET", "/v1/vendor").status_code == 200
    # Without the terminal's key a session is nothing.
    answer = served.call("GET", "/v1/vendor", None, headers={HEADER: token})
    _problem(answer, 401, "unauthenticated")
    for bad in ("svs_" + "0" * 64, "svs_x", token.upper(), token + "0", ""):
        _problem(_as(served, bad, "GET", "/v1/vendor"), 401, "session_expired")


def test_logout_ends_the_session(served: Served) -> None:
    token = _session(served, "clerk")
    answer = _as(served, token, "DELETE", "/v1/sessions/current")
    assert (answer.status_code, answer.content) == (204, b"")
    _problem(_as(served, token, "GET", "/v1/vendor"), 401, "session_expired")
    _problem(_as(served, token, "DELETE", "/v1/sessions/current"), 401, "session_expired")
    _problem(served.call("DELETE", "/v1/sessions/current"), 422, "input")
    assert _log(served, "logout", "clerk")[-1][:2] == ("SHOP1/TILL-1", "ok")
    # A login never reads the session the client held: a new one replaces it.
    again = served.call("POST", "/v1/sessions", headers={HEADER: token},
                        json={"username": "clerk", "pin": PINS["clerk"]})  # fmt: skip
    assert again.status_code == 201 and again.json()["session"] != token


@pytest.mark.parametrize(
    ("body", "why"),
    [({"username": "clerk"}, "missing field(s): pin"), ({"pin": "1"}, "missing"),
     ({"username": "clerk", "pin": 208351}, "pin is a string"),
     ({"username": "clerk", "pin": "1", "role": "admin"}, "unknown field(s): role"),
     ({"username": "", "pin": "1"}, "operator name")],
)  # fmt: skip
def test_malformed_logins_are_422_problems(served: Served, body: dict[str, Any], why: str) -> None:
    doc = _problem(served.call("POST", "/v1/sessions", json=body), 422, "input")
    assert why in doc["detail"]
    _problem(served.call("POST", "/v1/sessions", None, json=body), 401, "unauthenticated")


def test_no_pin_reaches_the_logs(served: Served) -> None:
    _login(served, "auditor", "975318642")
    rows = served.cli.sql("SELECT detail FROM operation_log WHERE action IN ('login', 'logout')")
    assert all("975318642" not in str(r[0]) and PINS["auditor"] not in str(r[0]) for r in rows)


@pytest.fixture(scope="module")
def short(served: Served) -> Iterator[str]:
    """A second server over the same installation whose sessions idle out after 2 seconds and
    end after 5 however busy."""
    proc, base = start_server(served.cli, 1, STSVEND_SERVER_SESSION_IDLE_SECONDS="2",
                              STSVEND_SERVER_SESSION_MAX_SECONDS="5")  # fmt: skip
    try:
        yield base
    finally:
        err = stop_server(proc)
        assert "Traceback" not in err, err[-3000:]


def _short_call(served: Served, base: str, method: str, path: str, token: str | None = None,
                **kwargs: Any) -> httpx.Response:  # fmt: skip
    headers = {"Authorization": f"Bearer {served.keys['SHOP1/TILL-1']}"}
    if token is not None:
        headers[HEADER] = token
    return httpx.request(method, f"{base}{path}", headers=headers, timeout=30, **kwargs)


def _short_login(served: Served, base: str) -> tuple[str, float]:
    """A session on the short server, and the monotonic time just before it was asked for."""
    began = time.monotonic()
    answer = _short_call(served, base, "POST", "/v1/sessions",
                         json={"username": "clerk", "pin": PINS["clerk"]})  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.json()["idle_timeout_seconds"] == 2
    token: str = answer.json()["session"]
    return token, began


def test_a_session_idles_out(served: Served, short: str) -> None:
    token, _began = _short_login(served, short)
    assert _short_call(served, short, "GET", "/v1/vendor", token).status_code == 200
    time.sleep(2.5)
    _problem(_short_call(served, short, "GET", "/v1/vendor", token), 401, "session_expired")


def test_a_busy_session_still_ends_at_its_longest_life(served: Served, short: str) -> None:
    token, began = _short_login(served, short)
    seen: list[tuple[float, float, int]] = []
    while time.monotonic() < began + 7:
        before = time.monotonic()
        status = _short_call(served, short, "GET", "/v1/vendor", token).status_code
        seen.append((before - began, time.monotonic() - began, status))
        time.sleep(0.5)
    # Used every half second it never idles out, and past 5 seconds it is over.
    assert all(status == 200 for _b, after, status in seen if after < 5), seen
    assert all(status == 401 for before, _a, status in seen if before > 5.5), seen
    assert any(before > 5.5 for before, _a, _s in seen)
