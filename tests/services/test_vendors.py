"""Vendors, floats and terminal keys at the service boundary, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Connection

from stsvend.errors import InputError
from stsvend.services import terminals, vend, vendors
from stsvend.services.results import as_doc
from stsvend.services.sale_point import VendorFloatDebit
from stsvend.services.terminals import TerminalIdentity
from stsvend.store.errors import DuplicateRecordError, FloatFloorError, RecordNotFoundError
from stsvend.store.repos import vendors as repo
from stsvend.vending.errors import InsufficientFunds, PermissionDenied
from stsvend.vending.floats import FLOAT_SLOTS, floors, rebalance, spread
from stsvend.vending.roles import Role
from tests.services.helpers import Installation, drn, installation, installation_on
from tests.store.pgdb import requires_postgres, temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest) -> Iterator[Installation]:
    """An installation with vendor SHOP1 (2.5 % commission, no credit) and a sold meter."""
    with installation_on(request.param) as inst:
        _vendor(inst)
        yield inst


def _vendor(inst: Installation) -> None:
    vendors.add_vendor(inst.svc, inst.admin, "shop1", name="Corner shop", commission="2.5",
                       low_float="50")  # fmt: skip
    inst.meter(drn(1))


def _sale_id(inst: Installation) -> int:
    receipt = vend.vend(inst.svc, inst.clerk, drn(1), "10")
    return receipt.number


def _debit(inst: Installation, conn: Connection, amount: int, *, terminal_id: int,
           sale_id: int, refill: bool = False) -> int:  # fmt: skip
    """Stage a sale's float debit in ``conn`` as a purchase does; returns the commission."""
    vendor = repo.get_vendor(conn, "SHOP1")
    who = TerminalIdentity(vendor.id, vendor.code, terminal_id, "TILL", Role.CLERK,
                           "000000000000", vendor.test, operator="SHOP1/TILL")  # fmt: skip
    debit = VendorFloatDebit(who, "cash", vendor.currency, refill, inst.svc.now)
    point = debit.price(conn, amount=amount, resource=0, terms=None)
    debit.stage(conn, point, sale_id=sale_id, amount=amount, at=inst.svc.now(),
                recorded_by="SHOP1/TILL")  # fmt: skip
    return point.commission


def _sell(inst: Installation, amount: int, *, terminal_id: int, sale_id: int) -> int:
    """One sale's float debit in a transaction of its own, the way a purchase takes it."""

    def run(refill: bool) -> int:
        with inst.svc.store.transaction() as conn:
            return _debit(inst, conn, amount, terminal_id=terminal_id, sale_id=sale_id,
                          refill=refill)  # fmt: skip

    return vendors.sell_from_float(run)


def _slots(inst: Installation) -> list[tuple[int, int, int]]:
    with inst.svc.store.transaction() as conn:
        return repo.lock_slots(conn, repo.get_vendor(conn, "SHOP1").id)


def _ledger_sum(inst: Installation) -> int:
    with inst.svc.store.transaction() as conn:
        return int(conn.execute(text("SELECT coalesce(sum(amount), 0) FROM vendor_ledger"))
                   .scalar_one())  # fmt: skip


def test_a_vendor_as_registered(shop: Installation) -> None:
    info = vendors.vendor_info(shop.svc, shop.supervisor, "SHOP1")
    assert as_doc(info) == {
        "code": "SHOP1", "name": "Corner shop", "currency": "ZAR", "commission_bp": 250,
        "commissions": {}, "credit_limit": 0, "float": 0, "low_float": 5000, "low": True,
        "active": True, "test": True,
    }  # fmt: skip
    assert [v.code for v in vendors.list_vendors(shop.svc, shop.actors["auditor"])] == ["SHOP1"]
    assert len(_slots(shop)) == FLOAT_SLOTS


def test_deposits_commission_and_the_statement(shop: Installation) -> None:
    sup = shop.supervisor
    moved = vendors.deposit(shop.svc, sup, "SHOP1", "1000.00", reference="BANK-77")
    assert (moved.amount, moved.float_after, moved.recorded_by) == (100_000, 100_000, "supervisor")
    sale = _sale_id(shop)
    paid = _sell(shop, 40_000, terminal_id=3, sale_id=sale)
    assert paid == 1_000  # 2.5 % of 400.00
    info = vendors.set_commission(shop.svc, shop.admin, "SHOP1", "5", resource="water")
    assert info.commissions == {"water": 500} and info.commission_bp == 250
    after = vendors.vendor_info(shop.svc, sup, "SHOP1")
    assert after.float == 100_000 - 40_000 + 1_000 == _ledger_sum(shop)
    assert not after.low
    day = shop.svc.now().date().isoformat()
    report = vendors.statement(shop.svc, sup, "SHOP1", since=day, until=day)
    assert [(line.entry, line.amount, line.balance) for line in report.lines] == [
        ("deposit", 100_000, 100_000), ("sale", -40_000, 60_000), ("commission", 1_000, 61_000),
    ]  # fmt: skip
    assert (report.opening, report.closing) == (0, 61_000)
    assert report.totals == {"deposit": 100_000, "sale": -40_000, "commission": 1_000}
    tomorrow = vendors.statement(shop.svc, sup, "SHOP1", since="2099-01-01")
    assert (tomorrow.opening, tomorrow.lines, tomorrow.closing) == (61_000, (), 61_000)


