"""A real HTTP server on loopback that answers from a script: each request gets the next
scripted answer (a status, a body, headers, after a delay), and every request is kept.

It is a server (``http.server``, in a thread), not a stand-in for httpx: the client under test
opens real connections, times out on real sockets and reads real bodies.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import field, frozen

__all__ = ["KEY", "Asked", "Script", "Step", "closed_port", "problem", "receipt_doc", "scripted"]

#: A terminal key of the right form (the scripted server checks it arrives, never its value).
KEY = "stv_0123456789ab_" + "c" * 32


@frozen
class Step:
    """One scripted answer: ``status`` with ``body`` (JSON; bytes as they are), after
    ``delay`` seconds; ``path`` (method and path) if the request must be that one."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(factory=dict)
    delay: float = 0.0
    path: str | None = None


@frozen
class Asked:
    """A request the server received."""

    method: str
    path: str
    body: Any
    authorization: str | None
    #: The ``X-Stsvend-Session`` header (a person's session), if sent.
    session: str | None = None


class Script:
    """The answers still to give, and the requests received."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.asked: list[Asked] = []
        self.lock = threading.Lock()

    def add(self, *steps: Step) -> None:
        with self.lock:
            self.steps += steps

    def next(self, asked: Asked) -> Step:
        with self.lock:
            self.asked.append(asked)
            if not self.steps:
                return Step(418, problem("script_ended", 418, f"no answer for {asked.path}"))
            step = self.steps.pop(0)
        if step.path is not None and step.path != f"{asked.method} {asked.path}":
            return Step(418, problem("script_mismatch", 418, f"{asked.method} {asked.path} "
                                     f"where {step.path} was scripted"))  # fmt: skip
        return step


def problem(code: str, status: int, detail: str) -> dict[str, Any]:
    return {"type": f"urn:stsvend:problem:{code}", "title": code, "status": status,
            "code": code, "detail": detail}  # fmt: skip


def receipt_doc(purchase_id: str, *, replayed: bool = False, number: int = 7) -> dict[str, Any]:
    """A purchase's answer as the server gives it: a credit receipt with a key change."""
    return {
        "kind": "credit", "request_id": purchase_id, "at": "2026-01-01T08:00:00+00:00",
        "local_time": "2026-01-01T10:00:00+02:00", "operator": "SHOP1/TILL-1",
        "terminal": "SHOP1/TILL-1",
        "test": True, "utility": "City Power", "tax_number": "VAT-4012345678",
        "meter": {"drn": "01000000017", "iin": "600727", "resource": "electricity",
                  "sgc": "123456", "krn": 1, "ti": 1, "key_type": 2, "ea": "07",
                  "base_date": 1993},
        "tokens": [
            {"label": "Key change 1 of 2", "digits": "2" * 20, "class": 2, "subclass": 3,
             "purpose": "key_change"},
            {"label": "Credit", "digits": "1" * 20, "class": 0, "subclass": 0,
             "purpose": "sale", "tid": 100, "base_date": 1993, "amount": 330},
        ],
        "key_change_first": True,
        "notes": [], "unit": "kWh", "contract": "C-1", "tariff": "FLAT", "units": 330,
        "money": {"currency": "ZAR", "tendered": 5000, "brought_forward": 0,
                  "lines": [{"kind": "energy", "amount": 5000, "units": 330, "block": 1,
                             "price": "1.500000"}],
                  "tax": 652, "tax_bp": 1500, "carried_forward": 0},
        "receipt": number, "replayed": replayed,
        "sale_point": {"vendor": "SHOP1", "tender": "cash", "currency": "ZAR",
                       "commission": 150, "float_left": 20_000},
    }  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        step = self.server.script.next(
            Asked(
                self.command,
                self.path,
                body,
                self.headers.get("authorization"),
                self.headers.get("x-stsvend-session"),
            )
        )
        if step.delay:
            time.sleep(step.delay)
        payload = step.body if isinstance(step.body, bytes) else json.dumps(step.body).encode()
        try:
            self.send_response(step.status)
            kind = "application/problem+json" if step.status >= 400 else "application/json"
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(payload)))
            for name, value in step.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting: that was the point of the delay
            pass

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script


@contextmanager
def scripted(*steps: Step) -> Iterator[tuple[str, Script]]:
    """A scripted server on a free loopback port until the block ends: (its URL, its script)."""
    script = Script(list(steps))
    server = _Server(script)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> str:
    """The URL of a loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
