"""The client's outcome rules against a real HTTP server on loopback that answers from a
script: 2xx, unknown (500/502/503/504, timeouts, broken connections), 429, refusals."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stsvend.client import (
    OutcomeUnknown,
    Purchase,
    SalePointClient,
    ServerRefused,
    ServerUnavailable,
)
from stsvend.config import ConfigError
from stsvend.errors import InputError
from stsvend_cli.exit_codes import exit_code_for
from tests.client.scripted import KEY, Step, closed_port, problem, receipt_doc, scripted

POST = "POST /v1/purchases"


class FakeTime:
    """A clock that a wait moves forward at once (real time spent on the wire still counts)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.offset += seconds


@contextmanager
def client(url: str, **options: object) -> Iterator[tuple[SalePointClient, FakeTime]]:
    fake = FakeTime()
    settings: dict[str, object] = {"timeout": 1.0, "clock": fake.clock, "sleep": fake.sleep}
    settings.update(options)
    with SalePointClient(url, KEY, **settings) as made:  # type: ignore[arg-type]
        yield made, fake


def test_a_201_is_the_typed_purchase_and_the_id_is_made_by_the_client() -> None:
    with scripted() as (url, script), client(url) as (api, _):
        script.add(Step(201, receipt_doc("x"), path=POST))
        bought = api.purchase("01000000017", "50.00")
    sent = script.asked[0]
    assert sent.authorization == f"Bearer {KEY}"
    pid = sent.body["purchase_id"]
    assert sent.body == {"purchase_id": pid, "meter": "01000000017", "amount": "50.00",
                         "tender": "cash"}  # fmt: skip
    assert 1 <= len(pid) <= 64 and pid.startswith("p-")
    assert isinstance(bought, Purchase)
    figures = (bought.number, bought.units, bought.commission, bought.float_left)
    assert figures == (7, 330, 150, 20_000)
    assert [t.purpose.value for t in bought.tokens] == ["key_change", "sale"]
    assert bought.breakdown is not None and bought.breakdown.tendered == 5000
    assert bought.raw["sale_point"]["vendor"] == "SHOP1" and bought.replayed is False


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_an_unknown_status_is_sent_again_under_the_same_id(status: int) -> None:
    with scripted(Step(status, problem("error", status, "x"), path=POST),
                  Step(201, receipt_doc("p-1"), path=POST)) as (url, script), \
            client(url) as (api, fake):  # fmt: skip
        bought = api.purchase("01000000017", "50.00", purchase_id="p-1")
    assert bought.purchase_id == "p-1"
    assert [a.body["purchase_id"] for a in script.asked] == ["p-1", "p-1"]
    assert fake.waits == [0.2]


def test_after_the_attempts_the_server_is_asked_and_its_stored_answer_is_the_answer() -> None:
    busy = Step(503, problem("storage", 503, "ask again"), path=POST)
    found = Step(200, receipt_doc("p-2", replayed=True), path="GET /v1/purchases/p-2")
    with scripted(busy, busy, busy, found) as (url, script), client(url) as (api, fake):
        bought = api.purchase("01000000017", "50.00", purchase_id="p-2")
    assert bought.replayed is True and bought.purchase_id == "p-2"
    assert len(script.asked) == 4 and fake.waits == [0.2, 0.4]


def test_not_found_after_unknown_answers_sends_the_same_purchase_once_more() -> None:
    busy = Step(502, b"<html>bad gateway</html>", path=POST)
    missing = Step(404, problem("not_found", 404, "no such purchase"),
                   path="GET /v1/purchases/p-3")  # fmt: skip
    with scripted(busy, busy, busy, missing, Step(201, receipt_doc("p-3"), path=POST)) as (
        url, script), client(url) as (api, _):  # fmt: skip
        bought = api.purchase("01000000017", "50.00", purchase_id="p-3")
    assert bought.number == 7
    assert [a.body["purchase_id"] for a in script.asked if a.method == "POST"] == ["p-3"] * 4