def test_a_slot_short_of_money_is_refilled_from_the_others(shop: Installation) -> None:
    vendors.deposit(shop.svc, shop.supervisor, "SHOP1", "80.00", reference="B-1")  # 10.00 a slot
    sale = _sale_id(shop)
    _sell(shop, 5_000, terminal_id=2, sale_id=sale)  # 50.00: slot 2 holds only 10.00
    slots = _slots(shop)
    assert sum(b for _, b, _ in slots) == 8_000 - 5_000 + 125 == _ledger_sum(shop)
    assert all(b >= f for _, b, f in slots)


def test_a_sale_the_whole_float_cannot_cover_is_refused_and_leaves_nothing(
    shop: Installation,
) -> None:
    vendors.deposit(shop.svc, shop.supervisor, "SHOP1", "80.00", reference="B-1")
    sale = _sale_id(shop)
    before = (_slots(shop), shop.count("vendor_ledger"))
    with pytest.raises(InsufficientFunds) as refused:
        _sell(shop, 9_000, terminal_id=1, sale_id=sale)
    assert refused.value.code == "insufficient_funds"
    assert (_slots(shop), shop.count("vendor_ledger")) == before


def test_the_credit_limit_lets_the_float_go_below_zero_and_no_further(shop: Installation) -> None:
    vendors.set_credit_limit(shop.svc, shop.admin, "SHOP1", "100")
    assert [f for _, _, f in _slots(shop)] == list(floors(10_000))
    sale = _sale_id(shop)
    _sell(shop, 10_000, terminal_id=0, sale_id=sale)  # commission 2.50 back: float −97.50
    assert vendors.vendor_info(shop.svc, shop.supervisor, "SHOP1").float == -9_750
    with pytest.raises(InsufficientFunds):
        _sell(shop, 400, terminal_id=5, sale_id=sale)
    with pytest.raises(InsufficientFunds):  # the float is below minus the new limit
        vendors.set_credit_limit(shop.svc, shop.admin, "SHOP1", "50")


def test_a_fast_path_debit_below_the_floor_fails_the_whole_transaction(shop: Installation) -> None:
    sale = _sale_id(shop)
    with pytest.raises(FloatFloorError), shop.svc.store.transaction() as conn:
        _debit(shop, conn, 100, terminal_id=1, sale_id=sale)
    assert shop.count("vendor_ledger") == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda i: vendors.add_vendor(i.svc, i.admin, "SHOP1", name="again"),
         DuplicateRecordError),
        (lambda i: vendors.add_vendor(i.svc, i.admin, "-bad", name="x"), InputError),
        (lambda i: vendors.add_vendor(i.svc, i.admin, "NEW", name=" "), InputError),
        (lambda i: vendors.add_vendor(i.svc, i.admin, "NEW", name="x", commission="100.01"),
         InputError),
        (lambda i: vendors.add_vendor(i.svc, i.admin, "NEW", name="x", commission="2,5"),
         InputError),
        (lambda i: vendors.add_vendor(i.svc, i.clerk, "NEW", name="x"), PermissionDenied),
        (lambda i: vendors.deposit(i.svc, i.admin, "SHOP1", "1", reference="B"), PermissionDenied),
        (lambda i: vendors.deposit(i.svc, i.supervisor, "SHOP1", "0", reference="B"), InputError),
        (lambda i: vendors.deposit(i.svc, i.supervisor, "SHOP1", "1", reference=" "), InputError),
        (lambda i: vendors.deposit(i.svc, i.supervisor, "NOPE", "1", reference="B"),
         RecordNotFoundError),
        (lambda i: vendors.statement(i.svc, i.supervisor, "SHOP1", since="2026-13-01"),
         InputError),
        (lambda i: vendors.statement(i.svc, i.supervisor, "SHOP1", since="2026-02-02",
                                     until="2026-02-01"), InputError),
        # the first and last days of the calendar have no local midnight after (or before)
        (lambda i: vendors.statement(i.svc, i.supervisor, "SHOP1", until="9999-12-31"),
         InputError),
        (lambda i: vendors.statement(i.svc, i.supervisor, "SHOP1", since="0001-01-01"),
         InputError),
        (lambda i: vendors.set_commission(i.svc, i.admin, "SHOP1", "1", resource="steam"),
         InputError),
        (lambda i: vendors.vendor_info(i.svc, i.clerk, "SHOP1"), PermissionDenied),
    ],
)  # fmt: skip
def test_every_refusal(shop: Installation, call: Any, error: type[Exception]) -> None:
    before = shop.count("vendor_ledger"), shop.count("vendor")
    with pytest.raises(error):
        call(shop)
    assert (shop.count("vendor_ledger"), shop.count("vendor")) == before


