"""The sale-point server's protection and operations view: rate limits, the throttle on failed
authentication, the JSON-lines access log with a request id, and ``GET /metrics``.

:func:`install_ops` puts it on the application; every terminal endpoint calls :func:`admit`
instead of authenticating by itself.  The limits' state and the counts are per worker process
(docs/server.md says what that means with several workers).

The access log is the logger ``stsvend.server.access``: one JSON object a line and request,
with the request id, method, path, status, duration, terminal key prefix, vendor and outcome.
It never holds a key, a token, a PIN, a header's value or a body.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from attrs import define
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stsvend.error_codes import CODES
from stsvend.server.limits import AuthThrottle, FailureWindow, RateLimited, RateLimiter
from stsvend.server.metrics import CONTENT_TYPE, REGISTRY, Sample, count, observe_request
from stsvend.server.metrics import token_matches as _token_matches
from stsvend.server.problems import MEDIA_TYPE, problem_of
from stsvend.services.context import Services
from stsvend.services.sessions import LOGIN_PATH, SESSION_HEADER, resume
from stsvend.services.terminals import TerminalIdentity, Unauthenticated, authenticate
from stsvend.store.repos import vendors as vendor_repo
from stsvend.store.repos.oplog import log_operation

__all__ = ["AUTH_FAILED", "AccessLog", "Ops", "RequestNote", "admit", "install_ops", "metrics"]

#: The operation log's action for one address's failed authentications in one window.
AUTH_FAILED = "server.auth_failed"
_ACCESS = logging.getLogger("stsvend.server.access")
_LOG = logging.getLogger("stsvend.server")
_SCOPE_KEY = "stsvend.ops"
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_KEY_PREFIX = re.compile(r"stv_([0-9a-f]{12})_[0-9a-f]{32}")
# What must not reach the log even from a client that puts it in a URL: a key, a token's digits.
_SECRET_IN_PATH = re.compile(r"stv_[0-9A-Za-z]*_[^/?#]*|(?<![0-9A-Za-z])\d{16,}(?![0-9A-Za-z])")


@define
class RequestNote:
    """What a request's handling learns, for its access log line."""

    request_id: str
    terminal: str | None = None
    vendor: str | None = None


