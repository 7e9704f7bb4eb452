"""The server's limits, access log and metrics over HTTP: the application in this process
(httpx's ASGI transport) over a real SQLite store, with a clock the test moves."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from stsvend.server.app import create_app
from stsvend.server.metrics import REGISTRY
from stsvend.server.ops import AUTH_FAILED, Ops
from stsvend.services import terminals, vendors
from stsvend.store.repos.oplog import list_operations
from tests.services.helpers import Installation, installation

METRICS_TOKEN = "metrics-secret-for-tests-0001"


class Ticks:
    """The limits' clock: seconds, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Shop:
    """An installation with a vendor and two terminal keys, and its application."""

    def __init__(self, inst: Installation, **limits: Any) -> None:
        self.inst = inst
        vendors.add_vendor(inst.svc, inst.admin, "SHOP1", name="Corner shop", low_float="10")
        vendors.deposit(inst.svc, inst.actors["supervisor"], "SHOP1", "250", reference="B-1")
        self.keys = [terminals.add_terminal(inst.svc, inst.admin, "SHOP1", f"TILL-{n}").key
                     for n in (1, 2)]  # fmt: skip
        self.ticks = Ticks()
        self.app: Starlette = create_app(inst.svc)
        settings: dict[str, Any] = {"rate": 50, "burst": 100, "failures": 20, "window": 60,
                                    "metrics_token": ""} | limits  # fmt: skip
        self.app.state.ops = Ops(inst.svc, clock=self.ticks, **settings)

    def get(self, path: str, key: str | None = None, **headers: str) -> httpx.Response:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
                return await client.get(path, headers=headers)

        return asyncio.run(call())

    def operations(self) -> list[dict[str, Any]]:
        with self.inst.svc.store.transaction() as conn:
            return [op for op in list_operations(conn) if op["action"] == AUTH_FAILED]


@pytest.fixture
def make_shop(tmp_path: Path) -> Iterator[Any]:
    made: list[Installation] = []

    def make(**limits: Any) -> Shop:
        inst = installation(f"sqlite:///{tmp_path / f'store{len(made)}.db'}").__enter__()
        made.append(inst)
        return Shop(inst, **limits)

    REGISTRY.clear()
    yield make
    REGISTRY.clear()
    for inst in made:
        inst.close()


def _problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def test_a_key_over_its_rate_gets_429_with_retry_after(make_shop: Any) -> None:
    shop = make_shop(rate=2, burst=3)
    assert [shop.get("/v1/vendor", shop.keys[0]).status_code for _ in range(3)] == [200] * 3
    refused = shop.get("/v1/vendor", shop.keys[0])
    _problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "1"
    assert shop.get("/v1/vendor", shop.keys[1]).status_code == 200  # the other terminal's key
    shop.ticks.now += 0.5  # one token back
    assert shop.get("/v1/vendor", shop.keys[0]).status_code == 200
    assert shop.get("/v1/vendor", shop.keys[0]).status_code == 429
    assert shop.operations() == []  # a key over its rate is no failed authentication


def test_retry_after_is_rounded_up_to_whole_seconds(make_shop: Any) -> None:
    shop = make_shop(rate=0.25, burst=1)
    shop.get("/v1/vendor", shop.keys[0])
    shop.ticks.now += 1.5  # 2.5 s to the next token
    assert shop.get("/v1/vendor", shop.keys[0]).headers["retry-after"] == "3"


def test_failed_authentications_throttle_the_address_and_log_one_row(make_shop: Any) -> None:
    shop = make_shop(failures=3, window=60)
    good, prefix = shop.keys[0], shop.keys[0].split("_")[1]
    wrong_secret = f"stv_{prefix}_{'0' * 32}"
    for key in (None, "not-a-key", wrong_secret):
        _problem(shop.get("/v1/vendor", key), 401, "unauthenticated")
    shop.ticks.now += 20
    refused = shop.get("/v1/vendor", good)  # even the right key: it is not looked at
    _problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "40"
    _problem(shop.get("/v1/vendor", wrong_secret), 429, "rate_limited")
    assert shop.operations() == []  # the window is still open: nothing written yet
    shop.ticks.now += 40
    assert shop.get("/v1/vendor", good).status_code == 200
    (row,) = shop.operations()
    assert (row["operator"], row["outcome"], row["target"]) == ("server", "refused", "127.0.0.1")
    detail = row["detail"]
    assert (detail["failures"], detail["throttled"], detail["prefixes"]) == (3, 2, [prefix])
    assert detail["window_seconds"] == 60
    assert good not in json.dumps(row) and wrong_secret not in json.dumps(row)