def test_terminal_keys_are_shown_once_and_kept_only_as_hashes(shop: Installation) -> None:
    made = terminals.add_terminal(shop.svc, shop.admin, "SHOP1", "till-1")
    assert made.key.startswith(f"stv_{made.prefix}_") and len(made.key) == 4 + 12 + 1 + 32
    who = terminals.authenticate(shop.svc, made.key)
    assert (who.vendor, who.terminal, who.role.value, who.test) == (
        "SHOP1",
        "TILL-1",
        "clerk",
        True,
    )
    with shop.svc.store.transaction() as conn:
        stored = [str(v) for row in conn.execute(text("SELECT * FROM terminal")) for v in row]
        oplog = str(conn.execute(text("SELECT detail FROM operation_log")).all())
    assert not any(made.key[-32:] in value for value in [*stored, oplog])
    wrong = made.key[:-1] + ("0" if made.key[-1] != "0" else "1")
    for bad in (wrong, "", "stv_x", made.key.upper(), made.key + " "):
        with pytest.raises(terminals.Unauthenticated):
            terminals.authenticate(shop.svc, bad)
    new = terminals.rotate_key(shop.svc, shop.admin, "SHOP1", "TILL-1")
    with pytest.raises(terminals.Unauthenticated):
        terminals.authenticate(shop.svc, made.key)
    assert terminals.authenticate(shop.svc, new.key).terminal == "TILL-1"
    revoked = terminals.revoke_terminal(shop.svc, shop.admin, "SHOP1", "TILL-1")
    assert not revoked.active and revoked.revoked_at is not None
    with pytest.raises(terminals.Unauthenticated):
        terminals.authenticate(shop.svc, new.key)
    with pytest.raises(InputError):
        terminals.rotate_key(shop.svc, shop.admin, "SHOP1", "TILL-1")
    with pytest.raises(DuplicateRecordError):
        terminals.add_terminal(shop.svc, shop.admin, "SHOP1", "TILL-1")
    with pytest.raises(InputError):
        terminals.add_terminal(shop.svc, shop.admin, "SHOP1", "ADMIN-1", role="admin")
    listed = terminals.list_terminals(shop.svc, shop.supervisor, "SHOP1")
    assert [(t.terminal, t.prefix, t.active) for t in listed] == [("TILL-1", new.prefix, False)]


@requires_postgres
def test_fifty_terminals_of_one_vendor_at_once_lose_no_cent_and_refuse_only_past_the_float(
) -> None:  # fmt: skip
    with temporary_database() as url, installation(url, create=False) as inst:
        _vendor(inst)
        vendors.deposit(inst.svc, inst.supervisor, "SHOP1", "400.00", reference="B-1")
        sale = _sale_id(inst)
        outcomes: list[str] = []
        lock = threading.Lock()

        def till(terminal_id: int) -> None:
            for _ in range(3):  # 150 sales of 3.00 (2.93 net): the float covers 136 of them
                try:
                    _sell(inst, 300, terminal_id=terminal_id, sale_id=sale)
                    result = "sold"
                except InsufficientFunds:
                    result = "refused"
                with lock:
                    outcomes.append(result)

        threads = [threading.Thread(target=till, args=(n,)) for n in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sold = outcomes.count("sold")
        slots = _slots(inst)
        total = sum(b for _, b, _ in slots)
        assert total == 40_000 - sold * (300 - 7) == _ledger_sum(inst)
        assert all(b >= f for _, b, f in slots)
        assert sold == 40_000 // 293 and total < 293  # every sale the float covered was sold


@given(
    st.lists(st.integers(-10_000, 10_000), min_size=1, max_size=12),
    st.integers(0, 50_000),
    st.data(),
)
def test_rebalancing_keeps_the_total_and_the_floors(
    balances: list[int], limit: int, data: st.DataObject
) -> None:
    slot_floors = floors(limit, len(balances))
    balances = [max(b, f) for b, f in zip(balances, slot_floors, strict=True)]
    slot = data.draw(st.integers(0, len(balances) - 1))
    need = data.draw(st.integers(0, 60_000))
    free = sum(b - f for b, f in zip(balances, slot_floors, strict=True))
    if need > free:
        with pytest.raises(InsufficientFunds):
            rebalance(balances, slot_floors, slot=slot, need=need)
        return
    shared = rebalance(balances, slot_floors, slot=slot, need=need)
    assert sum(shared) == sum(balances)
    assert all(b >= f for b, f in zip(shared, slot_floors, strict=True))
    assert shared[slot] - need >= slot_floors[slot]
    assert sum(floors(limit, len(balances))) == -limit
    assert sum(spread(need, len(balances))) == need


def test_statement_lines_are_in_the_order_written(shop: Installation) -> None:
    for n in range(3):
        shop.clock.advance(seconds=60)
        vendors.deposit(shop.svc, shop.supervisor, "SHOP1", f"{n + 1}.00", reference=f"B-{n}")
    lines = vendors.statement(shop.svc, shop.actors["auditor"], "SHOP1").lines
    assert [line.reference for line in lines] == ["B-0", "B-1", "B-2"]
    assert [datetime.fromisoformat(line.at) for line in lines] == sorted(
        datetime.fromisoformat(line.at) for line in lines
    )
