"""The notice tables: the outbox of customer notices, the customers' opt-outs, the producer's
watermarks.

* ``notice_outbox`` holds one row per (event, channel): ``message_id`` is derived from the event
  (``sale:42/smtp``) and unique, so a producer that scans the same events again adds nothing.
  ``params`` holds the figures a template needs (a sale's token digits among them) and never a
  contact: the phone number or e-mail address is looked up in the CRM at send time.  A purge
  blanks ``params`` and keeps the row (its id still stops a re-scan from sending it again).
* ``notice_opt_out`` holds a customer's refusal of one channel.
* ``notice_watermark`` holds how far the producer has scanned each kind of event.

>>> sorted(c.name for c in NoticeOptOut.__table__.columns)
['channel', 'created_at', 'customer_id']
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, BigId, UtcDateTime

__all__ = ["NoticeOptOut", "NoticeOutbox", "NoticeWatermark"]


class NoticeOutbox(Base):
    """A notice to send, sent, or given up on (a dead letter)."""

    __tablename__ = "notice_outbox"
    __table_args__ = (Index("ix_notice_outbox_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Derived from the event and the channel; the channels carry it (Message-Id, an
    #: idempotency header) so that a receiver can drop a repeat.
    message_id: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(40))
    #: receipt, low_credit, emergency_credit, key_change, debt, work_order.
    kind: Mapped[str] = mapped_column(String(24))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    #: The template's values (no contact); emptied by a purge.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: pending, sent, dead, skipped (opted out, or no usable contact), purged.
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Why the last attempt failed or why the notice was skipped (never the message's text).
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class NoticeOptOut(Base):
    """A customer who takes no notices on one channel."""

    __tablename__ = "notice_opt_out"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NoticeWatermark(Base):
    """How far the producer has scanned one kind of event (an instant)."""

    __tablename__ = "notice_watermark"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