def test_windows_of_several_addresses_each_get_their_row(make_shop: Any) -> None:
    shop = make_shop(failures=5, window=10)
    shop.get("/v1/vendor", "bad")
    shop.ticks.now += 11
    shop.get("/v1/vendor", "bad")  # the first window ended: its row is written, a new one opens
    assert [r["detail"]["failures"] for r in shop.operations()] == [1]
    shop.ticks.now += 11
    shop.get("/v1/health")  # no authentication: no sweep
    assert len(shop.operations()) == 1
    shop.get("/v1/vendor", shop.keys[0])
    assert [r["detail"]["failures"] for r in shop.operations()] == [1, 1]


def test_a_store_that_cannot_take_the_row_still_answers(
    make_shop: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shop = make_shop(failures=1, window=10)
    shop.get("/v1/vendor", "bad")
    shop.ticks.now += 11
    with shop.inst.svc.store.transaction() as conn:
        conn.exec_driver_sql("DROP TABLE operation_log")
    _problem(shop.get("/v1/vendor", "bad"), 401, "unauthenticated")
    assert "cannot log 1 failed authentication window(s)" in caplog.text


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records
            if r.name == "stsvend.server.access"]  # fmt: skip


def test_the_access_log_has_a_line_per_request_and_no_secret(
    make_shop: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shop = make_shop(metrics_token=METRICS_TOKEN)
    caplog.set_level(logging.INFO, logger="stsvend.server.access")
    key, prefix = shop.keys[0], shop.keys[0].split("_")[1]
    ok = shop.get("/v1/vendor", key, **{"X-Request-Id": "till-1.req:42"})
    assert ok.headers["x-request-id"] == "till-1.req:42"
    bad = shop.get("/v1/vendor", f"stv_{prefix}_{'f' * 32}")
    odd = shop.get("/v1/nothing", **{"X-Request-Id": "a b;" + "x" * 80})
    assert shop.get("/metrics", METRICS_TOKEN).status_code == 200
    secret_path = shop.get(f"/v1/{key}/12345678901234567890")
    lines = _access_lines(caplog)
    assert len(lines) == 5
    first, second, third, fourth, fifth = lines
    assert first == first | {
        "request_id": "till-1.req:42", "method": "GET", "path": "/v1/vendor",
        "operation": "/v1/vendor", "status": 200, "terminal": prefix, "vendor": "SHOP1",
        "outcome": "2xx", "client": "127.0.0.1",
    }  # fmt: skip
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second | {"status": 401, "terminal": prefix, "vendor": None,
                     "outcome": "unauthenticated"} == second  # fmt: skip
    assert (
        second["request_id"] == bad.headers["x-request-id"]
        and len(bad.headers["x-request-id"]) == 32
    )
    assert third | {"status": 404, "operation": "unmatched", "outcome": "not_found"} == third
    assert third["request_id"] == odd.headers["x-request-id"] != "a b"  # replaced, not echoed
    assert fourth | {"path": "/metrics", "operation": "/metrics", "status": 200} == fourth
    assert fifth["path"] == "/v1/…/…" and secret_path.status_code == 404
    text = caplog.text + json.dumps(lines)
    for secret in (key, key.split("_")[2], "f" * 32, METRICS_TOKEN, "12345678901234567890"):
        assert secret not in text


def _samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}  # fmt: skip


