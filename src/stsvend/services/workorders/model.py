"""Work orders as values: one model with types, its states, its errors.

An order is what the CRM sends about one installer's visit (:class:`OrderInput`, already
validated by whoever read the file); the store keeps it by the CRM's order id with a state:

``received`` → (routed to the installer's system: ``routed``) → ``started`` → ``interrupted``
(the supply is off) → ``completed`` (the installer's data arrived) → ``applied`` (the store did
what the completion means: a meter registered or replaced, its key change queued).

>>> order = OrderInput("WO-1", "installation", meter="01000000017", model="LG-E470",
...                    sgc=123456, planned_date="2026-12-10")
>>> order.document()["meter"]
'01000000017'
>>> OrderType.parse("replacement").needs_old_meter
True
>>> try:
...     OrderType.parse("repair")
... except WorkOrderError as exc:
...     print(exc.message)
unknown order type 'repair' (types: installation, replacement, removal)
"""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs
from attrs import frozen

from stsvend.errors import InputError, StsError

__all__ = [
    "OPEN_STATES",
    "OrderInput",
    "OrderState",
    "OrderType",
    "WorkOrderError",
    "WorkOrderFileError",
    "dumps",
]


class WorkOrderError(StsError):
    """A work order's state or type does not allow what was asked."""

    code = "workorder"
    default_message = "the work order does not allow it"


class WorkOrderFileError(InputError):
    """A work-order file is refused (too large, not XML, against the schema, a bad meter
    number): it goes to the rejected folder with this reason, and nothing of it is applied."""

    code = "workorder_file"
    default_message = "the work-order file is refused"


class OrderType(enum.Enum):
    """The kinds of work order (the platform's outage-failure and exception orders come here)."""

    INSTALLATION = "installation"
    REPLACEMENT = "replacement"
    REMOVAL = "removal"

    @classmethod
    def parse(cls, text: str) -> OrderType:
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise WorkOrderError(f"unknown order type {text!r} (types: {names})") from None

    @property
    def needs_old_meter(self) -> bool:
        """A replacement and a removal name the meter taken out."""
        return self is not OrderType.INSTALLATION

    @property
    def installs_meter(self) -> bool:
        """An installation and a replacement put a new meter in."""
        return self is not OrderType.REMOVAL


class OrderState(enum.Enum):
    RECEIVED = "received"
    ROUTED = "routed"
    STARTED = "started"
    INTERRUPTED = "interrupted"
    COMPLETED = "completed"
    APPLIED = "applied"


#: States in which the CRM may still change the order (a new file with the same id).
OPEN_STATES = frozenset({OrderState.RECEIVED, OrderState.ROUTED, OrderState.STARTED,
                         OrderState.INTERRUPTED})  # fmt: skip


def dumps(doc: Any) -> str:
    """The one JSON spelling of a stored document (sorted keys: equal content, equal text)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


@frozen
class OrderInput:
    """One order as the CRM sent it: identifiers only (no names, addresses or phones)."""

    order_id: str
    type: str
    #: The meter to install (installation, replacement) or to take out (removal): its DRN.
    meter: str | None = None
    model: str | None = None
    #: The supply group a new meter's keys belong to.
    sgc: int | None = None
    #: The meter taken out (replacement; for a removal it is ``meter``).
    old_meter: str | None = None
    contract: str | None = None
    premise: str | None = None
    planned_date: str | None = None
    #: The bulk order it was split from (None: a single order).
    bulk_id: str | None = None

    def document(self) -> dict[str, Any]:
        """The stored (and routed) form: every field, None as null."""
        return attrs.asdict(self)
