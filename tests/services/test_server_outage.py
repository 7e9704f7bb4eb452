"""The server's answers when its database cannot be used: 503 problems, never a trace, never
the database's own message (the application in-process, over a real SQLite file)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from stsvend.server.app import create_app
from stsvend.services import terminals, vendors
from tests.services.helpers import Installation, installation


def _shop(tmp_path: Path) -> tuple[Installation, str, Path]:
    path = tmp_path / "store.db"
    with installation(f"sqlite:///{path}") as inst:
        vendors.add_vendor(inst.svc, inst.admin, "SHOP1", name="Corner shop")
        key = terminals.add_terminal(inst.svc, inst.admin, "SHOP1", "TILL-1").key
    return inst, key, path


def _get(inst: Installation, path: str, headers: dict[str, str]) -> httpx.Response:
    """One request to the application in this process (httpx's ASGI transport)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(inst.svc))
        async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(call())


def test_a_broken_table_is_503_without_the_database_message(tmp_path: Path) -> None:
    inst, key, _path = _shop(tmp_path)
    with inst.svc.store.transaction() as conn:
        conn.exec_driver_sql("DROP TABLE vendor_float")
    answer = _get(inst, "/v1/vendor", {"Authorization": f"Bearer {key}"})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert (body["code"], body["detail"]) == (
        "storage",
        "the database cannot be used now: ask again",
    )
    assert "vendor_float" not in answer.text and "Traceback" not in answer.text
    inst.close()


def test_health_is_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    inst, _key, path = _shop(tmp_path)
    inst.svc.store.dispose()
    path.rename(tmp_path / "moved.db")
    path.mkdir()  # the store's path is now a folder: no connection can open it
    answer = _get(inst, "/v1/health", {})
    assert (answer.status_code, answer.json()) == (503, {"status": "unavailable"})
    inst.close()
