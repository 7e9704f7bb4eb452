"""The ``http-sms`` channel: notices as SMS through an HTTP gateway (JSON POST, :mod:`httpx`).

Settings (``[adapters.notify.http-sms]``): ``url`` (required), ``token_env`` (the variable
holding the gateway's bearer token), ``sender`` (the SMS sender id, optional), ``timeout``
seconds (10).  The request is ``POST url`` with ``{"to", "text", "message_id"[, "sender"]}``
and the headers ``Idempotency-Key: MESSAGE-ID`` and ``Authorization: Bearer TOKEN``: a gateway
that honours the key sends a repeat once.  2xx is taken; 409 (a repeat the gateway already
has) too; 400-499 else (but 408, 429) is a permanent refusal (a dead letter at once); a 5xx, a
408, a 429, a timeout or a lost connection fails the attempt (tried again with backoff).

>>> SmsChannel("http://gw.example/sms").payload(
...     Outgoing("stsvend.sale.7.http-sms", "C-1", "+27825550100", "S", "Body\\n"))["to"]
'+27825550100'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from stsvend.adapters.notify.settings import number, secret, text
from stsvend.services.notices.model import DeliveryError, Outgoing

__all__ = ["SmsChannel", "factory"]

_RETRIED = {408, 429}


class SmsChannel:
    """Posts each notice to the gateway (one HTTP client kept for the channel's life)."""

    address = "phone"

    def __init__(self, url: str, *, token: str | None = None, sender: str | None = None,
                 timeout: float = 10.0) -> None:  # fmt: skip
        self.url, self.sender = url, sender
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def payload(self, message: Outgoing) -> dict[str, str]:
        doc = {"to": message.to, "text": message.body.strip(), "message_id": message.message_id}
        if self.sender:
            doc["sender"] = self.sender
        return doc

    def send(self, message: Outgoing) -> None:
        try:
            answer = self._client.post(self.url, json=self.payload(message),
                                       headers={"Idempotency-Key": message.message_id})  # fmt: skip
        except httpx.TimeoutException:
            raise DeliveryError("the SMS gateway did not answer in time") from None
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            raise DeliveryError(f"the SMS gateway cannot be reached: {reason}") from None
        status = answer.status_code
        if 200 <= status < 300 or status == 409:
            return
        permanent = 400 <= status < 500 and status not in _RETRIED
        raise DeliveryError(f"the SMS gateway answered HTTP {status}", permanent=permanent)

    def close(self) -> None:
        self._client.close()


def factory(settings: Mapping[str, Any]) -> SmsChannel:
    sender = settings.get("sender")
    return SmsChannel(text(settings, "url"), token=secret(settings, "token_env"),
                      sender=None if sender is None else text(settings, "sender"),
                      timeout=float(number(settings, "timeout", 10.0)))  # fmt: skip


factory.description = "SMS through an HTTP gateway (JSON POST)"  # type: ignore[attr-defined]
factory.settings_required = ("url",)  # type: ignore[attr-defined]
