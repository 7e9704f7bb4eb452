"""The sale-point server's ASGI application (Starlette).

Every endpoint but ``GET /v1/health`` needs a terminal's key (``Authorization: Bearer
stv_…``), checked in constant time (:func:`stsvend.services.terminals.authenticate`); the
vending services are synchronous and run in the server's thread pool.  Every refusal is a
problem document (:mod:`stsvend.server.problems`); an error the server did not expect is a
500 without its cause, and a database that cannot be used is a 503 (the outcome is unknown to
the client, which asks again).

Endpoints:

* ``GET /v1/health`` — ``{"status": "ok"}`` when the database answers, else 503; no credentials,
  nothing else revealed;
* ``GET /v1/openapi.json`` — the API's description, made by :mod:`stsvend.server.api_spec`
  (the same as ``docs/openapi.json``);
* ``GET /v1/vendor`` — the calling terminal's vendor and its float;
* the sale-point operations of :mod:`stsvend.server.sales_routes` (meter lookup, trial,
  purchase, fetch result, reprint);
* the batches and the tokens besides credit of :mod:`stsvend.server.batch_routes`;
* the advices and the statement of :mod:`stsvend.server.advice_routes`;
* a person's session, log in and out, of :mod:`stsvend.server.session_routes`;
* an installer's work-order acknowledgements of :mod:`stsvend.server.workorder_routes`.

Every one of them is declared in :mod:`stsvend.server.api_endpoints`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stsvend.errors import StsError
from stsvend.server import metrics
from stsvend.server.advice_routes import ADVICE_ROUTES
from stsvend.server.batch_routes import BATCH_ROUTES
from stsvend.server.body_limit import BodyLimit, BodyTooLarge
from stsvend.server.limits import RateLimited
from stsvend.server.ops import admit, install_ops
from stsvend.server.problems import MEDIA_TYPE, internal_problem, problem, problem_of
from stsvend.server.sales_routes import SALE_ROUTES
from stsvend.server.session_routes import SESSION_ROUTES
from stsvend.server.workorder_routes import WORKORDER_ROUTES
from stsvend.services.context import Services
from stsvend.services.results import as_doc
from stsvend.services.terminals import TerminalIdentity, vendor_float
from stsvend.store.errors import StorageError
from stsvend.vending.errors import PermissionDenied
from stsvend.vending.roles import Role

__all__ = ["MAX_BODY_BYTES", "create_app", "openapi_document"]

#: The largest request body accepted (a purchase is a few hundred bytes).
MAX_BODY_BYTES = 16 * 1024
_LOG = logging.getLogger("stsvend.server")


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI description, as shipped with the package."""
    text = resources.files("stsvend.server").joinpath("openapi.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _problem_response(status: int, body: dict[str, Any], **headers: str) -> Response:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers or None)


def _refusal(error: StsError) -> Response:
    status, body = problem(error)
    metrics.count("refusal", code=error.code)
    if isinstance(error, StorageError) and status >= 500:
        status, body = problem_of(error.code, "the database cannot be used now: ask again", 503)
    if isinstance(error, BodyTooLarge):
        status, body = problem_of(error.code, error.message, 413)
    extra = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(error, RateLimited):
        extra["Retry-After"] = str(error.retry_after)
    return _problem_response(status, body, **extra)


Handler = Callable[[Request, TerminalIdentity], Awaitable[Response]]


def _terminal_endpoint(
    svc: Services, handler: Handler, *, installer: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate the terminal, run ``handler``, answer every error as a problem.

    An installer's key is admitted only to the work-order routes (``installer``): every other
    endpoint refuses it before its handler runs, reads included (receipts hold token digits).
    """

    async def endpoint(request: Request) -> Response:
        try:
            who = await admit(svc, request)  # limits and the failed-authentication throttle
            if who.role is Role.INSTALLER and not installer:
                raise PermissionDenied("an installer's key only acknowledges work orders")
            return await handler(request, who)
        except StsError as error:
            return _refusal(error)
        except Exception:  # the cause goes to the server's log, never to the client
            _LOG.exception("unexpected error in %s %s", request.method, request.url.path)
            return _problem_response(*internal_problem())

    return endpoint


def create_app(svc: Services) -> Starlette:
    """The application over ``svc`` (one per worker process)."""

    async def health(_request: Request) -> Response:
        def ping() -> None:
            with svc.store.transaction() as conn:
                conn.exec_driver_sql("SELECT 1")

        try:
            await run_in_threadpool(ping)
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def openapi(_request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def vendor(_request: Request, who: TerminalIdentity) -> Response:
        info = await run_in_threadpool(vendor_float, svc, who)
        return JSONResponse(as_doc(info))

    app = Starlette(
        middleware=[Middleware(BodyLimit, limit=MAX_BODY_BYTES)],
        routes=[
            Route("/v1/health", health, methods=["GET"]),
            Route("/v1/openapi.json", openapi, methods=["GET"]),
            Route("/v1/vendor", _terminal_endpoint(svc, vendor), methods=["GET"]),
            *(
                Route(path, _terminal_endpoint(svc, handler), methods=[method])
                for table in (SALE_ROUTES, BATCH_ROUTES, ADVICE_ROUTES, SESSION_ROUTES)
                for path, (method, handler) in table(svc).items()
            ),
            *(
                Route(path, _terminal_endpoint(svc, handler, installer=True), methods=[method])
                for path, (method, handler) in WORKORDER_ROUTES(svc).items()
            ),
        ],
    )

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return _problem_response(*problem_of("not_found", "no such endpoint", 404))

    async def not_allowed(_request: Request, exc: Exception) -> Response:
        # RFC 9110: a 405 names the methods allowed (the route's, from Starlette: a set's order)
        allow = (getattr(exc, "headers", None) or {}).get("Allow", "")
        methods = sorted(method.strip() for method in allow.split(",") if method.strip())
        answer = _problem_response(*problem_of("input", "this endpoint takes another method", 405))
        if methods:
            answer.headers["Allow"] = ", ".join(methods)
        return answer

    install_ops(app, svc)  # access log, request ids, rate limits, GET /metrics
    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, not_allowed)
    return app
