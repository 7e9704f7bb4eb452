"""The request body limit, as plain ASGI middleware.

A body is refused with 413 before it is read when its ``Content-Length`` says it is too large,
and while it is read when it is sent in chunks without one: the application never holds more
than the limit of it.  (Starlette's ``BaseHTTPMiddleware`` would do the first only, at a cost
on every request.)
"""

from __future__ import annotations

import json
from typing import Any

from stsvend.errors import InputError
from stsvend.server.problems import MEDIA_TYPE, problem_of

__all__ = ["BodyLimit", "BodyTooLarge"]

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyTooLarge(InputError):
    """The request body is over the limit (answered 413)."""

    default_message = "the request body is too large"


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with a 413 problem document."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await _refuse(send)
                return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            if not started:
                await _refuse(send)


async def _refuse(send: Any) -> None:
    status, body = problem_of("input", BodyTooLarge.default_message, 413)
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
    ]})  # fmt: skip
    await send({"type": "http.response.body", "body": payload})
