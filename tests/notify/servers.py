"""Real local transports for the notice tests: an SMTP server (aiosmtpd), an HTTP SMS receiver
and a CRM contact service (both :mod:`http.server` in a thread), started and stopped by a test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["CrmService", "SmsReceiver", "SmtpServer", "crm_service", "sms_receiver", "smtp_server"]


@dataclass
class SmtpServer:
    """The mails the server took; ``refuse`` makes it answer DATA with that code; ``hold``
    makes it wait before answering DATA until ``release`` is set (a send that never ends)."""

    port: int = 0
    mails: list[Message] = field(default_factory=list)
    refuse: int | None = None
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    data_seen: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_seen.set()
        if self.hold:
            self.release.wait(30)  # blocks the server's loop: the client waits for the answer
        if self.refuse is not None:
            return f"{self.refuse} refused by the test"
        assert isinstance(envelope.content, bytes)
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    # aiosmtpd's controller checks its server by connecting to the port it was given: 0 will
    # not do, so a free one is found first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    handler = SmtpServer(port=_free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        handler.release.set()
        controller.stop()


@dataclass
class SmsReceiver:
    """The SMS posts the receiver took (body and headers); ``status`` is its answer, ``delay``
    seconds before it answers."""

    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"


@dataclass
class CrmService:
    """Contacts by customer number; ``status`` other than 200 answers every request so."""

    port: int = 0
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    status: int = 200
    asked: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, status: int, doc: Any) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def sms_receiver() -> Iterator[SmsReceiver]:
    state = SmsReceiver()

    class Handler(_Quiet):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            doc = json.loads(self.rfile.read(length))
            if state.delay:
                time.sleep(state.delay)
            if state.status == 200:
                state.posts.append({"body": doc, "headers": dict(self.headers.items())})
            self.answer(state.status, {"ok": state.status == 200})

    server, state.port = _serve(Handler)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def crm_service() -> Iterator[CrmService]:
    state = CrmService()

    class Handler(_Quiet):
        def do_GET(self) -> None:
            parts = self.path.split("/")
            # /api/customers/{number}/contact
            if len(parts) != 5 or parts[2] != "customers" or parts[4] != "contact":
                self.answer(404, {"error": "no such path"})
                return
            from urllib.parse import unquote

            number = unquote(parts[3])
            state.asked.append(number)
            if state.status != 200:
                self.answer(state.status, {"error": "test"})
            elif number in state.contacts:
                self.answer(200, state.contacts[number])
            else:
                self.answer(404, {"error": "unknown customer"})

    server, state.port = _serve(Handler)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
