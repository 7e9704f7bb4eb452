"""A batch closed while one of its sales is being written: the sale is in the batch's totals,
or it is not in the batch at all — never in a closed batch whose totals leave it out.

The float debit is the sale transaction's last step; the test closes the terminal's batch from
another thread right then, and waits (a while) for the close before letting the sale commit.
PostgreSQL only: SQLite's transactions take the write lock at their start (``BEGIN IMMEDIATE``),
so a close cannot run inside a sale there.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from stsvend.services import batches, sale_point, terminals, vendors
from stsvend.services.receipt_model import SalePoint
from stsvend.services.sale_point import VendorFloatDebit
from stsvend.services.vend import vend
from stsvend.store.models import Sale
from tests.services.helpers import drn, installation_on


class CloseDuringStage:
    """The real float debit, with the batch's close started from another thread as it
    stages (the sale's last write)."""

    def __init__(self, inner: VendorFloatDebit, close: Any) -> None:
        self.inner, self.close = inner, close
        self.closed = threading.Event()
        self.outcome: list[Any] = []

    @property
    def tender(self) -> str:
        return self.inner.tender

    def price(self, conn: Connection, *, amount: int, resource: int,
              terms: tuple[int, int, int | None] | None) -> SalePoint:  # fmt: skip
        return self.inner.price(conn, amount=amount, resource=resource, terms=terms)

    def stage(self, conn: Connection, point: SalePoint, *, sale_id: int, amount: int,
              at: datetime, recorded_by: str) -> None:  # fmt: skip
        self.inner.stage(conn, point, sale_id=sale_id, amount=amount, at=at,
                         recorded_by=recorded_by)  # fmt: skip

        def run() -> None:
            try:
                self.outcome.append(self.close())
            except Exception as exc:  # the assertion below names it
                self.outcome.append(exc)
            self.closed.set()

        threading.Thread(target=run, daemon=True).start()
        self.closed.wait(timeout=2.0)  # a close that waits for this sale's commit times out here


def test_a_batch_closed_during_a_sale_counts_it() -> None:
    with installation_on("postgresql") as inst:
        vendors.add_vendor(inst.svc, inst.admin, "SHOP1", name="Corner shop", commission="2")
        vendors.deposit(inst.svc, inst.actors["supervisor"], "SHOP1", "500", reference="B-1")
        key = terminals.add_terminal(inst.svc, inst.admin, "SHOP1", "TILL-1").key
        inst.meter(drn(1))
        who = terminals.authenticate(inst.svc, key)
        actor = terminals.terminal_actor(inst.svc, who)
        hook = CloseDuringStage(
            VendorFloatDebit(who, "cash", inst.svc.config.currency, False, inst.svc.now),
            lambda: batches.close_batch(inst.svc, who),
        )
        vend(inst.svc, actor, drn(1), "20", request_id="race-1", float_debit=hook)
        assert hook.closed.wait(timeout=30)
        [closed] = hook.outcome
        assert isinstance(closed, batches.Batch), closed
        with inst.svc.store.transaction() as conn:
            in_batch = conn.execute(
                select(func.count(), func.coalesce(func.sum(Sale.amount), 0))
                .where(Sale.shift_id == actor.shift_id)
            ).one()  # fmt: skip
        assert (closed.count, closed.amount) == (in_batch[0], in_batch[1])
        assert closed.count == 1


def test_a_sale_whose_batch_closed_first_goes_into_the_next_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with installation_on("postgresql") as inst:
        vendors.add_vendor(inst.svc, inst.admin, "SHOP1", name="Corner shop", commission="2")
        vendors.deposit(inst.svc, inst.actors["supervisor"], "SHOP1", "500", reference="B-1")
        key = terminals.add_terminal(inst.svc, inst.admin, "SHOP1", "TILL-1").key
        inst.meter(drn(1))
        who = terminals.authenticate(inst.svc, key)
        first = terminals.terminal_actor(inst.svc, who).shift_id
        price = sale_point.VendorFloatDebit.price
        closes: list[Any] = []

        def close_first(self: Any, conn: Connection, **kwargs: Any) -> SalePoint:
            if not closes:  # the close commits before the sale reaches its shift
                worker = threading.Thread(
                    target=lambda: closes.append(batches.close_batch(inst.svc, who)))
                worker.start()
                worker.join(timeout=30)
            return price(self, conn, **kwargs)

        monkeypatch.setattr(sale_point.VendorFloatDebit, "price", close_first)
        sold = sale_point.purchase(inst.svc, who, purchase_id="p-1", meter=drn(1), amount="20")
        [closed] = closes
        assert closed.count == 0 and closed.batch == first
        with inst.svc.store.transaction() as conn:
            shift = conn.execute(select(Sale.shift_id).where(Sale.id == sold.number)).scalar()
        assert shift is not None and shift != first
        counter = inst.actors["clerk"]
        from stsvend.services import shifts
        from stsvend.services.auth import ShiftClosedDuringSale

        shifts.end_shift(inst.svc, counter)
        with pytest.raises(ShiftClosedDuringSale, match="nothing was sold"):
            vend(inst.svc, counter, drn(1), "10")  # the counter's shift: refused, never moved
