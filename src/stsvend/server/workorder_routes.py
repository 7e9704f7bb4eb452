"""An installer's acknowledgements of work orders over HTTP.

* ``POST /v1/workorders/{order_id}/acks`` ``{"event": "started"}``, ``{"event":
  "supply-interrupted"}`` or ``{"event": "completed", "meter": …, "model": …, "installed_on":
  "YYYY-MM-DD", "removed_on": …, "old_meter_credit": "12.5"}``.

Only a key of role ``installer`` may call it (403 ``permission`` for any other), and an installer
key may call nothing else.  An acknowledgement the order has had already answers 200 again with
``"replayed": true``; an order the store does not know is 404; one whose state does not allow the
event, or a completion with other data than the first, is 409 ``workorder``.  The service is
:func:`stsvend.services.workorders.acknowledge`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stsvend.server.sales_routes import read_body
from stsvend.services.context import Services
from stsvend.services.results import as_doc
from stsvend.services.terminals import TerminalIdentity
from stsvend.services.workorders import acknowledge

__all__ = ["ACK_FIELDS", "WORKORDER_ROUTES"]

Handler = Callable[[Request, TerminalIdentity], Awaitable[Response]]
#: The completion's optional fields.
ACK_FIELDS = ("meter", "model", "installed_on", "removed_on", "old_meter_credit")


def _routes(svc: Services) -> dict[str, tuple[str, Handler]]:
    async def ack(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("event",), ACK_FIELDS)
        order_id = request.path_params["order_id"]
        fields: dict[str, str | None] = {name: body.get(name) for name in ACK_FIELDS}
        answer = await run_in_threadpool(acknowledge, svc, who, order_id, body["event"], fields)
        return JSONResponse(as_doc(answer))

    return {"/v1/workorders/{order_id}/acks": ("POST", ack)}


#: The routes' table: path → (method, handler), given the services.
WORKORDER_ROUTES = _routes
