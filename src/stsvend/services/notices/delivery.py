"""Sending: claim due notices, look each customer's contact up, render, hand over, settle.

For each claimed notice: a customer who opted out of its channel since it was enqueued, or whose
contact the channel cannot use (none in the CRM, a malformed phone number or e-mail address) is
``skipped`` (the reason is kept, never the contact; such customers are on the paper-notice list,
:mod:`stsvend.services.notices.contacts`).  A channel or CRM that fails is tried again after the
backoff; a template that cannot be filled or a channel's permanent refusal makes a dead letter
at once.  Logs name the message id, channel, kind and outcome: never the text, which may hold
token digits, nor the contact.

>>> DeliveryRound(sent=2, retried=1).handled
3
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from attrs import frozen
from sqlalchemy import and_, select

from stsvend.errors import StsError
from stsvend.services.context import Services
from stsvend.services.notices.model import (
    Channel,
    ContactLookup,
    ContactLookupError,
    DeliveryError,
    Outgoing,
    contact_problem,
)
from stsvend.services.notices.outbox import (
    OPT_OUT,
    Due,
    RetryPolicy,
    claim_due,
    finish,
    retry_or_bury,
)
from stsvend.services.notices.templates import TemplateError, render

__all__ = ["DeliveryRound", "deliver"]

LOG = logging.getLogger("stsvend.notices")


@frozen
class DeliveryRound:
    """What one sending round did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead + self.skipped


def _opted_out(svc: Services, due: Due) -> bool:
    with svc.store.transaction() as conn:
        return conn.execute(select(OPT_OUT.c.customer_id).where(and_(
            OPT_OUT.c.customer_id == due.customer_id, OPT_OUT.c.channel == due.channel))
        ).first() is not None  # fmt: skip


def _one(
    svc: Services, due: Due, channels: Mapping[str, Channel], lookup: ContactLookup | None,
    policy: RetryPolicy, templates: Path | None,
) -> str:  # fmt: skip
    """Send one notice; its outcome: sent, skipped, pending (retried) or dead."""
    if _opted_out(svc, due):
        finish(svc, due.id, "skipped", "opted out")
        return "skipped"
    channel = channels.get(due.channel)
    if channel is None:
        return retry_or_bury(svc, due, f"no channel {due.channel!r} is configured", policy)
    contact = None
    if channel.address != "none" or lookup is not None:
        if lookup is None:
            return retry_or_bury(svc, due, "no contact lookup is configured", policy)
        try:
            contact = lookup.contact(due.customer_number)
        except ContactLookupError as exc:
            return retry_or_bury(svc, due, f"contact lookup: {exc.message}", policy)
    problem = contact_problem(contact, channel.address)
    if problem is not None:
        finish(svc, due.id, "skipped", problem)
        return "skipped"
    language = contact.language if contact is not None and contact.language else "en"
    try:
        subject, body = render(due.kind, language, {k: str(v) for k, v in due.params.items()},
                               templates)  # fmt: skip
    except TemplateError as exc:
        return retry_or_bury(svc, due, exc.message, policy, permanent=True)
    to = ""
    if contact is not None and channel.address == "email":
        to = contact.email.strip()
    elif contact is not None and channel.address == "phone":
        to = contact.phone.strip()
    message = Outgoing(due.message_id, due.customer_number, to, subject, body)
    try:
        channel.send(message)
    except DeliveryError as exc:
        return retry_or_bury(svc, due, exc.message, policy, permanent=exc.permanent)
    except (OSError, StsError) as exc:  # a channel's own failure is that attempt's, not ours
        return retry_or_bury(svc, due, f"{type(exc).__name__}: {exc}", policy)
    finish(svc, due.id, "sent")
    return "sent"


def deliver(
    svc: Services,
    channels: Mapping[str, Channel],
    lookup: ContactLookup | None,
    policy: RetryPolicy,
    *,
    templates: Path | None = None,
    limit: int = 50,
) -> DeliveryRound:
    """One sending round over at most ``limit`` due notices."""
    counts = {"sent": 0, "pending": 0, "dead": 0, "skipped": 0}
    for due in claim_due(svc, policy, limit=limit):
        outcome = _one(svc, due, channels, lookup, policy, templates)
        counts[outcome] += 1
        LOG.info("notice %s (%s, %s) attempt %d: %s", due.message_id, due.channel, due.kind,
                 due.attempts, outcome)  # fmt: skip
    return DeliveryRound(counts["sent"], counts["pending"], counts["dead"], counts["skipped"])
