"""A Python client of the sale-point API (``stsvend serve``), for vendors' terminals.

Install it with the ``client`` extra (``pip install 'stsvend[client]'``: httpx).  The values
(:mod:`~stsvend.client.answers`), errors (:mod:`~stsvend.client.errors`), outcome rules
(:mod:`~stsvend.client.outcome`) and outbox (:mod:`~stsvend.client.outbox`) load without
httpx; :class:`SalePointClient` (:mod:`~stsvend.client.api`) loads it when first named.
docs/client.md has a worked example.

>>> from stsvend.client import OutcomeUnknown, ServerRefused
>>> OutcomeUnknown("p-1").code, ServerRefused("not_found", 404, "no such purchase").code
('outcome_unknown', 'not_found')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stsvend.client.answers import Advice, AnswerError, Purchase
from stsvend.client.errors import OutcomeUnknown, ServerRefused, ServerUnavailable
from stsvend.client.outbox import Outbox, OutboxEntry

if TYPE_CHECKING:
    from stsvend.client.api import SalePointClient, new_purchase_id

__all__ = [
    "Advice",
    "AnswerError",
    "Outbox",
    "OutboxEntry",
    "OutcomeUnknown",
    "Purchase",
    "SalePointClient",
    "ServerRefused",
    "ServerUnavailable",
    "new_purchase_id",
]


def __getattr__(name: str) -> object:
    # httpx loads with the client class, not with its values and errors.
    if name in ("SalePointClient", "new_purchase_id"):
        from stsvend.client import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
