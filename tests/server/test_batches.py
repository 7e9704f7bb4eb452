"""Batches and role-checked tokens over HTTP from a real server: a terminal's batch and its
totals, closing it, a batch by number within the vendor only, the vendor's day for a
supervisor's terminal; engineering tokens, key change tokens, emergency credit and free issue,
each idempotent on its request id and refused to the roles that may not.

Each test stands alone (xdist may run any of them first on its server): one that counts closes
the terminal's batch first, and the vendor's day is compared before and after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.conftest import M
from tests.server.conftest import Served

BOSS = "SHOP1/BOSS-1"


@pytest.fixture(scope="module", autouse=True)
def _boss(served: Served) -> Iterator[None]:
    """A supervisor's terminal of SHOP1 (the base has none)."""
    out = served.cli.ok("terminals", "add", "SHOP1", "BOSS-1", "--role", "supervisor", "--json")
    served.keys[BOSS] = json.loads(out)["key"]
    yield


def _post(served: Served, path: str, terminal: str, **body: Any) -> Any:
    return served.call("POST", path, terminal, json=body)


def _buy(served: Served, purchase_id: str, meter: str, amount: str, tender: str,
         terminal: str = "SHOP1/TILL-2") -> Any:  # fmt: skip
    answer = _post(served, "/v1/purchases", terminal, purchase_id=purchase_id, meter=meter,
                   amount=amount, tender=tender)  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()


def _problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = answer.json()
    assert doc["code"] == code, doc
    return doc


def _fresh(served: Served, terminal: str) -> None:
    """Close the terminal's batch, if one is open."""
    answer = served.call("POST", "/v1/batches/close", terminal)
    assert answer.status_code in (200, 409), answer.text


def _rows(doc: dict[str, Any], by: str) -> dict[Any, dict[str, Any]]:
    return {row[by]: row for row in doc[f"by_{by}"]}


def test_a_terminal_without_an_open_batch(served: Served) -> None:
    _fresh(served, "SHOP1/TILL-2")
    _problem(served.call("GET", "/v1/batches/current", "SHOP1/TILL-2"), 404, "not_found")
    _problem(served.call("POST", "/v1/batches/close", "SHOP1/TILL-2"), 409, "refused")
    _problem(served.call("GET", "/v1/batches/current", None), 401, "unauthenticated")


def test_sales_fall_in_the_open_batch_with_their_totals(served: Served) -> None:
    _fresh(served, "SHOP1/TILL-2")
    first = _buy(served, "b-1", M[2], "20", "cash")
    _buy(served, "b-2", M[3], "30", "card")
    answer = served.call("GET", "/v1/batches/current", "SHOP1/TILL-2")
    assert answer.status_code == 200, answer.text
    batch = answer.json()
    assert (batch["vendor"], batch["terminal"], batch["operator"], batch["state"]) == (
        "SHOP1", "SHOP1/TILL-2", "SHOP1/TILL-2", "open")  # fmt: skip
    assert batch["closed_at"] is None and batch["opened_at"][:10] == first["local_time"][:10]
    assert batch["opened_at"][-6:] == first["local_time"][-6:]  # the store's time zone
    assert (batch["count"], batch["amount"], batch["commission"]) == (2, 5000, 125)
    assert batch["currency"] == "ZAR" and batch["timezone"]
    tenders = _rows(batch, "tender")
    assert (tenders["cash"]["amount"], tenders["card"]["amount"]) == (2000, 3000)
    assert (tenders["cash"]["commission"], tenders["card"]["commission"]) == (50, 75)
    assert _rows(batch, "kind")["credit"]["count"] == 2
    electricity = _rows(batch, "resource")["electricity"]
    assert electricity["count"] == 2 and electricity["units"] > 0
    assert list(_rows(batch, "terminal")) == ["SHOP1/TILL-2"]