def test_metrics_needs_its_token_and_counts_requests_and_floats(make_shop: Any) -> None:
    shop = make_shop(metrics_token=METRICS_TOKEN, rate=1, burst=1)
    shop.get("/v1/vendor", shop.keys[0])
    shop.get("/v1/vendor", shop.keys[0])  # 429
    shop.get("/v1/vendor", "bad")  # 401
    _problem(shop.get("/metrics"), 401, "unauthenticated")
    wrong = shop.get("/metrics", METRICS_TOKEN + "x")
    _problem(wrong, 401, "unauthenticated")
    assert wrong.headers["www-authenticate"] == "Bearer"
    scraped = shop.get("/metrics", METRICS_TOKEN)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = _samples(scraped.text)
    vendor = '{operation="/v1/vendor",outcome="%s"}'
    assert samples["stsvend_http_requests_total" + vendor % "2xx"] == 1
    assert samples["stsvend_http_requests_total" + vendor % "rate_limited"] == 1
    assert samples["stsvend_http_requests_total" + vendor % "unauthenticated"] == 1
    assert (
        samples['stsvend_http_requests_total{operation="/metrics",outcome="unauthenticated"}'] == 2
    )
    assert samples["stsvend_http_request_duration_seconds_count" + vendor % "2xx"] == 1
    assert samples['stsvend_rate_limited_total{limit="key"}'] == 1
    assert samples['stsvend_auth_failures_total{operation="terminal"}'] == 1
    assert samples['stsvend_auth_failures_total{operation="metrics"}'] == 2
    assert samples['stsvend_vendor_float_minor{currency="ZAR",vendor="SHOP1"}'] == 25_000
    assert samples['stsvend_vendor_float_low{currency="ZAR",vendor="SHOP1"}'] == 0
    assert METRICS_TOKEN not in scraped.text


def test_metrics_token_as_its_digest_and_guessing_it_is_throttled(make_shop: Any) -> None:
    digest = "sha256:" + hashlib.sha256(METRICS_TOKEN.encode()).hexdigest()
    shop = make_shop(metrics_token=digest, failures=2)
    assert shop.get("/metrics", METRICS_TOKEN).status_code == 200
    assert shop.get("/metrics", digest).status_code == 401  # the digest is not the token
    assert shop.get("/metrics", "guess").status_code == 401
    refused = shop.get("/metrics", METRICS_TOKEN)
    _problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "60"
    assert shop.get("/v1/vendor", shop.keys[0]).status_code == 429  # the same address


def test_without_a_metrics_token_there_is_no_metrics_endpoint(make_shop: Any) -> None:
    shop = make_shop()
    _problem(shop.get("/metrics"), 404, "not_found")
    _problem(shop.get("/metrics", "anything"), 404, "not_found")


def test_metrics_without_the_floats_when_the_database_fails(
    make_shop: Any, caplog: pytest.LogCaptureFixture
) -> None:
    shop = make_shop(metrics_token=METRICS_TOKEN)
    with shop.inst.svc.store.transaction() as conn:
        conn.exec_driver_sql("DROP TABLE vendor_float")
    scraped = shop.get("/metrics", METRICS_TOKEN)
    assert scraped.status_code == 200 and "stsvend_vendor_float" not in scraped.text
    assert "the vendors' floats cannot be read" in caplog.text


def test_the_business_events_show_in_the_scrape(make_shop: Any) -> None:
    from stsvend.server.metrics import count

    shop = make_shop(metrics_token=METRICS_TOKEN)
    count("vend", vendor="SHOP1")
    count("replay", vendor="SHOP1")
    count("refusal", code="insufficient_funds")
    samples = _samples(shop.get("/metrics", METRICS_TOKEN).text)
    assert samples['stsvend_vends_total{vendor="SHOP1"}'] == 1
    assert samples['stsvend_replays_total{vendor="SHOP1"}'] == 1
    assert samples['stsvend_refusals_total{code="insufficient_funds"}'] == 1


def test_the_settings_come_from_the_configuration(tmp_path: Path) -> None:
    env = {"STSVEND_SERVER_RATE_PER_SECOND": "7", "STSVEND_SERVER_RATE_BURST": "9",
           "STSVEND_SERVER_AUTH_FAILURES": "4", "STSVEND_SERVER_AUTH_WINDOW_SECONDS": "30",
           "STSVEND_METRICS_TOKEN": METRICS_TOKEN}  # fmt: skip
    with installation(f"sqlite:///{tmp_path / 's.db'}", **env) as inst:
        ops: Ops = create_app(inst.svc).state.ops
        assert (ops.limiter.rate, ops.limiter.burst) == (7, 9)
        assert (ops.throttle.limit, ops.throttle.window) == (4, 30)
        assert ops.metrics_token == METRICS_TOKEN
        assert METRICS_TOKEN not in repr(inst.svc.config)
