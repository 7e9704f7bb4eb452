"""The sale-point server's answers, typed: frozen values built from the JSON bodies.

A purchase's body is the sale's receipt document (the CLI's ``vend --json``) with its
``sale_point`` part (vendor, tender, commission, float left): it is read by the one receipt codec
(:func:`stsvend.services.receipt_codec.decode`), so the receipt a client holds is the very
:class:`~stsvend.services.receipt_model.SaleReceipt` a local sale returns, and the CLI renders
both the same way.  Every answer keeps its raw document (``raw``) too.

>>> doc = {"kind": "credit", "request_id": "p-1", "at": "2026-01-01T08:00:00+00:00",
...        "local_time": "2026-01-01T10:00:00+02:00", "operator": "TILL-1", "terminal": "TILL-1",
...        "test": True, "utility": "City Power", "tax_number": "VAT-1",
...        "meter": {"drn": "01000000017", "iin": "600727"}, "units": 330, "receipt": 7,
...        "tokens": [{"label": "Credit", "digits": "1" * 20, "class": 0, "subclass": 0,
...                    "purpose": "sale"},
...                   {"label": "Key change 1 of 2", "digits": "2" * 20, "class": 2,
...                    "subclass": 3, "purpose": "key_change"}],
...        "replayed": False, "sale_point": {"vendor": "SHOP1", "tender": "cash",
...        "currency": "ZAR", "commission": 150, "float_left": 20000}}
>>> bought = Purchase.from_doc(doc)
>>> bought.purchase_id, bought.number, bought.units, bought.commission, bought.replayed
('p-1', 7, 330, 150, False)
>>> [t.label for t in bought.tokens]
['Key change 1 of 2', 'Credit']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from attrs import frozen

from stsvend.services.receipt_codec import StoredAnswerError, decode
from stsvend.services.receipt_model import Breakdown, SaleReceipt, TokenEntry
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["Advice", "AnswerError", "Purchase"]


class AnswerError(ValueError):
    """A body that is not the answer it should be (a proxy's page, a truncated document)."""


def _raw(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@frozen
class Purchase:
    """A purchase as the server recorded it (also a copy of a receipt, ``receipt.copy``)."""

    #: The client's purchase id (the receipt's request id).
    purchase_id: str
    #: The receipt, typed as a local sale's (its ``sale_point``: vendor, tender, commission,
    #: float left).
    receipt: SaleReceipt
    #: True: the server answered a repeat of this id with its stored answer (nothing sold again).
    replayed: bool
    #: The body as sent.
    raw: dict[str, Any] = attrs.field(converter=_raw, eq=False, repr=False)

    @classmethod
    def from_doc(cls, doc: Any) -> Purchase:
        """Read a purchase (or receipt) body; :class:`AnswerError` if it is not one."""
        if not isinstance(doc, Mapping):
            raise AnswerError(f"a receipt is a JSON object, not {type(doc).__name__}")
        try:
            receipt = decode(doc)
        except StoredAnswerError as exc:
            raise AnswerError(exc.message) from None
        return cls(receipt.request_id, receipt, bool(receipt.replayed), raw=doc)

    @property
    def vendor(self) -> str | None:
        """The vendor that sold it (None: not a sale-point sale)."""
        point = self.receipt.sale_point
        return None if point is None else point.vendor

    @property
    def terminal(self) -> str:
        """The terminal that sold it (``VENDOR/TERMINAL``)."""
        return self.receipt.terminal

    @property
    def tender(self) -> str | None:
        """How the customer paid (cash, card, mobile …)."""
        point = self.receipt.sale_point
        return None if point is None else point.tender

    @property
    def commission(self) -> int | None:
        """The vendor's commission on it, minor units."""
        point = self.receipt.sale_point
        return None if point is None else point.commission

    @property
    def float_left(self) -> int | None:
        """The vendor's float just after it, minor units."""
        point = self.receipt.sale_point
        return None if point is None else point.float_left

    @property
    def number(self) -> int:
        """The receipt number."""
        return self.receipt.number

    @property
    def tokens(self) -> tuple[TokenEntry, ...]:
        """The tokens to enter, in order: key change tokens first (the meter must take them
        before a credit token made under its new key)."""
        tokens = self.receipt.tokens
        return tuple(sorted(tokens, key=lambda t: t.purpose is not TokenPurpose.KEY_CHANGE))

    @property
    def units(self) -> int | None:
        """The units issued, tenths of the meter's unit."""
        return self.receipt.units

    @property
    def breakdown(self) -> Breakdown | None:
        """Where the money went (a credit purchase)."""
        return self.receipt.money


@frozen
class Advice:
    """A confirmation or reversal advice and what became of it.

    ``state`` is the server's (``confirmed``, ``reversed``) once it answered; ``pending``
    while the advice waits in the outbox to be sent again; ``failed`` when the server refused
    it for good (``code`` says why).
    """

    purchase_id: str
    #: confirmation or reversal.
    advice: str
    state: str
    #: A reversal's refund and the float after it, minor units (when the server answered).
    refund: int | None = None
    float_left: int | None = None
    #: The refusal's code (state failed).
    code: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, converter=_raw, eq=False, repr=False)

    @property
    def delivered(self) -> bool:
        """The server has given its final answer (accepted or refused)."""
        return self.state != "pending"

    @classmethod
    def from_doc(cls, purchase_id: str, advice: str, doc: Any) -> Advice:
        """Read the server's answer to an advice; :class:`AnswerError` if it is not one."""
        if not isinstance(doc, Mapping) or not isinstance(doc.get("state"), str):
            raise AnswerError("an advice's answer is a JSON object with its state")
        return cls(purchase_id, advice, doc["state"], doc.get("refund"), doc.get("float_left"),
                   raw=doc)  # fmt: skip