def test_closing_a_batch_gives_its_totals_and_the_next_sale_opens_another(
    served: Served,
) -> None:
    _fresh(served, "SHOP1/TILL-2")
    _buy(served, "b-3", M[2], "20", "cash")
    _buy(served, "b-4", M[3], "30", "card")
    before = served.call("GET", "/v1/batches/current", "SHOP1/TILL-2").json()
    closed = served.call("POST", "/v1/batches/close", "SHOP1/TILL-2", json={})
    assert closed.status_code == 200, closed.text
    doc = closed.json()
    assert (doc["batch"], doc["state"], doc["count"]) == (before["batch"], "closed", 2)
    assert doc["closed_at"] and doc["by_tender"] == before["by_tender"]
    _problem(served.call("GET", "/v1/batches/current", "SHOP1/TILL-2"), 404, "not_found")
    _problem(served.call("POST", "/v1/batches/close", "SHOP1/TILL-2"), 409, "refused")
    _buy(served, "b-5", M[2], "10", "mobile")
    now = served.call("GET", "/v1/batches/current", "SHOP1/TILL-2").json()
    assert now["batch"] != doc["batch"] and (now["count"], now["amount"]) == (1, 1000)
    # The closed batch, by number, for the vendor's terminals only.
    again = served.call("GET", f"/v1/batches/{doc['batch']}", "SHOP1/TILL-1")
    assert again.status_code == 200 and again.json() == doc
    _problem(served.call("GET", f"/v1/batches/{doc['batch']}", "SHOP2/POS-1"), 404, "not_found")
    _problem(served.call("GET", "/v1/batches/999999", "SHOP1/TILL-1"), 404, "not_found")
    _problem(served.call("GET", "/v1/batches/abc", "SHOP1/TILL-1"), 422, "input")
    _problem(served.call("GET", "/v1/batches/0", "SHOP1/TILL-1"), 422, "input")
    refused = served.call("POST", "/v1/batches/close", "SHOP1/TILL-2", json={"cash": "1"})
    _problem(refused, 422, "input")


def test_a_counter_shift_is_no_vendors_batch(served: Served) -> None:
    shift = served.cli.sql("SELECT min(id) FROM shift")[0][0]
    _problem(served.call("GET", f"/v1/batches/{shift}", "SHOP1/TILL-1"), 404, "not_found")