def test_still_unknown_raises_outcome_unknown_carrying_the_id() -> None:
    busy = Step(503, problem("storage", 503, "ask again"))
    with scripted(*[busy] * 8) as (url, script), client(url) as (api, _), \
            pytest.raises(OutcomeUnknown) as caught:  # fmt: skip
        api.purchase("01000000017", "50.00", purchase_id="p-4")
    assert caught.value.purchase_id == "p-4" and caught.value.code == "outcome_unknown"
    assert "p-4" in caught.value.message and "Do not sell again" in caught.value.message
    assert exit_code_for(caught.value.code) == 8
    assert [f"{a.method} {a.path}" for a in script.asked] == [POST] * 3 + [
        "GET /v1/purchases/p-4"] * 3  # fmt: skip


def test_a_timeout_is_unknown_and_the_whole_call_keeps_to_its_budget() -> None:
    slow = Step(201, receipt_doc("p-5"), delay=3.0)
    with scripted(*[slow] * 8) as (url, script), \
            client(url, timeout=0.5, budget=2.0, clock=time.monotonic, sleep=time.sleep) as (
                api, _):  # fmt: skip
        start = time.monotonic()
        with pytest.raises(OutcomeUnknown) as caught:
            api.purchase("01000000017", "50.00", purchase_id="p-5")
        spent = time.monotonic() - start
    assert caught.value.purchase_id == "p-5"
    assert spent < 2.0 + 0.5, spent
    methods = [a.method for a in script.asked]
    assert methods[0] == "POST" and "GET" in methods


def test_a_timeout_then_the_stored_answer() -> None:
    slow = Step(201, receipt_doc("p-6"), delay=2.0, path=POST)
    with scripted(slow, Step(200, receipt_doc("p-6", replayed=True), path=POST)) as (url, _s), \
            client(url, timeout=0.4) as (api, _):  # fmt: skip
        bought = api.purchase("01000000017", "50.00", purchase_id="p-6")
    assert bought.replayed is True


def test_no_connection_at_all_is_unavailable_and_nothing_was_sold() -> None:
    with client(closed_port()) as (api, _), pytest.raises(ServerUnavailable) as caught:
        api.purchase("01000000017", "50.00")
    assert caught.value.code == "unavailable" and "nothing was sold" in caught.value.message


def test_429_waits_what_retry_after_says_then_sends_the_same_id() -> None:
    limited = Step(429, problem("rate_limited", 429, "slow down"), {"Retry-After": "2"},
                   path=POST)  # fmt: skip
    with scripted(limited, Step(201, receipt_doc("p-7"), path=POST)) as (url, script), \
            client(url) as (api, fake):  # fmt: skip
        api.purchase("01000000017", "50.00", purchase_id="p-7")
    assert fake.waits == [2.0]
    assert [a.body["purchase_id"] for a in script.asked] == ["p-7", "p-7"]


def test_429_beyond_the_budget_is_unavailable_without_waiting() -> None:
    limited = Step(429, problem("rate_limited", 429, "slow down"), {"Retry-After": "60"})
    with scripted(limited) as (url, script), client(url) as (api, fake), \
            pytest.raises(ServerUnavailable) as caught:  # fmt: skip
        api.purchase("01000000017", "50.00", purchase_id="p-8")
    assert "busy" in caught.value.message and "60 s" in caught.value.message
    assert fake.waits == [] and len(script.asked) == 1


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [(409, "idempotency_mismatch", 9), (402, "insufficient_funds", 7), (401, "unauthenticated", 6),
     (422, "amount_too_small", 7), (404, "not_found", 5)],
)  # fmt: skip
def test_a_4xx_is_final_a_typed_refusal_sent_once(status: int, code: str, exit_code: int) -> None:
    with scripted(Step(status, problem(code, status, "because"))) as (url, script), \
            client(url) as (api, fake), pytest.raises(ServerRefused) as caught:  # fmt: skip
        api.purchase("01000000017", "50.00", purchase_id="p-9")
    refused = caught.value
    assert (refused.code, refused.status, refused.detail) == (code, status, "because")
    assert refused.problem["type"] == f"urn:stsvend:problem:{code}"
    assert exit_code_for(refused.code) == exit_code
    assert len(script.asked) == 1 and fake.waits == []


