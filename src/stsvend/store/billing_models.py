"""The billing tables: which metering point each premise is measured at.

Kept apart from the business tables of :mod:`stsvend.store.models` (which re-exports them).
``metering_point`` maps the CRM's premise number (``account.premise``) to the market's metering
point identifier, the key an MSCONS consumption report carries its quantities under (the billing
export's ``mscons`` format).  Only identifiers: no address, no person.

>>> MeteringPoint.__tablename__
'metering_point'
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, UtcDateTime

__all__ = ["METERING_POINT_LENGTH", "PREMISE_LENGTH", "MeteringPoint"]

#: The longest premise number (``account.premise``).
PREMISE_LENGTH = 40
#: The longest metering point identifier: an EDIFACT location identification (an..35).
METERING_POINT_LENGTH = 35


class MeteringPoint(Base):
    """One premise and the metering point its consumption is reported under."""

    __tablename__ = "metering_point"
    premise: Mapped[str] = mapped_column(String(PREMISE_LENGTH), primary_key=True)
    metering_point: Mapped[str] = mapped_column(String(METERING_POINT_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
