"""The work-order tables: orders, their routing rules, the outbox, runs, credit transfers.

* ``work_order`` holds one installer's order (installation, replacement, removal, …) by the
  CRM's order id, unique: a file naming the same id again updates it (``version`` + 1).
* ``workorder_route`` says, per order type, which route adapter sends the order where.
* ``workorder_outbox`` holds every message that must leave exactly once per decision: a routed
  order (to the installer's system), an applied completion (to the store), a result (to the
  CRM's results folder).  Its row is written in the transaction of the decision and delivered
  by the worker with retries; ``message_id`` is stable, so a receiver can deduplicate.
* ``workorder_run`` records each step that went wrong (a file rejected, a delivery given up)
  and each file taken in, for ``stsvend workorders status``.
* ``credit_transfer`` holds a replaced meter's remaining credit until it is issued as a credit
  token to the new meter (after the new meter's commissioning key change is confirmed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, BigId, UtcDateTime

__all__ = ["CreditTransfer", "WorkOrder", "WorkOrderOutbox", "WorkOrderRoute", "WorkOrderRun"]


class WorkOrder(Base):
    """One work order, by the CRM's id."""

    __tablename__ = "work_order"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    #: installation, replacement, removal (more types come with the platform's orders).
    type: Mapped[str] = mapped_column(String(24), index=True)
    #: received, started, interrupted, completed, applied, failed.
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: The bulk order it came in (None: a single order's file).
    bulk_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: The order as the CRM sent it, as JSON (identifiers only, never names or addresses).
    payload: Mapped[str] = mapped_column(Text)
    #: The completion's installation data, as JSON (None: not completed).
    installation: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    source_file: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkOrderRoute(Base):
    """Where orders of one type go: a route adapter and its address."""

    __tablename__ = "workorder_route"
    order_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    #: The ``stsvend.workorder_routes`` adapter's name (``http-json``).
    adapter: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkOrderOutbox(Base):
    """A message to deliver at least once: ``route``, ``apply`` or ``result``."""

    __tablename__ = "workorder_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Stable across retries and restarts: what a receiver deduplicates on.
    message_id: Mapped[str] = mapped_column(String(80), unique=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: pending, delivered, failed (given up after the last attempt).
    state: Mapped[str] = mapped_column(String(16), index=True)
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    #: Not before this instant (a retry's backoff, or a claim's lease).
    next_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WorkOrderRun(Base):
    """One step of the pipeline that ran: a file taken in or rejected, a delivery given up."""

    __tablename__ = "workorder_run"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    #: intake, validate, store, route, apply, result, credit.
    step: Mapped[str] = mapped_column(String(16))
    #: ok or failed.
    outcome: Mapped[str] = mapped_column(String(8))
    source_file: Mapped[str | None] = mapped_column(String(255), nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[str] = mapped_column(String(500))


class CreditTransfer(Base):
    """A replaced meter's remaining credit, owed to its new meter as a credit token."""

    __tablename__ = "credit_transfer"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), unique=True)
    old_meter: Mapped[str] = mapped_column(String(13))
    new_meter: Mapped[str] = mapped_column(String(13))
    #: Tenths of the meter's unit (0.1 kWh).
    units: Mapped[int] = mapped_column(BigInteger)
    #: waiting (for the key change), issued.
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sale.id"), nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