def test_engineering_tokens_for_an_engineers_terminal_only(served: Served) -> None:
    body = {"request_id": "e-1", "meter": M[1], "kind": "max-power-limit", "value": "5000",
            "work_order": "WO-77"}  # fmt: skip
    # Refused roles open no batch.
    _fresh(served, "SHOP1/ENG-1")
    _problem(_post(served, "/v1/emergency-credit", "SHOP1/ENG-1", request_id="x", meter=M[1]),
             403, "permission")  # fmt: skip
    _problem(served.call("GET", "/v1/batches/current", "SHOP1/ENG-1"), 404, "not_found")
    _problem(_post(served, "/v1/engineering", "SHOP1/TILL-1", **body), 403, "permission")
    made = _post(served, "/v1/engineering", "SHOP1/ENG-1", **body)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert (doc["kind"], doc["work_order"], doc["value"], doc["replayed"]) == (
        "engineering", "WO-77", 5000, False)  # fmt: skip
    assert doc["operator"] == "SHOP1/ENG-1" and len(doc["tokens"]) == 1
    again = _post(served, "/v1/engineering", "SHOP1/ENG-1", **body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["tokens"] == doc["tokens"]
    for changed in ({"value": "6000"}, {"work_order": "WO-78"}, {"meter": M[2]}):
        _problem(_post(served, "/v1/engineering", "SHOP1/ENG-1", **{**body, **changed}),
                 409, "idempotency_mismatch")  # fmt: skip
    batch = served.call("GET", "/v1/batches/current", "SHOP1/ENG-1").json()
    assert _rows(batch, "kind")["engineering"]["count"] == 1
    assert list(_rows(batch, "tender")) == [None]


@pytest.mark.parametrize(
    ("change", "status", "code", "why"),
    [
        ({"work_order": " "}, 422, "input", "work order"),
        ({"value": "-1"}, 422, "input", "value"),
        ({"value": 5}, 422, "input", "value is a string"),
        ({"kind": "make-tea"}, 409, "engineering", "unknown engineering token"),
        ({"request_id": ""}, 422, "input", "request id"),
        ({"request_id": "no spaces allowed"}, 422, "input", ""),
        ({"meter": "01000000010"}, 422, "check_digit", ""),
        ({"pin": "1234"}, 422, "input", "unknown field"),
    ],
)
def test_malformed_engineering_requests(served: Served, change: dict[str, Any], status: int,
                                        code: str, why: str) -> None:  # fmt: skip
    body = {"request_id": "e-bad", "meter": M[1], "kind": "clear-tamper", "work_order": "WO-1",
            **change}  # fmt: skip
    doc = _problem(_post(served, "/v1/engineering", "SHOP1/ENG-1", **body), status, code)
    assert why in doc["detail"]
    missing = {k: v for k, v in body.items() if k != "work_order"}
    _problem(_post(served, "/v1/engineering", "SHOP1/ENG-1", **missing), 422, "input")


def test_key_change_tokens_on_their_own(served: Served) -> None:
    body = {"request_id": "k-1", "meter": M[4]}
    _problem(_post(served, "/v1/key-change", "SHOP1/TILL-1", **body), 403, "permission")
    made = _post(served, "/v1/key-change", "SHOP1/ENG-1", **body)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert (doc["kind"], doc["state"]) == ("key_change", "issued")
    assert doc["tokens"] and {t["purpose"] for t in doc["tokens"]} == {"key_change"}
    assert doc["target"]["krn"] == 2
    again = _post(served, "/v1/key-change", "SHOP1/ENG-1", **body)
    assert again.status_code == 200 and again.json()["tokens"] == doc["tokens"]
    _problem(_post(served, "/v1/key-change", "SHOP1/ENG-1", request_id="k-1", meter=M[2]),
             409, "idempotency_mismatch")  # fmt: skip
    _problem(_post(served, "/v1/key-change", "SHOP1/ENG-1", request_id="k-2", meter=M[2]),
             409, "key_change")  # fmt: skip


def test_emergency_credit_for_a_clerks_terminal(served: Served) -> None:
    made = _post(served, "/v1/emergency-credit", "SHOP1/TILL-1", request_id="ec-1", meter=M[2])
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["kind"] == "emergency" and doc["units"] > 0 and doc["debt"] > 0
    again = _post(served, "/v1/emergency-credit", "SHOP1/TILL-1", request_id="ec-1", meter=M[2])
    assert again.status_code == 200 and again.json()["replayed"] is True
    _problem(_post(served, "/v1/emergency-credit", "SHOP1/TILL-1", request_id="ec-1",
                   meter=M[3]), 409, "idempotency_mismatch")  # fmt: skip
    # The same id from another terminal of the vendor is another request, refused.
    _problem(_post(served, "/v1/emergency-credit", "SHOP1/TILL-2", request_id="ec-1",
                   meter=M[2]), 409, "idempotency_mismatch")  # fmt: skip
    # Request ids are the vendor's own: SHOP2's ec-1 is another request.
    theirs = _post(served, "/v1/emergency-credit", "SHOP2/POS-1", request_id="ec-1", meter=M[3])
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["receipt"] != doc["receipt"]
    _problem(_post(served, "/v1/emergency-credit", "SHOP1/TILL-1", request_id="ec-2",
                   meter=M[7]), 404, "not_found")  # fmt: skip


def test_free_issue_for_a_supervisors_terminal(served: Served) -> None:
    body = {"request_id": "f-1", "meter": M[3], "units": "2.5", "reason": "meter fault refund"}
    _problem(_post(served, "/v1/free-issue", "SHOP1/TILL-1", **body), 403, "permission")
    _problem(_post(served, "/v1/free-issue", "SHOP1/ENG-1", **body), 403, "permission")
    made = _post(served, "/v1/free-issue", BOSS, **body)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert (doc["kind"], doc["units"], doc["operator"]) == ("free_issue", 25, BOSS)
    assert served.call("POST", "/v1/free-issue", BOSS, json=body).status_code == 200
    _problem(_post(served, "/v1/free-issue", BOSS, **{**body, "units": "3"}), 409,
             "idempotency_mismatch")  # fmt: skip
    for units in ("0", "abc", "-1", "1.25"):
        wrong = {**body, "request_id": "f-2", "units": units}
        _problem(_post(served, "/v1/free-issue", BOSS, **wrong), 422, "input")
    _problem(_post(served, "/v1/free-issue", BOSS, request_id="f-3", meter=M[3], units="1",
                   reason=""), 409, "free_issue")  # fmt: skip


def _day(served: Served, day: str) -> dict[str, Any]:
    answer = served.call("GET", f"/v1/batches?day={day}", BOSS)
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


def _amount(doc: dict[str, Any], by: str, key: str) -> int:
    row = _rows(doc, by).get(key)
    return 0 if row is None else int(row["amount"])


def test_the_vendors_day_for_a_supervisors_terminal(served: Served) -> None:
    probe = _buy(served, "d-0", M[1], "1", "cash", terminal="SHOP1/TILL-1")
    day = probe["local_time"][:10]
    _problem(served.call("GET", f"/v1/batches?day={day}", "SHOP1/TILL-1"), 403, "permission")
    before = _day(served, day)
    _buy(served, "d-1", M[1], "12", "voucher", terminal="SHOP1/TILL-1")
    _buy(served, "d-2", M[2], "7", "cash", terminal="SHOP1/TILL-2")
    _buy(served, "d-3", M[1], "5", "voucher", terminal="SHOP2/POS-1")
    made = _post(served, "/v1/engineering", "SHOP1/ENG-1", request_id="d-4", meter=M[1],
                 kind="clear-tamper", work_order="WO-D")  # fmt: skip
    assert made.status_code == 201, made.text
    doc = _day(served, day)
    assert (doc["vendor"], doc["day"]) == ("SHOP1", day)
    assert (doc["count"], doc["amount"]) == (before["count"] + 3, before["amount"] + 1900)
    assert _amount(doc, "tender", "voucher") - _amount(before, "tender", "voucher") == 1200
    assert _amount(doc, "tender", "cash") - _amount(before, "tender", "cash") == 700
    assert _amount(doc, "terminal", "SHOP1/TILL-2") - _amount(before, "terminal",
                                                              "SHOP1/TILL-2") == 700  # fmt: skip
    assert _rows(doc, "kind")["engineering"]["count"] >= 1
    assert all(t.startswith("SHOP1/") for t in _rows(doc, "terminal"))
    for by in ("kind", "tender", "resource", "terminal"):
        assert doc["amount"] == sum(row["amount"] for row in doc[f"by_{by}"])
        assert doc["count"] == sum(row["count"] for row in doc[f"by_{by}"])
    listed = {b["terminal"] for b in doc["batches"]}
    assert {"SHOP1/TILL-1", "SHOP1/TILL-2", "SHOP1/ENG-1"} <= listed <= set(_rows(doc, "terminal"))
    empty = _day(served, "2001-01-01")
    assert (empty["count"], empty["amount"], empty["batches"]) == (0, 0, [])
    for bad in ("?day=2026-13-01", "?day=yesterday", ""):
        _problem(served.call("GET", f"/v1/batches{bad}", BOSS), 422, "input")


def test_the_log_verifies(served: Served) -> None:
    outcome = served.cli.run("log", "verify", role="auditor")
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
