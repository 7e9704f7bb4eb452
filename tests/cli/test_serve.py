"""``stsvend serve`` as a process on loopback, called over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import STSVEND, Cli

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(cli: Cli) -> Iterator[tuple[str, Cli]]:
    port = _free_port()
    proc = subprocess.Popen(
        [*STSVEND, "serve", "--port", str(port)], env=cli.base_env(None),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate(timeout=5)
                pytest.fail(f"the server did not start: {out}\n{err}")
            time.sleep(0.2)
        yield base, cli
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    # uvicorn finishes the requests in flight, then ends by the signal it was sent.
    assert proc.returncode in (0, -signal.SIGTERM), proc.returncode
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


def test_health_openapi_and_a_terminal_reading_its_float(server: tuple[str, Cli]) -> None:
    base, cli = server
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    cli.ok("vendors", "deposit", "SHOP1", "250", "--reference", "B-9", role="supervisor")
    health = httpx.get(f"{base}/v1/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    spec = httpx.get(f"{base}/v1/openapi.json").json()
    assert spec == json.loads((DOCS / "openapi.json").read_text("utf-8"))
    mine = httpx.get(f"{base}/v1/vendor", headers={"Authorization": f"Bearer {key}"})
    assert mine.status_code == 200, mine.text
    assert (mine.json()["code"], mine.json()["float"]) == ("SHOP1", 25_000)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer stv_000000000000_" + "0" * 32]
)
def test_no_valid_key_is_401_problem_json_revealing_nothing(
    server: tuple[str, Cli], header: str | None
) -> None:
    base, _cli = server
    answer = httpx.get(f"{base}/v1/vendor", headers={} if header is None else
                       {"Authorization": header})  # fmt: skip
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["www-authenticate"] == "Bearer"
    body = answer.json()
    assert (body["code"], body["status"], body["type"]) == (
        "unauthenticated",
        401,
        "urn:stsvend:problem:unauthenticated",
    )
    assert "Traceback" not in answer.text and "SHOP1" not in answer.text


def test_unknown_paths_methods_and_oversized_bodies_are_problems(server: tuple[str, Cli]) -> None:
    base, _cli = server
    missing = httpx.get(f"{base}/v1/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = httpx.post(f"{base}/v1/health")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "input")
    big = httpx.post(f"{base}/v1/vendor", content=b"x" * 20_000)
    assert (big.status_code, big.json()["code"]) == (413, "input")


def test_sqlite_serves_one_worker(cli: Cli) -> None:
    if cli.database_url:
        pytest.skip("a PostgreSQL store may have several workers")
    refused = cli.run("serve", "--workers", "2", role=None)
    assert refused.returncode == 3 and "SQLite serves one worker" in refused.stderr
