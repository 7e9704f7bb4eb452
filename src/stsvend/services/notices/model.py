"""What a notice is, what a channel and a contact lookup must offer, and when a contact is usable.

A channel (e-mail, SMS, a file) and a contact lookup (the CRM) are adapters; the services see
them only through :class:`Channel` and :class:`ContactLookup`.  A contact is never stored: it is
looked up for each send and forgotten.

>>> contact_problem(Contact(phone="+27 82 555 0100"), "phone") is None
True
>>> contact_problem(Contact(phone="0800-CALL-NOW"), "phone")
'letters in the phone number'
>>> contact_problem(Contact(email="no-at-sign.example"), "email")
'malformed e-mail address'
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

from attrs import frozen

from stsvend.errors import StsError

__all__ = [
    "ADDRESS_KINDS",
    "KINDS",
    "Channel",
    "Contact",
    "ContactLookup",
    "ContactLookupError",
    "DeliveryError",
    "Outgoing",
    "contact_problem",
]

#: The kinds of notice, each with its template.
KINDS = ("receipt", "low_credit", "emergency_credit", "key_change", "debt", "work_order")
#: What a channel needs of a contact: an e-mail address, a phone number, or nothing.
ADDRESS_KINDS = ("email", "phone", "none")

_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
#: E.164 allows 15 digits; fewer than 8 is no reachable subscriber number anywhere.
_PHONE_DIGITS = (8, 15)


class DeliveryError(StsError):
    """A channel could not hand a notice over (``permanent``: trying again will not help)."""

    code = "adapter"
    default_message = "the notice could not be sent"

    def __init__(self, message: str | None = None, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ContactLookupError(StsError):
    """The CRM's contact lookup did not answer usably (the notice is tried again later)."""

    code = "adapter"
    default_message = "the CRM's contact lookup did not answer"


@frozen
class Contact:
    """A customer's contact as the CRM gives it, for one send (never stored)."""

    phone: str = ""
    email: str = ""
    language: str = ""


@frozen
class Outgoing:
    """One notice ready for a channel: rendered, addressed, named by its stable id."""

    message_id: str
    customer_number: str
    #: The e-mail address or phone number (empty for a channel that needs none).
    to: str
    subject: str
    body: str


@runtime_checkable
class Channel(Protocol):
    """A way of sending notices (built by a ``stsvend.notification_channels`` factory)."""

    #: ``email``, ``phone`` or ``none``: which part of the contact the channel sends to.
    address: str

    def send(self, message: Outgoing) -> None:
        """Hand the message over; raise :class:`DeliveryError` when it was not taken."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ContactLookup(Protocol):
    """The CRM's contacts (built by a ``stsvend.contact_lookups`` factory)."""

    def contact(self, customer_number: str) -> Contact | None:
        """The customer's contact; None: the CRM knows no contact for this customer.
        Raise :class:`ContactLookupError` when the CRM cannot be asked now."""
        ...

    def close(self) -> None: ...


def contact_problem(contact: Contact | None, address: str) -> str | None:
    """Why ``contact`` cannot be used for an ``address`` kind of channel (None: it can).

    The reason names the fault, never the value (it goes into reports and the outbox).
    """
    if address == "none":
        return None
    if contact is None:
        return "no contact in the CRM"
    if address == "email":
        value = contact.email.strip()
        if not value:
            return "no e-mail address"
        return None if _EMAIL.fullmatch(value) else "malformed e-mail address"
    value = contact.phone.strip()
    if not value:
        return "no phone number"
    compact = _PHONE_SEPARATORS.sub("", value)
    if compact.startswith("+"):
        compact = compact[1:]
    if any(c.isalpha() for c in compact):
        return "letters in the phone number"
    if not compact.isdigit() or not compact.isascii():
        return "not a phone number"
    low, high = _PHONE_DIGITS
    if len(compact) < low:
        return "too few digits in the phone number"
    if len(compact) > high:
        return "too many digits in the phone number"
    return None
