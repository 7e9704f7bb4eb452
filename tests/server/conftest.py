"""A real ``stsvend serve`` per test module, on SQLite (one worker) and on PostgreSQL (two
workers, a database of its own), over a base installation with vendors and terminals.

The base is :func:`tests.cli.conftest.build` (meters M1-M6, accounts on M1-M4, an issued key
change on M4, vendor SHOP1 with terminal TILL-1) plus: SHOP1's float of R 1 000, its terminals
TILL-2 (clerk) and ENG-1 (engineer), and vendor SHOP2 (float R 100) with terminal POS-1.

A test module may set ``SERVER_ENV`` (a dict of environment variables) for its server's
settings (limits, the metrics token).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from attrs import frozen

from stsvend.services.context import Actor, Services
from tests.cli.conftest import STSVEND, Cli, build
from tests.store.pgdb import ENV as PG_ENV
from tests.store.pgdb import temporary_database

BACKENDS = ("sqlite", "postgresql")


#: Each running server's standard error, by process id.
_STDERR: dict[int, IO[str]] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@frozen
class Served:
    """A running server: its address, its installation and the terminals' keys."""

    base: str
    cli: Cli
    #: ``VENDOR/TERMINAL`` → its key.
    keys: dict[str, str]
    proc: subprocess.Popen[str]

    def call(self, method: str, path: str, terminal: str | None = "SHOP1/TILL-1",
             **kwargs: Any) -> httpx.Response:  # fmt: skip
        headers = dict(kwargs.pop("headers", {}))
        if terminal is not None:
            headers["Authorization"] = f"Bearer {self.keys[terminal]}"
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)


@contextmanager
def admin_and_supervisor(cli: Cli) -> Iterator[tuple[Services, Actor, Actor]]:
    """The installation's services, its admin and its supervisor, logged in (PINs hashed at
    the tests' low cost while the block runs)."""
    from stsvend.config import load_config
    from stsvend.services import auth, pin
    from stsvend.services.bootstrap import open_services
    from tests.cli.conftest import PINS

    env = cli.base_env(None)
    cost, pin._LOG2_N = pin._LOG2_N, 10
    svc = open_services(load_config(env), env=env)
    try:
        yield (svc, auth.login(svc, "admin", PINS["admin"]),
               auth.login(svc, "supervisor", PINS["supervisor"]))  # fmt: skip
    finally:
        svc.store.dispose()
        pin._LOG2_N = cost


def provision(cli: Cli) -> dict[str, str]:
    from stsvend.services import terminals, vendors

    with admin_and_supervisor(cli) as (svc, admin, boss):
        keys = {"SHOP1/TILL-1": terminals.rotate_key(svc, admin, "SHOP1", "TILL-1").key}
        keys["SHOP1/TILL-2"] = terminals.add_terminal(svc, admin, "SHOP1", "TILL-2").key
        keys["SHOP1/ENG-1"] = terminals.add_terminal(svc, admin, "SHOP1", "ENG-1",
                                                     role="engineer").key  # fmt: skip
        vendors.deposit(svc, boss, "SHOP1", "1000", reference="BANK-1")
        vendors.add_vendor(svc, admin, "SHOP2", name="Agent two", commission="1")
        keys["SHOP2/POS-1"] = terminals.add_terminal(svc, admin, "SHOP2", "POS-1").key
        vendors.deposit(svc, boss, "SHOP2", "100", reference="BANK-2")
    return keys


def start_server(
    cli: Cli, workers: int, port: int | None = None, **env: str
) -> tuple[subprocess.Popen[str], str]:
    """``stsvend serve`` on a free port (or ``port``); returns the process and its address once
    it answers its health check."""
    port = port or free_port()
    # A file, not a pipe: a pipe nobody reads fills with the access log after a few hundred
    # requests, and the server then hangs writing its next line.
    errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115  # closed by stop_server
    proc = subprocess.Popen(
        [*STSVEND, "serve", "--port", str(port), "--workers", str(workers)],
        env={**cli.base_env(None), **env}, stdout=subprocess.DEVNULL, stderr=errors, text=True,
    )  # fmt: skip
    _STDERR[proc.pid] = errors
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail(f"the server did not start: {_stderr(proc)}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[str]) -> str:
    """SIGTERM (graceful: requests in flight finish); the server's stderr."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return _stderr(proc)


def _stderr(proc: subprocess.Popen[str]) -> str:
    errors = _STDERR.pop(proc.pid)
    errors.seek(0)
    text = errors.read()
    errors.close()
    return text


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:  # fmt: skip
    with ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            if not os.environ.get(PG_ENV):
                pytest.skip(f"{PG_ENV} is not set (no PostgreSQL server for tests)")
            url = stack.enter_context(temporary_database("stsvend_srv"))
        root: Path = tmp_path_factory.mktemp(f"server-{request.param}")
        cli = build(Cli(root / "data", url))
        keys = provision(cli)
        env: dict[str, str] = getattr(request.module, "SERVER_ENV", {})
        proc, base = start_server(cli, 2 if url else 1, None, **env)
        try:
            yield Served(base, cli, keys, proc)
        finally:
            err = stop_server(proc)
            assert "Traceback" not in err, err[-3000:]
