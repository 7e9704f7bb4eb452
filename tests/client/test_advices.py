"""Confirmation and reversal advices: written to the outbox before they are sent, sent again
until the server answers for good, and kept across a new client on the same file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stsvend.client import Outbox, SalePointClient, ServerRefused
from tests.client.scripted import KEY, Step, closed_port, problem, scripted

CONFIRMED = {"purchase_id": "p-1", "advice": "confirmation", "state": "confirmed"}
REVERSED = {"purchase_id": "p-2", "advice": "reversal", "state": "reversed", "refund": 5000,
            "float_left": 25_000, "note": "refunded"}  # fmt: skip


def _client(url: str, box: Path) -> SalePointClient:
    return SalePointClient(url, KEY, timeout=0.5, budget=1.0, outbox=box,
                           sleep=lambda _s: None)  # fmt: skip


def test_an_advice_the_server_accepts_is_done(tmp_path: Path) -> None:
    box = tmp_path / "outbox.sqlite3"
    with scripted(Step(200, CONFIRMED, path="POST /v1/purchases/p-1/confirm"),
                  Step(200, REVERSED, path="POST /v1/purchases/p-2/reverse")) as (url, script), \
            _client(url, box) as api:  # fmt: skip
        assert api.confirm("p-1").state == "confirmed"
        reversal = api.reverse("p-2", "customer paid twice")
        # Asked again, the outbox answers: nothing is sent twice.
        assert api.confirm("p-1").state == "confirmed"
    assert (reversal.state, reversal.refund, reversal.float_left) == ("reversed", 5000, 25_000)
    assert [a.body for a in script.asked] == [{}, {"reason": "customer paid twice"}]
    assert stat.S_IMODE(os.stat(box).st_mode) == 0o600


def test_an_advice_survives_a_new_client_and_is_sent_until_final(tmp_path: Path) -> None:
    box = tmp_path / "outbox.sqlite3"
    with _client(closed_port(), box) as api:
        assert api.confirm("p-1").state == "pending"
        assert api.reverse("p-2", "customer paid twice").delivered is False
    # The process ends; another one starts on the same file, and the server answers now.
    with scripted(Step(200, CONFIRMED, path="POST /v1/purchases/p-1/confirm"),
                  Step(200, REVERSED, path="POST /v1/purchases/p-2/reverse")) as (url, script), \
            _client(url, box) as api:  # fmt: skip
        sent = api.flush_advices()
        assert [(a.advice, a.state) for a in sent] == [("confirmation", "confirmed"),
                                                       ("reversal", "reversed")]  # fmt: skip
        assert api.flush_advices() == []
        entries = api.advices()
    assert [(e.state, e.attempts) for e in entries] == [("done", 2), ("done", 2)]
    assert entries[1].body == {"reason": "customer paid twice"}
    assert len(script.asked) == 2


def test_pending_advices_go_out_after_the_next_call_that_reaches_it(tmp_path: Path) -> None:
    box = tmp_path / "outbox.sqlite3"
    with scripted(Step(503, problem("storage", 503, "x")), Step(503, problem("storage", 503, "x")),
                  Step(503, problem("storage", 503, "x"))) as (url, _s), _client(url, box) as api:
        assert api.confirm("p-1").state == "pending"
    with scripted(Step(200, {"code": "SHOP1"}, path="GET /v1/vendor"),
                  Step(200, CONFIRMED, path="POST /v1/purchases/p-1/confirm")) as (url, script), \
            _client(url, box) as api:  # fmt: skip
        assert api.vendor() == {"code": "SHOP1"}
        assert [e.state for e in api.advices()] == ["done"]
    assert len(script.asked) == 2


def test_a_refusal_is_final_recorded_with_its_code_and_never_sent_again(tmp_path: Path) -> None:
    box = tmp_path / "outbox.sqlite3"
    refusal = problem("reversal", 409, "older than 24 hours")
    with scripted(Step(409, refusal, path="POST /v1/purchases/p-2/reverse")) as (url, script), \
            _client(url, box) as api:  # fmt: skip
        with pytest.raises(ServerRefused) as caught:
            api.reverse("p-2", "customer paid twice")
        assert (caught.value.code, caught.value.status) == ("reversal", 409)
        assert api.flush_advices() == []
        again = api.reverse("p-2", "customer paid twice")
    assert (again.state, again.code) == ("failed", "reversal")
    assert len(script.asked) == 1
    entry = Outbox(box).entries()[0]
    assert (entry.state, entry.code, entry.status) == ("failed", "reversal", 409)


def test_a_refusal_met_while_flushing_is_recorded_and_the_rest_go_on(tmp_path: Path) -> None:
    box = tmp_path / "outbox.sqlite3"
    with _client(closed_port(), box) as api:
        api.confirm("p-0")
        api.confirm("p-1")
    with scripted(Step(404, problem("not_found", 404, "never seen")),
                  Step(200, CONFIRMED)) as (url, _s), _client(url, box) as api:  # fmt: skip
        sent = api.flush_advices()
    assert [(a.purchase_id, a.state, a.code) for a in sent] == [
        ("p-0", "failed", "not_found"), ("p-1", "confirmed", None)]  # fmt: skip


def test_a_401_keeps_the_advice_for_a_client_with_a_valid_key(tmp_path: Path) -> None:
    box = tmp_path / "outbox.sqlite3"
    with scripted(Step(401, problem("unauthenticated", 401, "no valid key")),
                  Step(401, problem("unauthenticated", 401, "no valid key"))) as (url, _s), \
            _client(url, box) as api:  # fmt: skip
        with pytest.raises(ServerRefused):
            api.confirm("p-1")
        assert [a.state for a in api.flush_advices()] == ["pending"]
        assert [e.state for e in api.advices()] == ["pending"]
