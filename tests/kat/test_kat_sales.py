"""Known answers for the sales: credit vend, trial, emergency credit and free issue.

Each test runs on a private copy of the pinned base at 2026-03-10 07:30 UTC (09:30 in
Africa/Johannesburg) with the random source seeded alike, so receipt numbers, request ids, RND
nibbles, TIDs and so the 20 digits are the same on every run and on both databases.
"""

from __future__ import annotations

from stsvend.meter import ResultCode
from tests.cli.conftest import M
from tests.kat.conftest import START, Kat
from tests.kat.support import meter, replay, tid


def test_a_credit_vend(kat: Kat) -> None:
    (sale,) = replay(kat, "vend")
    assert sale["receipt"] == 3 and sale["money"]["tendered"] == 10000  # ZAR 100.00
    # R100 at R2.00/kWh incl. 15 % VAT: 50.0 kWh, VAT 100 × 15/115 = 13.04.
    assert sale["units"] == 500 and sale["money"]["tax"] == 1304
    (token,) = sale["tokens"]
    assert token["digits"] == "49849164545060624553" and token["tid"] == tid(START) == 6409890
    m = meter(M[2])
    result = m.enter(token["digits"], START)
    assert (result.code, result.token_class, result.subclass) == (ResultCode.ACCEPT, 0, 0)
    assert result.tid == token["tid"] and result.effect["amount"] == 500
    assert m.status()["credit"]["display"] == "50.0 kWh"


def test_a_trial_issues_nothing(kat: Kat) -> None:
    (figures,) = replay(kat, "trial")
    assert "tokens" not in figures and "receipt" not in figures
    assert figures["units"] == 250 and figures["money"]["tax"] == 652  # R50 → 25.0 kWh
    # Nothing was issued: the next sale still gets receipt 3.
    assert kat.json("vend", M[2], "100.00")["receipt"] == 3


def test_emergency_credit(kat: Kat) -> None:
    (grant,) = replay(kat, "emergency")
    # The tariff's 10.0 kWh allowance at R2.00/kWh is a debt of R20.00.
    assert grant["units"] == 100 and grant["debt"] == 2000
    (token,) = grant["tokens"]
    assert token["digits"] == "42080435366659420357" and token["tid"] == tid(START)
    m = meter(M[3])
    result = m.enter(token["digits"], START)
    assert (result.code, result.token_class, result.subclass) == (ResultCode.ACCEPT, 0, 0)
    assert result.tid == token["tid"] and result.effect["amount"] == 100


def test_free_issue(kat: Kat) -> None:
    (issue,) = replay(kat, "free_issue")
    assert issue["units"] == 255 and issue["reason"] == "indigent grant"
    (token,) = issue["tokens"]
    assert token["digits"] == "08244614210251976107" and token["tid"] == tid(START)
    m = meter(M[2])
    result = m.enter(token["digits"], START)
    assert (result.code, result.token_class, result.subclass) == (ResultCode.ACCEPT, 0, 0)
    assert result.tid == token["tid"] and result.effect["amount"] == 255
    assert m.status()["credit"]["display"] == "25.5 kWh"
