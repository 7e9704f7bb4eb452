"""The ``http`` contact lookup: a customer's contact asked of the CRM at send time.

The CRM offers ``GET {base_url}/customers/{customer_number}/contact``, answering 200 with
``{"phone": "...", "email": "...", "language": "en"}`` (each may be absent or empty) or 404
when it has no contact for the customer.  Settings (``[adapters.contacts.http]``): ``base_url``
(required), ``token_env`` (the variable holding a bearer token, optional), ``timeout`` seconds
(10).  An answer is used for one send and forgotten; nothing of it is stored or logged.

>>> HttpContacts("http://crm.example/api/").url("C 1/2")
'http://crm.example/api/customers/C%201%2F2/contact'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from stsvend.adapters.notify.settings import number, secret, text
from stsvend.services.notices.model import Contact, ContactLookupError

__all__ = ["HttpContacts", "factory"]


class HttpContacts:
    """The CRM's contact API over HTTP."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def url(self, customer_number: str) -> str:
        return f"{self.base_url}/customers/{quote(customer_number, safe='')}/contact"

    def contact(self, customer_number: str) -> Contact | None:
        try:
            answer = self._client.get(self.url(customer_number))
        except httpx.HTTPError as exc:
            raise ContactLookupError(f"the CRM cannot be reached: {type(exc).__name__}") from None
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise ContactLookupError(f"the CRM answered HTTP {answer.status_code}")
        try:
            doc = answer.json()
        except ValueError:
            raise ContactLookupError("the CRM's answer is not JSON") from None
        if not isinstance(doc, dict):
            raise ContactLookupError("the CRM's answer is not a JSON object")

        def field(name: str) -> str:
            value = doc.get(name)
            return value if isinstance(value, str) else ""

        return Contact(field("phone"), field("email"), field("language"))

    def close(self) -> None:
        self._client.close()


def factory(settings: Mapping[str, Any]) -> HttpContacts:
    return HttpContacts(text(settings, "base_url"), token=secret(settings, "token_env"),
                        timeout=float(number(settings, "timeout", 10.0)))  # fmt: skip


factory.description = "contacts from the CRM over HTTP, at send time"  # type: ignore[attr-defined]
factory.settings_required = ("base_url",)  # type: ignore[attr-defined]
