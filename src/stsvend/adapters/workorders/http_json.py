"""The ``http-json`` work-order route: an order as JSON, POSTed to the installer's system.

Entry point ``http-json`` of group ``stsvend.workorder_routes``; settings (optional) in
``[adapters.workorder.http-json]``: ``timeout_seconds`` (default 10).  Each message is sent
with its stable id in the ``X-Stsvend-Message-Id`` header (and ``Idempotency-Key``, the same
value): delivery is at least once, and the receiver answers a message it has already taken with
a 2xx again.  Any answer but a 2xx, a timeout or a connection failure is this attempt's failure
(:class:`RouteDeliveryError`); the outbox retries with backoff.

>>> factory({}).timeout
10.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsvend.errors import StsError

__all__ = ["HEADER", "HttpJsonRoute", "RouteDeliveryError", "factory"]

#: The header that carries the message id.
HEADER = "X-Stsvend-Message-Id"


class RouteDeliveryError(StsError):
    """The installer's system did not take the message (it is retried)."""

    code = "workorder_delivery"
    default_message = "the installer's system did not take the work order"


class HttpJsonRoute:
    """Sends work orders over one HTTP client (its connections are kept open)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._client: Any = None

    def send(self, url: str, message_id: str, body: str) -> None:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        headers = {"Content-Type": "application/json", HEADER: message_id,
                   "Idempotency-Key": message_id}  # fmt: skip
        try:
            answer = self._client.post(url, content=body.encode("utf-8"), headers=headers)
        except httpx.TimeoutException:
            raise RouteDeliveryError(f"{url}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise RouteDeliveryError(f"{url}: {type(exc).__name__}") from None
        if not 200 <= answer.status_code < 300:
            raise RouteDeliveryError(f"{url} answered {answer.status_code}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def factory(settings: Mapping[str, Any] | None = None) -> HttpJsonRoute:
    """The route from its ``[adapters.workorder.http-json]`` table (or none)."""
    raw = (settings or {}).get("timeout_seconds", 10)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 300:
        from stsvend.adapters.registry import AdapterError

        raise AdapterError("[adapters.workorder.http-json] timeout_seconds is 0-300 seconds")
    return HttpJsonRoute(float(raw))


factory.description = "work orders as JSON over HTTP POST (httpx), message id in a header"  # type: ignore[attr-defined]
