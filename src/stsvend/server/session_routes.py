"""A person's session at the calling terminal over HTTP: log in, log out.

``POST /v1/sessions`` takes ``{"username", "pin"}`` (and ``"new_pin"`` when the person must
choose one) with the terminal's key, and answers 201 with the session's token, shown this once
(:func:`~stsvend.services.sessions.open_session`); the requests that carry it in
``X-Stsvend-Session`` act as the person.  ``DELETE /v1/sessions/current`` ends the session the
request carries (204).  The body is read strictly (:func:`~stsvend.server.sales_routes.read_body`)
and never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stsvend.server.sales_routes import read_body
from stsvend.services import sessions
from stsvend.services.context import Services
from stsvend.services.results import as_doc
from stsvend.services.terminals import TerminalIdentity

__all__ = ["SESSION_ROUTES"]

Handler = Callable[[Request, TerminalIdentity], Awaitable[Response]]


def _routes(svc: Services) -> dict[str, tuple[str, Handler]]:
    async def log_in(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("username", "pin"), ("new_pin",))
        opened = await run_in_threadpool(
            lambda: sessions.open_session(svc, who, body["username"], body["pin"],
                                          new_pin=body.get("new_pin"))
        )  # fmt: skip
        return JSONResponse(as_doc(opened), status_code=201, headers={"Cache-Control": "no-store"})

    async def log_out(_request: Request, who: TerminalIdentity) -> Response:
        await run_in_threadpool(sessions.end_session, svc, who)
        return Response(status_code=204)

    return {
        sessions.LOGIN_PATH: ("POST", log_in),
        "/v1/sessions/current": ("DELETE", log_out),
    }


#: The routes' table: path → (method, handler), given the services.
SESSION_ROUTES = _routes
