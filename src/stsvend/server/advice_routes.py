"""A vendor's advices and money views over HTTP: confirm and reverse a purchase, the statement.

* ``POST /v1/purchases/{purchase_id}/confirm`` (body ``{}`` or none): the token was delivered;
* ``POST /v1/purchases/{purchase_id}/reverse`` ``{"reason": "…"}``: it was not, so the float
  gets the money back under the vendor reversal policy (docs/server.md, *Reversal policy*);
* ``GET /v1/statement?since=YYYY-MM-DD&until=YYYY-MM-DD``: the calling terminal's vendor's
  float statement (both days default to today; at most 31 days).

Both advices answer 200 with the same document every time they are sent again (``"replayed"``
true after the first); a purchase id the vendor never sent is 404 ``not_found``.  The services
are :mod:`stsvend.services.advices` and :mod:`stsvend.services.vendor_statements`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stsvend.errors import InputError
from stsvend.server.sales_routes import read_body
from stsvend.services import advices
from stsvend.services.context import Services
from stsvend.services.results import as_doc
from stsvend.services.terminals import TerminalIdentity
from stsvend.services.vendor_statements import terminal_statement

__all__ = ["ADVICE_ROUTES"]

Handler = Callable[[Request, TerminalIdentity], Awaitable[Response]]
_STATEMENT_PARAMETERS = frozenset({"since", "until"})


def _routes(svc: Services) -> dict[str, tuple[str, Handler]]:
    async def confirm(request: Request, who: TerminalIdentity) -> Response:
        if await request.body():  # nothing, or an empty object
            await read_body(request, ())
        purchase_id = request.path_params["purchase_id"]
        answer = await run_in_threadpool(advices.confirm, svc, who, purchase_id)
        return JSONResponse(as_doc(answer))

    async def reverse(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("reason",))
        purchase_id = request.path_params["purchase_id"]
        answer = await run_in_threadpool(advices.reverse, svc, who, purchase_id, body["reason"])
        return JSONResponse(as_doc(answer))

    async def statement(request: Request, who: TerminalIdentity) -> Response:
        query = request.query_params
        unknown = sorted(set(query) - _STATEMENT_PARAMETERS)
        if unknown:
            raise InputError(f"unknown parameter(s): {', '.join(unknown)[:200]}")
        if any(len(query.getlist(name)) > 1 for name in query):
            raise InputError("give each parameter once")
        made = await run_in_threadpool(
            lambda: terminal_statement(svc, who, since=query.get("since"),
                                       until=query.get("until"))
        )  # fmt: skip
        return JSONResponse(as_doc(made))

    return {
        "/v1/purchases/{purchase_id}/confirm": ("POST", confirm),
        "/v1/purchases/{purchase_id}/reverse": ("POST", reverse),
        "/v1/statement": ("GET", statement),
    }


#: The routes' table: path → (method, handler), given the services.
ADVICE_ROUTES = _routes
