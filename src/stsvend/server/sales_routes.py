"""The sale-point operations over HTTP: meter lookup, trial, purchase, fetch result, reprint.

Each endpoint reads its JSON body strictly (:func:`read_body`: an object, the named fields
only, each a string), calls one service of :mod:`stsvend.services.sale_point` in the thread
pool, and answers the service's typed result as JSON (:func:`~stsvend.services.results.as_doc`).
A purchase answers 201 when it issued now and 200 when it is the stored answer of an earlier
request with the same purchase id (``"replayed": true``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stsvend.errors import InputError
from stsvend.server import metrics
from stsvend.services import sale_point
from stsvend.services.context import Services
from stsvend.services.results import as_doc
from stsvend.services.terminals import TerminalIdentity

__all__ = ["SALE_ROUTES", "read_body"]

Handler = Callable[[Request, TerminalIdentity], Awaitable[Response]]


async def read_body(
    request: Request, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """The request's JSON object: every ``required`` field, any ``optional`` one, each a
    string, and nothing else."""
    raw = await request.body()
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not JSON") from None
    if not isinstance(doc, Mapping):
        raise InputError("the request body is a JSON object")
    unknown = sorted(set(doc) - set(required) - set(optional))
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)[:200]}")
    missing = [name for name in required if name not in doc]
    if missing:
        raise InputError(f"missing field(s): {', '.join(missing)}")
    for name, value in doc.items():
        if not isinstance(value, str):
            raise InputError(f"{name} is a string")
    return dict(doc)


def _json(doc: Any, status: int = 200) -> Response:
    return JSONResponse(doc, status_code=status)


def _routes(svc: Services) -> dict[str, tuple[str, Handler]]:
    async def lookup(request: Request, who: TerminalIdentity) -> Response:
        meter = request.path_params["meter"]
        return _json(as_doc(await run_in_threadpool(sale_point.lookup, svc, who, meter)))

    async def trial(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("meter", "amount"))
        result = await run_in_threadpool(
            lambda: sale_point.trial(svc, who, meter=body["meter"], amount=body["amount"])
        )
        return _json(as_doc(result))

    async def purchase(request: Request, who: TerminalIdentity) -> Response:
        body = await read_body(request, ("purchase_id", "meter", "amount"), ("tender",))
        receipt = await run_in_threadpool(
            lambda: sale_point.purchase(
                svc, who, purchase_id=body["purchase_id"], meter=body["meter"],
                amount=body["amount"], tender=body.get("tender", "cash"),
            )
        )  # fmt: skip
        metrics.count("replay" if receipt.replayed else "vend", vendor=who.vendor)
        return _json(as_doc(receipt), 200 if receipt.replayed else 201)

    async def fetch(request: Request, who: TerminalIdentity) -> Response:
        purchase_id = request.path_params["purchase_id"]
        return _json(as_doc(await run_in_threadpool(sale_point.fetch, svc, who, purchase_id)))

    async def reprint(request: Request, who: TerminalIdentity) -> Response:
        text = request.path_params["number"]
        if text == "last":
            number = None
        elif text.isascii() and text.isdigit() and len(text) <= 18:
            number = int(text)
        else:
            raise InputError("a receipt number is a whole number, or last")
        return _json(as_doc(await run_in_threadpool(sale_point.reprint, svc, who, number)))

    return {
        "/v1/meters/{meter}": ("GET", lookup),
        "/v1/trial": ("POST", trial),
        "/v1/purchases": ("POST", purchase),
        "/v1/purchases/{purchase_id}": ("GET", fetch),
        "/v1/receipts/{number}": ("GET", reprint),
    }


#: The routes' table: path → (method, handler), given the services.
SALE_ROUTES = _routes
