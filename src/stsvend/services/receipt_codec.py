"""The stored answer of a sale: one codec, versioned.

A sale's answer (:class:`~stsvend.services.receipt_model.SaleReceipt`) is stored as JSON in
the sale row's ``result`` column; a repeated request id replays it and a reprint prints it
again, so every answer ever stored must keep decoding to the receipt first issued.

* **Version 2** (:func:`encode`): the answer's document (:func:`~stsvend.services.results.as_doc`)
  with ``"version": 2``.
* **Version 1**: the document as stored before the answer was typed, with no ``version``; its
  keys are the same as version 2's.

The version is part of the stored document only: the CLI's ``--json`` is ``as_doc`` of the
answer, without it.

>>> from stsvend.services.receipt_model import MeterDoc
>>> receipt = SaleReceipt("test", "r-1", "2026-01-01T08:00:00+00:00",
...     "2026-01-01T10:00:00+02:00", "ann", "T1", True, "U", "T-1", MeterDoc("0100", "600727"))
>>> doc = encode(receipt)
>>> doc["version"], doc["meter"]
(2, {'drn': '0100', 'iin': '600727'})
>>> decode(doc) == receipt, decode({k: v for k, v in doc.items() if k != "version"}) == receipt
(True, True)
>>> decode({**doc, "version": 9})
Traceback (most recent call last):
stsvend.services.receipt_codec.StoredAnswerError: a stored sale answer of version 9: this \
stsvend reads versions 1 and 2 (is the database newer than the code?)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsvend.services.receipt_model import (
    AccountCounters,
    Breakdown,
    BreakdownLine,
    KeyDataDoc,
    MeterDoc,
    MonthCounters,
    SalePoint,
    SaleReceipt,
    StateBefore,
    TokenEntry,
)
from stsvend.services.results import as_doc
from stsvend.store.errors import StorageError
from stsvend.vending.sale import LineKind
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["VERSION", "VERSIONS", "StoredAnswerError", "decode", "encode", "stored_form"]

#: The version :func:`encode` writes.
VERSION = 2
#: The versions :func:`decode` reads (1: the stored answers without a version).
VERSIONS = (1, 2)


class StoredAnswerError(StorageError):
    """A stored answer this code cannot read (a newer version, or not an answer at all)."""

    default_message = "a stored sale answer cannot be read"


def encode(receipt: SaleReceipt) -> dict[str, Any]:
    """The stored form of ``receipt``: its document and ``"version": 2``."""
    doc: dict[str, Any] = as_doc(receipt)
    doc["version"] = VERSION
    return doc


def stored_form(receipt: SaleReceipt) -> dict[str, Any]:
    """What a sale row keeps: :func:`encode` without the receipt number (the row's own id) and
    the replay mark (a replay's, not the sale's)."""
    doc = encode(receipt)
    doc.pop("receipt", None)
    doc.pop("replayed", None)
    return doc


def decode(doc: Mapping[str, Any]) -> SaleReceipt:
    """The receipt of a stored answer of any version :data:`VERSIONS` names."""
    if not isinstance(doc, Mapping):
        raise StoredAnswerError(f"a stored sale answer is a JSON object, not {type(doc).__name__}")
    version = doc.get("version", 1)
    if version not in VERSIONS:
        raise StoredAnswerError(
            f"a stored sale answer of version {version!r}: this stsvend reads versions 1 and 2 "
            "(is the database newer than the code?)"
        )
    try:
        return _receipt(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoredAnswerError(f"a stored sale answer of version {version} is malformed: "
                                f"{type(exc).__name__} {exc}") from None  # fmt: skip


def _receipt(doc: Mapping[str, Any]) -> SaleReceipt:
    # Versions 1 and 2 have the same keys: the fields' names (a key that only some kinds have
    # is missing on the others).
    get = doc.get
    meter, money, before, target = get("meter"), get("money"), get("state_before"), get("target")
    point = get("sale_point")
    return SaleReceipt(
        kind=doc["kind"],
        request_id=doc["request_id"],
        at=doc["at"],
        local_time=doc["local_time"],
        operator=doc["operator"],
        terminal=doc["terminal"],
        test=doc["test"],
        utility=doc["utility"],
        tax_number=doc["tax_number"],
        meter=None if meter is None else MeterDoc(**meter),
        tokens=tuple(_token(token) for token in get("tokens", ())),
        notes=tuple(get("notes", ())),
        unit=get("unit"),
        contract=get("contract"),
        customer=get("customer"),
        tariff=get("tariff"),
        money=None if money is None else _breakdown(money),
        units=get("units"),
        key_change_first=get("key_change_first"),
        state_before=None if before is None else StateBefore(
            AccountCounters(**before["account"]), MonthCounters(**before["month"])),
        debt=get("debt"),
        currency=get("currency"),
        reason=get("reason"),
        engineering=get("engineering"),
        value=get("value"),
        work_order=get("work_order"),
        control=get("control"),
        manufacturer_code=get("manufacturer_code"),
        target=None if target is None else KeyDataDoc(**target),
        rollover=get("rollover"),
        state=get("state"),
        reverses=get("reverses"),
        refund=get("refund"),
        receipt=get("receipt"),
        replayed=get("replayed"),
        copy=get("copy"),
        mark=get("mark"),
        reversed_by=get("reversed_by"),
        sale_point=None if point is None else SalePoint(**point),
    )  # fmt: skip


def _token(doc: Mapping[str, Any]) -> TokenEntry:
    return TokenEntry(
        label=doc["label"],
        digits=doc.get("digits"),
        token_class=doc["class"],
        subclass=doc["subclass"],
        purpose=TokenPurpose(doc["purpose"]),
        tid=doc.get("tid"),
        base_date=doc.get("base_date"),
        amount=doc.get("amount"),
        sgc=doc.get("sgc"),
        krn=doc.get("krn"),
        ti=doc.get("ti"),
        kcv=doc.get("kcv"),
    )


def _breakdown(doc: Mapping[str, Any]) -> Breakdown:
    return Breakdown(
        currency=doc["currency"],
        tendered=doc["tendered"],
        brought_forward=doc["brought_forward"],
        lines=tuple(
            BreakdownLine(
                LineKind(line["kind"]), line["amount"], line["units"], line["block"], line["price"]
            )
            for line in doc["lines"]
        ),
        tax=doc["tax"],
        tax_bp=doc["tax_bp"],
        carried_forward=doc["carried_forward"],
    )