class Ops:
    """One application's limits (and their clock) and metrics token."""

    def __init__(self, svc: Services, *, rate: float, burst: int, failures: int,
                 window: float, metrics_token: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.svc = svc
        self.clock = clock
        self.limiter = RateLimiter(rate, burst)
        self.throttle = AuthThrottle(failures, window)
        self.metrics_token = metrics_token
        self._next_sweep = float("-inf")

    @classmethod
    def from_config(cls, svc: Services, *, clock: Callable[[], float] = time.monotonic) -> Ops:
        cfg = svc.config
        return cls(svc, rate=cfg.server_rate_per_second, burst=cfg.server_rate_burst,
                   failures=cfg.server_auth_failures, window=cfg.server_auth_window_seconds,
                   metrics_token=cfg.metrics_token, clock=clock)  # fmt: skip

    def check_address(self, address: str) -> None:
        """Refuse an address that failed too often in its current window."""
        wait = self.throttle.check(address, self.clock())
        if wait > 0:
            count("rate_limited", limit="address")
            raise RateLimited("too many failed authentications from this address: ask again "
                              "after the Retry-After header's seconds", wait=wait)  # fmt: skip

    def failed(self, address: str, operation: str, prefix: str | None) -> None:
        count("auth_failure", operation=operation)
        self.throttle.failed(address, self.clock(), prefix)

    async def sweep(self) -> None:
        """Write the failure windows that have ended to the operation log (at most once a
        second; a window's row waits for the next authentication or scrape after its end)."""
        now = self.clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        ended = self.throttle.closed(now)
        if ended:
            await run_in_threadpool(self.log_failures, ended, now)

    def log_failures(self, windows: list[FailureWindow], now: float) -> None:
        """One operation log row per address and window: how many failures, how many attempts
        were throttled, and which well-formed key prefixes were tried (never a key)."""
        at = self.svc.now()
        try:
            with self.svc.store.transaction() as conn:
                for window in windows:
                    began = at - timedelta(seconds=max(0.0, now - window.started))
                    log_operation(conn, at=at, operator="server", terminal=self.svc.config.terminal,
                                  action=AUTH_FAILED, outcome="refused", target=window.address,
                                  detail={"failures": window.failures,
                                          "throttled": window.throttled,
                                          "prefixes": list(window.prefixes),
                                          "since": began.isoformat(timespec="seconds"),
                                          "window_seconds": int(self.throttle.window)})  # fmt: skip
        except Exception as exc:  # the counts are lost, the requests are answered all the same
            _LOG.warning("cannot log %d failed authentication window(s): %s",
                         len(windows), type(exc).__name__)  # fmt: skip


def _ops(request: Request) -> Ops:
    ops: Ops = request.app.state.ops
    return ops


def _note(scope: Scope) -> RequestNote:
    note = scope.get(_SCOPE_KEY)
    return note if isinstance(note, RequestNote) else RequestNote("")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def admit(svc: Services, request: Request) -> TerminalIdentity:
    """The terminal calling, or a refusal: 429 ``rate_limited`` for an address that failed too
    often (its key not even looked at) or a key over its rate, 401 ``unauthenticated`` for no
    valid key (counted against the address).

    With a person's session in ``X-Stsvend-Session`` the terminal acts as that person
    (:func:`~stsvend.services.sessions.resume`), or 401 ``session_expired``: not counted
    against the address, since the key was right and a session's token cannot be guessed.
    ``POST /v1/sessions`` (a login) reads no session: it opens a new one whatever the client
    held before.
    """
    ops = _ops(request)
    address = _address(request)
    await ops.sweep()
    ops.check_address(address)
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    well_formed = _KEY_PREFIX.fullmatch(key)
    note = _note(request.scope)
    note.terminal = well_formed.group(1) if well_formed else None
    try:
        if scheme.lower() != "bearer" or not key:
            raise Unauthenticated()
        tls = request.scope.get("extensions", {}).get("tls", {})
        who = await run_in_threadpool(
            lambda: authenticate(svc, key, client_cert=tls.get("client_cert_sha256"))
        )
    except Unauthenticated:
        ops.failed(address, "terminal", note.terminal)
        raise
    note.terminal, note.vendor = who.prefix, who.vendor
    wait = ops.limiter.wait(who.prefix, ops.clock())
    if wait > 0:
        count("rate_limited", limit="key")
        raise RateLimited(wait=wait)
    token = request.headers.get(SESSION_HEADER)
    if token is None or (request.method == "POST" and request.url.path == LOGIN_PATH):
        return who
    return await run_in_threadpool(resume, svc, who, token.strip())


def _problem(code: str, detail: str, status: int, **headers: str) -> Response:
    answer, body = problem_of(code, detail, status)
    return JSONResponse(body, answer, media_type=MEDIA_TYPE, headers=headers or None)


def _floats(svc: Services) -> list[Sample]:
    samples: list[Sample] = []
    with svc.store.transaction() as conn:
        for vendor in vendor_repo.list_vendors(conn):
            if not vendor.active:
                continue
            total = vendor_repo.float_total(conn, vendor.id)
            labels = (("currency", vendor.currency), ("vendor", vendor.code))
            low = vendor.low_float is not None and total <= vendor.low_float
            samples += [("stsvend_vendor_float_minor", "", labels, float(total)),
                        ("stsvend_vendor_float_low", "", labels, float(low))]  # fmt: skip
    return samples


async def metrics(request: Request) -> Response:
    """``GET /metrics``: the exposition, for the bearer of the metrics token (404 when none is
    configured; failures count against the address like a terminal's)."""
    ops = _ops(request)
    if not ops.metrics_token:
        return _problem("not_found", "no such endpoint", 404)
    address = _address(request)
    await ops.sweep()
    try:
        ops.check_address(address)
    except RateLimited as refused:
        return _problem(refused.code, refused.message, 429,
                        **{"Retry-After": str(refused.retry_after)})  # fmt: skip
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _token_matches(ops.metrics_token, token.strip()):
        ops.failed(address, "metrics", None)
        return _problem("unauthenticated", "the metrics token is required", 401,
                        **{"WWW-Authenticate": "Bearer"})  # fmt: skip
    try:
        gauges = await run_in_threadpool(_floats, ops.svc)
    except Exception as exc:  # the counts are still worth having without the floats
        _LOG.warning("metrics: the vendors' floats cannot be read: %s", type(exc).__name__)
        gauges = []
    return Response(REGISTRY.render(gauges), media_type=CONTENT_TYPE)


def _outcome(status: int, problem_body: bytes) -> str:
    if problem_body:
        try:
            code = json.loads(problem_body).get("code")
        except (ValueError, AttributeError):
            code = None
        if isinstance(code, str) and code in CODES:
            return code
    return f"{status // 100}xx"


def _safe_path(path: str) -> str:
    """The path as logged: bounded, with anything shaped like a key or a token masked.

    >>> _safe_path("/v1/purchases/4f2a9c"), _safe_path("/v1/stv_0123456789ab_ffff/x")
    ('/v1/purchases/4f2a9c', '/v1/…/x')
    >>> _safe_path("/v1/tokens/12345678901234567890")
    '/v1/tokens/…'
    """
    return _SECRET_IN_PATH.sub("…", path[:200])


class AccessLog:
    """ASGI middleware: a request id for every request (the client's ``X-Request-Id`` if it is
    1-64 letters, digits and ``._:-``, else a new one), echoed in the answer's ``X-Request-Id``;
    one access log line and the request's metrics once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = Headers(scope=scope).get("x-request-id", "")
        note = RequestNote(given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex)
        scope[_SCOPE_KEY] = note
        answer: dict[str, Any] = {"status": 500, "problem": False}
        body = bytearray()

        async def send_noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = note.request_id
                answer["problem"] = headers.get("content-type", "").startswith(MEDIA_TYPE)
            elif message["type"] == "http.response.body" and answer["problem"] and len(body) < 4096:
                body.extend(message.get("body", b""))  # a problem is small: its code is read
            await send(message)

        try:
            await self.app(scope, receive, send_noting)
        finally:
            status = int(answer["status"])
            seconds = time.perf_counter() - started
            route = scope.get("route")
            operation = getattr(route, "path", None) or "unmatched"
            outcome = _outcome(status, bytes(body))
            observe_request(operation, outcome, seconds)
            client = scope.get("client")
            _ACCESS.info(json.dumps({
                "request_id": note.request_id, "method": scope.get("method", ""),
                "path": _safe_path(scope.get("path", "")), "operation": operation,
                "status": status, "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None, "terminal": note.terminal,
                "vendor": note.vendor, "outcome": outcome, "pid": os.getpid(),
            }, ensure_ascii=False))  # fmt: skip


def install_ops(app: Starlette, svc: Services, *, clock: Callable[[], float] = time.monotonic
                ) -> Ops:  # fmt: skip
    """Put the limits, the access log and ``GET /metrics`` on ``app`` (before it first runs).

    A test swaps ``app.state.ops`` for an :class:`Ops` of its own (another clock, other
    limits) before its first request.
    """
    ops = Ops.from_config(svc, clock=clock)
    app.state.ops = ops
    app.add_middleware(AccessLog)
    app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    shared = os.environ.get("STSVEND_METRICS_DIR", "")
    REGISTRY.share(Path(shared) if shared else None)
    return ops
