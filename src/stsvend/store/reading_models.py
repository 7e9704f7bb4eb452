"""Meter readings: the readings themselves, partitioned by month on PostgreSQL, and each meter's
reading head (its latest reading and its latest good one), which lets a batch of readings in time
order be judged without reading the table back.

On PostgreSQL ``meter_reading`` is partitioned by ``read_at`` (one partition a month, made when
the first reading of the month arrives: :mod:`stsvend.store.repos.readings`), so that retention
drops whole months; SQLite keeps one table.  A reading is identified by its meter and its time:
the same reading twice is one reading.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, UtcDateTime

__all__ = ["MeterReading", "ReadingHead"]


class MeterReading(Base):
    """One reading of a meter's cumulative register (Wh), with the source it came from and the
    plausibility flag it was given (NULL: good)."""

    __tablename__ = "meter_reading"
    __table_args__ = {"postgresql_partition_by": "RANGE (read_at)"}  # noqa: RUF012
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    energy_wh: Mapped[int] = mapped_column(BigInteger)
    #: Consumption of the interval that ends at ``read_at`` (Wh), when the meter sends it.
    interval_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The meter's own status bits, as sent.
    status: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(8))
    #: ``backwards`` or ``jump`` (stsvend.metering.plausibility); NULL: good.
    flag: Mapped[str | None] = mapped_column(String(10), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReadingHead(Base):
    """A meter's latest reading time and its latest good reading."""

    __tablename__ = "reading_head"
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    good_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    good_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