def test_a_4xx_without_a_problem_document_is_still_a_refusal() -> None:
    with scripted(Step(403, b"<html>forbidden by the proxy</html>")) as (url, _s), \
            client(url) as (api, _), pytest.raises(ServerRefused) as caught:  # fmt: skip
        api.vendor()
    assert (caught.value.code, caught.value.status) == ("refused", 403)


def test_a_2xx_that_is_not_a_receipt_is_unknown_then_asked() -> None:
    with scripted(Step(201, b"<html>captive portal</html>", path=POST),
                  Step(200, receipt_doc("p-10", replayed=True),
                       path="GET /v1/purchases/p-10")) as (url, _s), \
            client(url) as (api, _):  # fmt: skip
        assert api.purchase("01000000017", "50.00", purchase_id="p-10").replayed


def test_reads_are_tried_again_and_then_unavailable() -> None:
    busy = Step(503, problem("storage", 503, "x"))
    with scripted(busy, Step(200, {"code": "SHOP1", "float": 25_000})) as (url, _s), \
            client(url) as (api, _):  # fmt: skip
        assert api.vendor()["float"] == 25_000
    with scripted(busy, busy, busy) as (url, script), client(url) as (api, _), \
            pytest.raises(ServerUnavailable) as caught:  # fmt: skip
        api.lookup("01000000017")
    assert "nothing was changed" in caught.value.message
    assert [a.path for a in script.asked] == ["/v1/meters/01000000017"] * 3


def test_every_operation_calls_its_endpoint() -> None:
    steps = [
        Step(200, {"units": 330}, path="POST /v1/trial"),
        Step(200, receipt_doc("p-11", replayed=True), path="GET /v1/purchases/p-11"),
        Step(200, receipt_doc("p-11") | {"copy": True, "mark": "COPY"},
             path="GET /v1/receipts/last"),
        Step(200, receipt_doc("p-11") | {"copy": True}, path="GET /v1/receipts/7"),
    ]  # fmt: skip
    with scripted(*steps) as (url, script), client(url) as (api, _):
        assert api.trial("01000000017", "50.00") == {"units": 330}
        assert api.fetch("p-11").replayed
        assert api.reprint().receipt.copy is True
        assert api.reprint(7).number == 7
    assert script.asked[0].body == {"meter": "01000000017", "amount": "50.00"}


def test_bad_input_is_refused_before_anything_is_sent() -> None:
    with scripted() as (url, script), client(url) as (api, _):
        for bad in ("", "x" * 65, "a b", "p/1"):
            with pytest.raises(InputError):
                api.purchase("01000000017", "50.00", purchase_id=bad)
        with pytest.raises(InputError):
            api.purchase("01000000017", 50.0)  # type: ignore[arg-type]
        with pytest.raises(InputError):
            api.lookup("../vendor")
    assert script.asked == []


def test_a_malformed_key_or_address_is_refused_and_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        SalePointClient("http://127.0.0.1:1", "stv_secretsecret")
    assert "secretsecret" not in caught.value.message
    with pytest.raises(ConfigError):
        SalePointClient("ftp://127.0.0.1:1", KEY)


def test_the_key_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with scripted(Step(503, problem("storage", 503, "x")), Step(201, receipt_doc("p-12"))) as (
        url, _s), client(url) as (api, _):  # fmt: skip
        api.purchase("01000000017", "50.00", purchase_id="p-12")
    assert "again in" in caplog.text  # the retry was logged …
    assert KEY[4:16] not in caplog.text and KEY[-32:] not in caplog.text  # … without the key


def test_tls_files_that_cannot_be_read_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CA file"):
        SalePointClient("https://127.0.0.1:1", KEY, verify=str(tmp_path / "none.pem"))
    with pytest.raises(ConfigError, match="client certificate"):
        SalePointClient("https://127.0.0.1:1", KEY, cert=(str(tmp_path / "c.pem"),
                                                           str(tmp_path / "k.pem")))  # fmt: skip
