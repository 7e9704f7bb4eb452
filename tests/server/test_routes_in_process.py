"""The server's route modules in this process (httpx's ASGI transport over a real SQLite
store): the same operations the real-server modules call over a socket, here also measured by
the suite's coverage, which does not follow a served process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stsvend.server.app import MAX_BODY_BYTES, create_app
from stsvend.services import terminals, vendors
from tests.services.helpers import PINS, Installation, drn, installation

M1, M2 = drn(1), drn(2)


class Shop:
    """A vendor with a clerk's, a supervisor's and an engineer's terminal, over the app."""

    def __init__(self, inst: Installation) -> None:
        self.inst = inst
        vendors.add_vendor(inst.svc, inst.admin, "SHOP1", name="Corner shop", commission="2")
        vendors.deposit(inst.svc, inst.actors["supervisor"], "SHOP1", "500", reference="B-1")
        self.keys = {role: terminals.add_terminal(inst.svc, inst.admin, "SHOP1", f"T-{role}",
                                                  role=role).key
                     for role in ("clerk", "supervisor", "engineer")}  # fmt: skip
        inst.meter(M1)
        inst.meter(M2)
        self.app = create_app(inst.svc)
        self.app.state.ops.limiter.rate = 0.0  # no rate limit: many calls from one key

    def call(self, method: str, path: str, role: str = "clerk", *,
             session: str | None = None, **kwargs: Any) -> httpx.Response:  # fmt: skip
        headers = {"Authorization": f"Bearer {self.keys[role]}", **kwargs.pop("headers", {})}
        if session is not None:
            headers["X-Stsvend-Session"] = session

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
                return await client.request(method, path, headers=headers, **kwargs)

        return asyncio.run(go())

    def buy(self, purchase_id: str, meter: str = M1, amount: str = "20") -> dict[str, Any]:
        answer = self.call("POST", "/v1/purchases", json={
            "purchase_id": purchase_id, "meter": meter, "amount": amount})  # fmt: skip
        assert answer.status_code == 201, answer.text
        doc: dict[str, Any] = answer.json()
        return doc


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    with installation(f"sqlite:///{tmp_path / 'store.db'}") as inst:
        yield Shop(inst)


def test_advices_and_the_statement(shop: Shop) -> None:
    shop.buy("p-1", M1)
    shop.buy("p-2", M2)
    confirmed = shop.call("POST", "/v1/purchases/p-1/confirm")
    assert (confirmed.status_code, confirmed.json()["state"]) == (200, "confirmed")
    reversed_ = shop.call("POST", "/v1/purchases/p-2/reverse",
                          json={"reason": "the token never reached the customer"})  # fmt: skip
    assert reversed_.status_code == 200, reversed_.text
    assert (reversed_.json()["state"], reversed_.json()["refund"]) == ("reversed", 2000)
    assert shop.call("POST", "/v1/purchases/nope/confirm").status_code == 404
    assert shop.call("POST", "/v1/purchases/p-1/confirm", json={"x": "1"}).status_code == 422
    statement = shop.call("GET", "/v1/statement")
    assert statement.status_code == 200, statement.text
    entries = [line["entry"] for line in statement.json()["lines"]]
    assert {"sale", "commission", "reversal", "commission_reversal"} <= set(entries)
    assert shop.call("GET", "/v1/statement?since=2026-13-01").status_code == 422
    assert shop.call("GET", "/v1/statement?day=1").status_code == 422


def test_batches(shop: Shop) -> None:
    shop.buy("b-1")
    current = shop.call("GET", "/v1/batches/current")
    assert current.status_code == 200 and current.json()["count"] == 1
    number = current.json()["batch"]
    closed = shop.call("POST", "/v1/batches/close")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert shop.call("GET", "/v1/batches/current").status_code == 404
    assert shop.call("POST", "/v1/batches/close").status_code == 409
    assert shop.call("GET", f"/v1/batches/{number}").json()["count"] == 1
    assert shop.call("GET", "/v1/batches/x").status_code == 422
    day = closed.json()["opened_at"][:10]
    assert shop.call("GET", f"/v1/batches?day={day}").status_code == 403  # a clerk's terminal
    whole = shop.call("GET", f"/v1/batches?day={day}", "supervisor")
    assert whole.status_code == 200 and whole.json()["count"] == 1


def test_tokens_besides_credit_by_role(shop: Shop) -> None:
    body = {"request_id": "e-1", "meter": M1, "kind": "clear-tamper", "work_order": "WO-1"}
    assert shop.call("POST", "/v1/engineering", json=body).status_code == 403
    issued = shop.call("POST", "/v1/engineering", "engineer", json=body)
    assert issued.status_code == 201, issued.text
    again = shop.call("POST", "/v1/engineering", "engineer", json=body)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    kc = shop.call("POST", "/v1/key-change", "supervisor", json={"request_id": "k-1",
                                                                  "meter": M1})  # fmt: skip
    assert (kc.status_code, kc.json()["code"]) == (409, "key_change")
    ec = shop.call("POST", "/v1/emergency-credit", json={"request_id": "ec-1", "meter": M2})
    assert ec.status_code in (201, 409), ec.text
    free = shop.call("POST", "/v1/free-issue", "supervisor", json={
        "request_id": "f-1", "meter": M2, "units": "1.5", "reason": "meter fault"})  # fmt: skip
    assert free.status_code == 201, free.text
    assert free.json()["kind"] == "free_issue"


def test_a_session_and_its_end(shop: Shop) -> None:
    login = shop.call("POST", "/v1/sessions", json={"username": "clerk", "pin": PINS["clerk"]})
    assert login.status_code == 201, login.text
    token = login.json()["session"]
    sold = shop.call("POST", "/v1/purchases", session=token, json={
        "purchase_id": "s-1", "meter": M1, "amount": "10"})  # fmt: skip
    assert (sold.status_code, sold.json()["operator"]) == (201, "clerk")
    assert shop.call("DELETE", "/v1/sessions/current", session=token).status_code == 204
    gone = shop.call("GET", "/v1/vendor", session=token)
    assert (gone.status_code, gone.json()["code"]) == (401, "session_expired")
    assert shop.call("DELETE", "/v1/sessions/current").status_code == 422
    wrong = shop.call("POST", "/v1/sessions", json={"username": "clerk", "pin": "000000"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "permission")


def test_the_body_limit_by_length_and_by_chunks(shop: Shop) -> None:
    declared = shop.call("POST", "/v1/purchases", content=b"x" * (MAX_BODY_BYTES + 1))
    assert (declared.status_code, declared.json()["code"]) == (413, "input")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * 4096

    streamed = shop.call("POST", "/v1/purchases", content=chunks())
    assert (streamed.status_code, streamed.json()["code"]) == (413, "input")
    small = shop.call("POST", "/v1/purchases", content=b'{"purchase_id": "c"}')
    assert small.status_code == 422


def test_the_worker_factory_opens_the_installation(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:  # fmt: skip
    from stsvend.server import asgi
    from stsvend.store.errors import SchemaError

    monkeypatch.setenv("STSVEND_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("STSVEND_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(SchemaError, match="run `stsvend init` first"):
        asgi.app()  # no store there yet: refused, as the CLI refuses it
