"""Meter transports: the adapters of the ``meter`` group (``stsvend.meter_transports``) that
carry a sale's tokens into a connected meter and bring back what it answered.

A transport's factory is called as ``factory(settings)`` (its ``[adapters.meter.NAME]`` table or
``{}``) and returns a :class:`MeterTransport`.  :meth:`MeterTransport.deliver` enters the tokens
in order on the meter at ``port`` (stopping at the first one the meter refuses) and reads its
registers; a link that cannot be opened, a meter that does not answer in time, or a meter other
than the sale's is a :class:`TokensNotDelivered` (the sale itself stands: its receipt and any
reprint still carry the tokens).

>>> answer = TokenAnswer("credit", 1, "accept", True, "+25.0 kWh")
>>> MeterDelivery("01000000017", (answer,), {}, 0).delivered
True
>>> TokensNotDelivered("x").code
'not_delivered'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from attrs import frozen

from stsvend.errors import StsError

__all__ = [
    "MeterDelivery",
    "MeterTransport",
    "TokenAnswer",
    "TokensNotDelivered",
    "transport",
]


class TokensNotDelivered(StsError):
    """The tokens did not reach the meter (link, timeout, another meter, or a refusal)."""

    code = "not_delivered"
    default_message = "the tokens did not reach the meter"


@frozen
class TokenAnswer:
    """What the meter showed for one token."""

    #: The token's label on the receipt (credit, key change 1 of 2, ...).
    token: str
    #: The meter's result number (1 accept, 9 old, 10 used, 13 CRC, ...) and its name.
    code: int
    name: str
    accepted: bool
    #: The meter's own words.
    message: str


@frozen
class MeterDelivery:
    """The meter's answers, in entry order, and its registers after them."""

    #: The meter that answered (its DRN, as it announced itself).
    meter: str
    answers: tuple[TokenAnswer, ...]
    #: Register name → its reading as the meter gives it (value in tenths, display text).
    registers: Mapping[str, Any]
    #: Tokens not entered because an earlier one was refused.
    not_sent: int

    @property
    def delivered(self) -> bool:
        """Every token was entered and accepted."""
        return self.not_sent == 0 and all(a.accepted for a in self.answers)


@runtime_checkable
class MeterTransport(Protocol):
    """One way of reaching a meter."""

    def deliver(
        self, port: str, drn: str, tokens: Sequence[tuple[str, str]], *, timeout: float
    ) -> MeterDelivery:
        """Enter ``tokens`` ((label, 20 digits), in order) on the meter ``drn`` at ``port``;
        every wait is at most ``timeout`` seconds."""
        ...


def transport(name: str, settings: Mapping[str, Any] | None) -> MeterTransport:
    """The installed transport ``name``, made with its settings (an AdapterError if none)."""
    from stsvend.adapters.registry import make

    made: MeterTransport = make("meter", name, settings, MeterTransport, "a meter transport")
    return made
