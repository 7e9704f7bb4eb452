"""Batches and the role-checked tokens over HTTP.

Batches (:mod:`stsvend.services.batches`): a terminal's open batch, closing it, a batch of the
vendor by number, and the vendor's day over all its terminals (a supervisor's terminal).
Tokens (:mod:`stsvend.services.sale_point_tokens`): engineering tokens, a meter's key change
tokens, emergency credit and free issue, each under the client's request id and answered like
a purchase: 201 when issued now, 200 with ``"replayed": true`` for a repeat of the same request.
Bodies are read strictly, every field a string (:func:`~stsvend.server.sales_routes.read_body`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stsvend.errors import InputError
from stsvend.server.sales_routes import read_body
from stsvend.services import batches, sale_point_tokens
from stsvend.services.context import Services
from stsvend.services.receipt_model import SaleReceipt
from stsvend.services.results import as_doc
from stsvend.services.terminals import TerminalIdentity

__all__ = ["BATCH_ROUTES"]

Handler = Callable[[Request, TerminalIdentity], Awaitable[Response]]


def _issued(receipt: SaleReceipt) -> Response:
    return JSONResponse(as_doc(receipt), status_code=200 if receipt.replayed else 201)


def _batch_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 18) or int(text) == 0:
        raise InputError("a batch number is a whole number above 0")
    return int(text)


def _routes(svc: Services) -> dict[str, tuple[str, Handler]]:
    async def current(_request: Request, who: TerminalIdentity) -> Response:
        return JSONResponse(as_doc(await run_in_threadpool(batches.current_batch, svc, who)))

    async def close(request: Request, who: TerminalIdentity) -> Response:
        if await request.body():
            await read_body(request, ())  # nothing to say but an empty object
        return JSONResponse(as_doc(await run_in_threadpool(batches.close_batch, svc, who)))

    async def one(request: Request, who: TerminalIdentity) -> Response:
        number = _batch_number(request.path_params["batch"])
        return JSONResponse(as_doc(await run_in_threadpool(batches.get_batch, svc, who, number)))

    async def day(request: Request, who: TerminalIdentity) -> Response:
        which = request.query_params.get("day")
        if which is None:
            raise InputError("give the day: /v1/batches?day=YYYY-MM-DD")
        return JSONResponse(as_doc(await run_in_threadpool(batches.vendor_day, svc, who, which)))

    async def engineering(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("request_id", "meter", "kind", "work_order"), ("value",))
        return _issued(await run_in_threadpool(
            lambda: sale_point_tokens.engineering(svc, who, **body)))  # fmt: skip

    async def key_change(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("request_id", "meter"))
        return _issued(await run_in_threadpool(
            lambda: sale_point_tokens.key_change(svc, who, **body)))  # fmt: skip

    async def emergency(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("request_id", "meter"))
        return _issued(await run_in_threadpool(
            lambda: sale_point_tokens.emergency(svc, who, **body)))  # fmt: skip

    async def free_issue(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("request_id", "meter", "units", "reason"))
        return _issued(await run_in_threadpool(
            lambda: sale_point_tokens.free_units(svc, who, **body)))  # fmt: skip

    # Order matters: the fixed paths before /v1/batches/{batch}.
    return {
        "/v1/batches/current": ("GET", current),
        "/v1/batches/close": ("POST", close),
        "/v1/batches/{batch}": ("GET", one),
        "/v1/batches": ("GET", day),
        "/v1/engineering": ("POST", engineering),
        "/v1/key-change": ("POST", key_change),
        "/v1/emergency-credit": ("POST", emergency),
        "/v1/free-issue": ("POST", free_issue),
    }


#: The routes' table: path → (method, handler), given the services.
BATCH_ROUTES = _routes
