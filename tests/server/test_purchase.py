"""Purchases over HTTP from a real server: exactly once per purchase id, from the float,
scoped to the vendor; fetch result, lookup, trial and reprint."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.conftest import M
from tests.server.conftest import Served


def _buy(served: Served, purchase_id: str, meter: str = M[1], amount: str = "50.00",
         terminal: str = "SHOP1/TILL-1", **extra: Any) -> Any:  # fmt: skip
    body = {"purchase_id": purchase_id, "meter": meter, "amount": amount, **extra}
    return served.call("POST", "/v1/purchases", terminal, json=body)


def _float(served: Served, terminal: str = "SHOP1/TILL-1") -> int:
    answer = served.call("GET", "/v1/vendor", terminal)
    assert answer.status_code == 200, answer.text
    value: int = answer.json()["float"]
    return value


def test_a_purchase_issues_once_and_a_repeat_replays_it(served: Served) -> None:
    before = _float(served)
    first = _buy(served, "p-once", tender="card")
    assert first.status_code == 201, first.text
    doc = first.json()
    assert (doc["kind"], doc["replayed"], doc["request_id"]) == ("credit", False, "p-once")
    assert doc["terminal"] == "SHOP1/TILL-1" and doc["operator"] == "SHOP1/TILL-1"
    assert len(doc["tokens"]) == 1 and len(doc["tokens"][0]["digits"]) == 20
    point = doc["sale_point"]
    assert (point["vendor"], point["tender"], point["commission"]) == ("SHOP1", "card", 125)
    assert point["float_left"] == before - 5000 + 125
    again = _buy(served, "p-once", tender="card")
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert again.json()["tokens"] == doc["tokens"] and again.json()["receipt"] == doc["receipt"]
    fetched = served.call("GET", "/v1/purchases/p-once")
    assert fetched.status_code == 200 and fetched.json()["tokens"] == doc["tokens"]
    assert _float(served) == before - 5000 + 125  # taken once


def test_the_same_id_with_other_content_is_refused(served: Served) -> None:
    assert _buy(served, "p-twice", amount="20").status_code == 201
    for changed in ({"amount": "21"}, {"meter": M[2]}, {"tender": "mobile"}):
        body = {"meter": M[1], "amount": "20", **changed}
        refused = _buy(served, "p-twice", **body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "idempotency_mismatch"


def test_purchase_ids_are_the_vendors_own(served: Served) -> None:
    never = served.call("GET", "/v1/purchases/p-shared", "SHOP2/POS-1")
    assert (never.status_code, never.json()["code"]) == (404, "not_found")
    mine = _buy(served, "p-shared", amount="10")
    assert mine.status_code == 201
    still = served.call("GET", "/v1/purchases/p-shared", "SHOP2/POS-1")
    assert still.status_code == 404 and "p-shared" not in still.json().get("tokens", "")
    theirs = _buy(served, "p-shared", meter=M[2], amount="10", terminal="SHOP2/POS-1")
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["sale_point"]["vendor"] == "SHOP2"
    assert theirs.json()["receipt"] != mine.json()["receipt"]
    # Receipts are scoped too: a vendor cannot reprint another's (404, not 403).
    other = served.call("GET", f"/v1/receipts/{mine.json()['receipt']}", "SHOP2/POS-1")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    counter = served.call("GET", "/v1/receipts/1")  # the store's own counter sale
    assert counter.status_code == 404


def test_a_purchase_the_float_cannot_cover_is_refused(served: Served) -> None:
    left = _float(served, "SHOP2/POS-1")
    refused = _buy(served, "p-broke", meter=M[3], amount=f"{left // 100 + 50}",
                   terminal="SHOP2/POS-1")  # fmt: skip
    assert refused.status_code == 402, refused.text
    assert refused.json()["code"] == "insufficient_funds"
    assert served.call("GET", "/v1/purchases/p-broke", "SHOP2/POS-1").status_code == 404
    assert _float(served, "SHOP2/POS-1") == left
    # The refusal is in the operation log, under the terminal's name.
    assert ("SHOP2/POS-1", "refused", {"reason": "insufficient_funds"}) in served.cli.operations(
        "vend")


def test_a_purchase_on_a_meter_with_a_key_change_gets_its_tokens_first(served: Served) -> None:
    answer = _buy(served, "p-kc", meter=M[4], amount="30")
    assert answer.status_code == 201, answer.text
    doc = answer.json()
    assert doc["key_change_first"] is True
    purposes = [t["purpose"] for t in doc["tokens"]]
    assert purposes[-1] == "sale" and set(purposes[:-1]) == {"key_change"}


def test_lookup_and_trial_move_no_money(served: Served) -> None:
    before = _float(served)
    found = served.call("GET", f"/v1/meters/{M[2]}")
    assert found.status_code == 200, found.text
    info = found.json()
    assert (info["can_vend"], info["customer"], info["contract"]) == (True, "C-2", "K-2")
    assert info["minimum"] > 0 and info["maximum"] >= info["minimum"]
    assert "name" not in info
    closed = served.call("GET", f"/v1/meters/{M[5]}").json()
    assert closed["can_vend"] is False and closed["reason"]
    assert served.call("GET", f"/v1/meters/{M[7]}").json()["code"] == "not_found"
    assert served.call("GET", "/v1/meters/01000000010").json()["code"] == "check_digit"
    trial = served.call("POST", "/v1/trial", json={"meter": M[2], "amount": "100"})
    assert trial.status_code == 200, trial.text
    assert trial.json()["units"] > 0 and "tokens" not in trial.json()
    assert _float(served) == before


def test_reprint_is_a_copy_of_the_vendors_own_receipt(served: Served) -> None:
    sold = _buy(served, "p-reprint", meter=M[3], amount="15", terminal="SHOP1/TILL-2").json()
    last = served.call("GET", "/v1/receipts/last", "SHOP1/TILL-2")
    assert last.status_code == 200, last.text
    assert (last.json()["copy"], last.json()["mark"]) == (True, "COPY")
    assert last.json()["tokens"] == sold["tokens"]
    # Another terminal of the same vendor may reprint it by number.
    by_number = served.call("GET", f"/v1/receipts/{sold['receipt']}")
    assert by_number.status_code == 200 and by_number.json()["receipt"] == sold["receipt"]
    assert served.call("GET", "/v1/receipts/abc").json()["code"] == "input"


def test_an_engineering_terminal_may_not_sell(served: Served) -> None:
    refused = _buy(served, "p-eng", terminal="SHOP1/ENG-1")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"meter": "x", "amount": "1"}', "missing field(s): purchase_id"),
        (b'{"purchase_id": "a", "meter": "x", "amount": "1", "pin": "1"}', "unknown field"),
        (b'{"purchase_id": "a", "meter": "x", "amount": 5}', "amount is a string"),
        (b'{"purchase_id": "a", "meter": "01000000028", "amount": "1", "tender": "gold"}',
         "a tender is one of"),
        (b'{"purchase_id": "", "meter": "01000000028", "amount": "1"}', "purchase id"),
    ],
)
def test_malformed_purchases_are_422_problems(served: Served, content: bytes, why: str) -> None:
    answer = served.call("POST", "/v1/purchases", content=content,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert why in answer.json()["detail"]


def test_the_log_verifies_and_the_float_is_its_ledger(served: Served) -> None:
    # Runs last in the module: every purchase above is in the chained log.
    outcome = served.cli.run("log", "verify", role="auditor")
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    for vendor, terminal in (("SHOP1", "SHOP1/TILL-1"), ("SHOP2", "SHOP2/POS-1")):
        ledger = served.cli.sql(
            "SELECT coalesce(sum(l.amount), 0) FROM vendor_ledger l JOIN vendor v "
            "ON v.id = l.vendor_id WHERE v.code = :c", c=vendor)  # fmt: skip
        assert ledger[0][0] == _float(served, terminal)
