"""The contacts report: customers whose contact the CRM lacks or gives malformed.

Every customer with an open account is looked up in the CRM (the store holds no contact); a
customer whose phone number or e-mail address cannot be used for the channels in use is listed
with the reason (never the value).  A customer with no usable contact for any of them goes on
the paper-notice list.

>>> problems_of(Contact(phone="123", email="a@b.example"), ("phone", "email"))
(('phone', 'too few digits in the phone number'),)
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen
from sqlalchemy import select

from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.notices.model import Contact, ContactLookup, contact_problem
from stsvend.store.base import table_of
from stsvend.store.models import Account, Customer
from stsvend.vending.roles import Action

__all__ = ["ContactReportLine", "contacts_report", "problems_of"]

ACCOUNT, CUSTOMER = table_of(Account), table_of(Customer)


@frozen
class ContactReportLine:
    """One customer whose contact cannot be used for one or more kinds of address."""

    customer_number: str
    #: (address kind, reason) pairs: ``("phone", "letters in the phone number")``.
    problems: tuple[tuple[str, str], ...]
    #: No usable contact for any channel in use: the customer gets paper notices.
    paper: bool


def problems_of(contact: Contact | None, needs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """What is wrong with ``contact`` for each kind of address in ``needs``."""
    found = []
    for address in needs:
        problem = contact_problem(contact, address)
        if problem is not None:
            found.append((address, problem))
    return tuple(found)


def contacts_report(
    svc: Services, actor: Actor, lookup: ContactLookup, needs: Sequence[str] = ("phone", "email")
) -> list[ContactReportLine]:
    """The customers with an open account whose contact is missing or invalid, in order."""
    authorize(svc, actor, Action.CUSTOMERS_VIEW)
    wanted = [n for n in needs if n != "none"] or ["phone", "email"]
    with svc.store.transaction() as conn:
        numbers = [str(r[0]) for r in conn.execute(
            select(CUSTOMER.c.customer_number).distinct()
            .join(ACCOUNT, ACCOUNT.c.customer_id == CUSTOMER.c.id)
            .where(ACCOUNT.c.closed_at.is_(None))
            .order_by(CUSTOMER.c.customer_number)
        )]  # fmt: skip
    report = []
    for number in numbers:
        problems = problems_of(lookup.contact(number), wanted)
        if problems:
            report.append(ContactReportLine(number, problems, len(problems) == len(wanted)))
    return report
