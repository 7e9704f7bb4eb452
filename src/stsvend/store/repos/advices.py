"""Vendors' advices about their purchases (``sale_advice``), and what a vendor reversed today.

>>> from datetime import UTC, date, datetime
>>> from stsvend.store.uow import Store
>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     get_advice(conn, 1), reversed_on(conn, 1, date(2026, 1, 1))
(None, 0)
"""

from __future__ import annotations

from datetime import date, datetime

from attrs import frozen
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from stsvend.store.models import Sale, SaleAdvice

__all__ = ["AdviceRecord", "add_advice", "get_advice", "reversed_on"]


@frozen
class AdviceRecord:
    sale_id: int
    #: ``confirmation`` or ``reversal``.
    kind: str
    #: ``confirmed`` or ``reversed``.
    state: str
    at: datetime
    terminal: str
    reversal_id: int | None


_COLUMNS = (SaleAdvice.sale_id, SaleAdvice.kind, SaleAdvice.state, SaleAdvice.at,
            SaleAdvice.terminal, SaleAdvice.reversal_id)  # fmt: skip


def get_advice(conn: Connection, sale_id: int) -> AdviceRecord | None:
    """The advice a vendor gave about sale ``sale_id``, if any."""
    row = conn.execute(select(*_COLUMNS).where(SaleAdvice.sale_id == sale_id)).first()
    return None if row is None else AdviceRecord(*row)


def add_advice(conn: Connection, advice: AdviceRecord) -> None:
    """Record an advice now (not staged: a second advice about the same sale fails here, on
    ``uq_sale_advice_sale_id``, with a ConflictError at the commit at the latest)."""
    conn.execute(insert(SaleAdvice).values(
        sale_id=advice.sale_id, kind=advice.kind, state=advice.state, at=advice.at,
        terminal=advice.terminal, reversal_id=advice.reversal_id,
    ))  # fmt: skip


def reversed_on(conn: Connection, vendor_id: int, day: date) -> int:
    """Money (minor units) refunded to the vendor's float by its reversal advices on local
    ``day`` (a reversal sale's amount is the negative of the sale's)."""
    stmt = select(func.coalesce(func.sum(-Sale.amount), 0)).where(
        Sale.vendor_id == vendor_id, Sale.kind == "reversal", Sale.local_day == day
    )
    return int(conn.execute(stmt).scalar_one())
