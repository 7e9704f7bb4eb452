"""A vendor's advices, statement and low-float alerts over HTTP from a real server, on SQLite
and PostgreSQL: confirm and reverse exactly once per purchase, under the vendor reversal
policy; the float stays its ledger and the chained log verifies."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.cli.conftest import M
from tests.server.conftest import Served, start_server, stop_server

_NOT_DELIVERED = "customer's phone never got the SMS"


def _buy(served: Served, purchase_id: str, meter: str, amount: str,
         terminal: str = "SHOP1/TILL-1") -> Any:  # fmt: skip
    answer = served.call("POST", "/v1/purchases", terminal,
                         json={"purchase_id": purchase_id, "meter": meter, "amount": amount})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _float(served: Served, terminal: str = "SHOP1/TILL-1") -> int:
    value: int = served.call("GET", "/v1/vendor", terminal).json()["float"]
    return value


def _confirm(served: Served, purchase_id: str, terminal: str | None = "SHOP1/TILL-1",
             **kwargs: Any) -> Any:  # fmt: skip
    return served.call("POST", f"/v1/purchases/{purchase_id}/confirm", terminal, **kwargs)


def _reverse(served: Served, purchase_id: str, reason: str = _NOT_DELIVERED,
             terminal: str = "SHOP1/TILL-1") -> Any:  # fmt: skip
    return served.call("POST", f"/v1/purchases/{purchase_id}/reverse", terminal,
                       json={"reason": reason})  # fmt: skip


def _problem(answer: Any, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code, answer.text
    detail: str = answer.json()["detail"]
    return detail


def test_a_confirmation_is_recorded_once_and_then_stands(served: Served) -> None:
    _buy(served, "c-1", M[1], "20")
    first = _confirm(served, "c-1", json={})
    assert first.status_code == 200, first.text
    doc = first.json()
    assert {k: doc[k] for k in ("purchase_id", "advice", "state", "replayed", "terminal")} == {
        "purchase_id": "c-1", "advice": "confirmation", "state": "confirmed",
        "replayed": False, "terminal": "SHOP1/TILL-1"}  # fmt: skip
    assert "refund" not in doc
    again = _confirm(served, "c-1", terminal="SHOP1/TILL-2")  # no body at all
    assert again.status_code == 200, again.text
    assert again.json() == {**doc, "replayed": True}
    # Once confirmed, the vendor cannot say it was not delivered.
    before = _float(served)
    assert "confirmed" in _problem(_reverse(served, "c-1"), 409, "reversal")
    assert _float(served) == before
    rows = [r for r in served.cli.operations("advice.confirmation") if r[1] == "ok"]
    assert len(rows) == 1 and rows[0][0] == "SHOP1/TILL-1"


def test_a_confirmation_of_a_purchase_never_seen_is_404(served: Served) -> None:
    detail = _problem(_confirm(served, "c-never"), 404, "not_found")
    assert "never received" in detail
    # Another vendor's purchase is never seen either.
    _buy(served, "c-theirs", M[1], "5")
    _problem(_confirm(served, "c-theirs", terminal="SHOP2/POS-1"), 404, "not_found")
    _problem(_confirm(served, "c-theirs", content=b'{"x": 1}'), 422, "input")
    _problem(_confirm(served, "c-theirs", content=b"[]"), 422, "input")
    _problem(_confirm(served, "c-theirs", terminal="SHOP1/ENG-1"), 403, "permission")
    _problem(_confirm(served, "bad id!"), 422, "input")
    _problem(_confirm(served, "c-theirs", terminal=None), 401, "unauthenticated")


def test_a_reversal_advice_refunds_the_float_once(served: Served) -> None:
    account = "SELECT credit_balance, debt FROM account WHERE contract_number = 'K-2'"
    balance = served.cli.sql(account)
    start = _float(served)
    sold = _buy(served, "r-1", M[2], "50")
    assert _float(served) == start - 5000 + 125
    first = _reverse(served, "r-1")
    assert first.status_code == 200, first.text
    doc = first.json()
    assert (doc["advice"], doc["state"], doc["replayed"]) == ("reversal", "reversed", False)
    assert (doc["refund"], doc["commission_reversed"], doc["float_left"]) == (5000, 125, start)
    assert doc["receipt"] == sold["receipt"] and doc["reversal"] > sold["receipt"]
    assert doc["reason"] == _NOT_DELIVERED and "may still accept" in doc["note"]
    assert _float(served) == start
    # The same advice again (from another terminal of the vendor) gets the same answer.
    again = _reverse(served, "r-1", reason="sent twice by the switch", terminal="SHOP1/TILL-2")
    assert again.status_code == 200, again.text
    assert again.json() == {**doc, "replayed": True}
    assert _float(served) == start
    # Reversed, it is never confirmed.
    assert "reversed" in _problem(_confirm(served, "r-1"), 409, "refused")
    # The float's ledger: the sale, its commission, and their reversal.
    lines = served.cli.sql(
        "SELECT l.entry, l.amount, l.reference FROM vendor_ledger l JOIN vendor v ON "
        "v.id = l.vendor_id WHERE v.code = 'SHOP1' AND l.sale_id = :s ORDER BY l.id",
        s=sold["receipt"])  # fmt: skip
    mark = f"reversal #{doc['reversal']}"
    assert [tuple(r) for r in lines] == [("sale", -5000, None), ("commission", 125, None),
                                         ("reversal", 5000, mark),
                                         ("commission_reversal", -125, mark)]  # fmt: skip
    # The account is as it was before the sale; the token stays in the log, marked.
    assert served.cli.sql(account) == balance
    marks = served.cli.sql("SELECT note, ref_seq FROM token_log WHERE event = 'reversal' AND "
                           "sale_id = :s", s=doc["reversal"])  # fmt: skip
    assert len(marks) == 1 and marks[0][0].startswith("not delivered (vendor advice): ")
    assert marks[0][1] is not None
    [(kind, amount, reversal_of)] = served.cli.sql(
        "SELECT kind, amount, reversal_of FROM sale WHERE id = :s", s=doc["reversal"])
    assert (kind, amount, reversal_of) == ("reversal", -5000, sold["receipt"])


def test_reversal_advices_refused_by_the_rules(served: Served) -> None:
    _problem(_reverse(served, "r-never"), 404, "not_found")
    _buy(served, "r-early", M[3], "10")
    _buy(served, "r-late", M[3], "10")
    before = _float(served)
    assert "later sale" in _problem(_reverse(served, "r-early"), 409, "reversal")
    assert "reason" in _problem(_reverse(served, "r-late", reason="no"), 409, "reversal")
    _problem(_reverse(served, "r-late", terminal="SHOP2/POS-1"), 404, "not_found")
    _problem(_reverse(served, "r-late", terminal="SHOP1/ENG-1"), 403, "permission")
    for content in (b"{}", b'{"reason": 5}', b'{"reason": "abcdef", "x": "y"}', b"nope"):
        _problem(served.call("POST", "/v1/purchases/r-late/reverse", content=content,
                             headers={"Content-Type": "application/json"}), 422, "input")
    assert _float(served) == before  # nothing refunded by a refusal
    refused = [r for r in served.cli.operations("advice.reversal") if r[1] == "refused"]
    assert any("later sale" in r[2]["reason"] for r in refused)
    ok = _reverse(served, "r-late")
    assert ok.status_code == 200 and _float(served) == before + 1000 - 25


def test_the_window_and_the_daily_cap_are_configured(served: Served) -> None:
    _buy(served, "w-large", M[1], "50", terminal="SHOP1/TILL-2")
    _buy(served, "w-small", M[1], "5")
    # Room for R 10 more today, after the reversals of the tests before this one.
    [(done,)] = served.cli.sql("SELECT coalesce(sum(-amount), 0) FROM sale WHERE kind = "
                               "'reversal' AND vendor_id IS NOT NULL")  # fmt: skip
    cap = f"{(int(done) + 1000) / 100:.2f}"
    strict, base = start_server(served.cli, 1, STSVEND_VENDOR_REVERSAL_WINDOW_MINUTES="0",
                                STSVEND_VENDOR_REVERSAL_DAILY_CAP=cap)  # fmt: skip
    try:
        other = Served(base, served.cli, served.keys, strict)
        before = _float(other)
        assert "cap" in _problem(_reverse(other, "w-large"), 409, "reversal")
        assert "within 0 hours" in _problem(_reverse(other, "w-small"), 409, "reversal")
        assert _float(other) == before
    finally:
        assert "Traceback" not in stop_server(strict)


def test_a_low_float_is_alerted_once_per_crossing(served: Served) -> None:
    served.cli.sql("UPDATE vendor SET low_float = :f WHERE code = 'SHOP2'", f=_float(
        served, "SHOP2/POS-1") - 1000)  # fmt: skip
    _buy(served, "lf-1", M[1], "5", terminal="SHOP2/POS-1")  # above the mark still
    assert served.cli.operations("vendors.low_float") == []
    _buy(served, "lf-2", M[1], "10", terminal="SHOP2/POS-1")  # crosses it
    _buy(served, "lf-3", M[1], "2", terminal="SHOP2/POS-1")  # below it already
    alerts = served.cli.operations("vendors.low_float")
    assert len(alerts) == 1, alerts
    operator, outcome, detail = alerts[0]
    assert (operator, outcome) == ("SHOP2/POS-1", "ok")
    assert detail["float"] <= detail["low_float"] and detail["currency"] == "ZAR"
    info = served.call("GET", "/v1/vendor", "SHOP2/POS-1").json()
    assert info["low"] is True


def test_the_statement_is_the_terminals_own_vendors(served: Served) -> None:
    _buy(served, "st-1", M[4], "30")
    assert _reverse(served, "st-1").status_code == 200
    answer = served.call("GET", "/v1/statement")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["vendor"] == "SHOP1" and doc["since"] == doc["until"]
    assert doc["closing"] == _float(served)
    entries = {line["entry"] for line in doc["lines"]}
    assert {"sale", "commission", "reversal", "commission_reversal"} <= entries
    reversed_lines = [line for line in doc["lines"] if line["purchase_id"] == "st-1"]
    assert [line["entry"] for line in reversed_lines] == ["sale", "commission", "reversal",
                                                          "commission_reversal"]  # fmt: skip
    assert sum(line["amount"] for line in doc["lines"]) == doc["closing"] - doc["opening"]
    day = doc["since"]
    same = served.call("GET", f"/v1/statement?since={day}&until={day}").json()
    assert same == doc
    theirs = served.call("GET", "/v1/statement", "SHOP2/POS-1").json()
    assert theirs["vendor"] == "SHOP2" and "st-1" not in json.dumps(theirs)
    for query, why in (("?since=2026-13-01", "a day"), ("?until=yesterday", "a day"),
                       ("?since=2026-01-01&until=2026-03-01", "at most 31 days"),
                       ("?since=2026-02-02&until=2026-02-01", "before the first"),
                       ("?since=9999-12-31", "a day"), ("?until=0001-01-01", "a day"),
                       ("?vendor=SHOP2", "unknown parameter"),
                       ("?since=2026-01-01&since=2026-01-02", "once")):  # fmt: skip
        assert why in _problem(served.call("GET", f"/v1/statement{query}"), 422, "input")


def test_advices_sent_at_once_are_taken_once(served: Served) -> None:
    _buy(served, "race-1", M[1], "25")
    before = _float(served)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _reverse(served, "race-1"), range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert sorted(a.json()["replayed"] for a in answers) == [False, True, True, True]
    assert len({a.json()["reversal"] for a in answers}) == 1
    assert _float(served) == before + 2500 - 62
    # A confirmation and a reversal at once: the first one stands, the other is refused.
    _buy(served, "race-2", M[1], "25")
    with ThreadPoolExecutor(2) as pool:
        confirmed = pool.submit(_confirm, served, "race-2")
        reversed_ = pool.submit(_reverse, served, "race-2")
        pair = (confirmed.result().status_code, reversed_.result().status_code)
    assert pair in {(200, 409), (409, 200)}, pair
    [(state,)] = served.cli.sql("SELECT a.state FROM sale_advice a JOIN sale s ON s.id = "
                                "a.sale_id WHERE s.request_id = 'race-2'")  # fmt: skip
    assert state == ("confirmed" if pair[0] == 200 else "reversed")


@pytest.mark.parametrize("terminal", ["SHOP1/TILL-1", "SHOP2/POS-1"])
def test_the_float_is_its_ledger_after_reversals(served: Served, terminal: str) -> None:
    vendor = terminal.split("/")[0]
    [(ledger,)] = served.cli.sql(
        "SELECT coalesce(sum(l.amount), 0) FROM vendor_ledger l JOIN vendor v "
        "ON v.id = l.vendor_id WHERE v.code = :c", c=vendor)  # fmt: skip
    assert ledger == _float(served, terminal)


def test_the_log_verifies(served: Served) -> None:
    # Runs last in the module: every advice above is in the chained log.
    outcome = served.cli.run("log", "verify", role="auditor")
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
