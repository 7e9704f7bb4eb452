"""Separation of duties at the counter: a reversal is made by another operator than the seller,
within the configured amount and age; a clerk reprints only receipts of their own open shift,
and every reprint and refusal is in the operation log."""

from __future__ import annotations

from typing import Any

import pytest

from stsvend.config import ConfigError
from stsvend.services import auth, receipts, shifts, vend
from stsvend.services.context import Actor
from stsvend.store.repos.oplog import list_operations
from stsvend.vending.errors import PermissionDenied, ReversalError
from tests.services.helpers import PINS, Installation, drn, installation

METER = drn(1)
SECOND_PIN = "310031"


def _second_supervisor(inst: Installation) -> Actor:
    auth.add_operator(inst.svc, inst.admin, "supervisor2", "supervisor", "918273")
    auth.login(inst.svc, "supervisor2", "918273", new_pin=SECOND_PIN)
    return auth.start_shift(inst.svc, auth.login(inst.svc, "supervisor2", SECOND_PIN))


def _money_state(inst: Installation) -> tuple[Any, ...]:
    with inst.svc.store.transaction() as conn:
        account = conn.exec_driver_sql("SELECT credit_balance, debt FROM account").one()
        sales = conn.exec_driver_sql("SELECT count(*), sum(amount) FROM sale").one()
        ledger = conn.exec_driver_sql("SELECT count(*) FROM ledger_entry").scalar_one()
        log = conn.exec_driver_sql("SELECT count(*) FROM token_log").scalar_one()
    return (*account, *sales, ledger, log)


def _operations(inst: Installation) -> list[dict[str, Any]]:
    with inst.svc.store.transaction() as conn:
        return list_operations(conn)


# -- reversals ---------------------------------------------------------------------------------


def test_a_supervisor_cannot_reverse_their_own_sale(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.supervisor, METER, "50")
    before = _money_state(inst)
    with pytest.raises(ReversalError, match="another operator than the one who sold it"):
        receipts.reverse(inst.svc, inst.supervisor, sale.number, "customer paid twice")
    assert _money_state(inst) == before  # nothing refunded, nothing written
    other = _second_supervisor(inst)
    out = receipts.reverse(inst.svc, other, sale.number, "customer paid twice")
    assert out.refund == 5000 and out.operator == "supervisor2"


def test_a_sale_above_the_configured_amount_is_not_reversed_at_the_counter() -> None:
    with installation(STSVEND_REVERSAL_MAX_AMOUNT="100.00") as inst:
        inst.meter(METER)
        big = vend.vend(inst.svc, inst.clerk, METER, "100.01")
        before = _money_state(inst)
        with pytest.raises(ReversalError, match=r"more than ZAR 100\.00.*ZAR 100\.01"):
            receipts.reverse(inst.svc, inst.supervisor, big.number, "customer paid twice")
        assert _money_state(inst) == before
        inst.meter(drn(2))
        edge = vend.vend(inst.svc, inst.clerk, drn(2), "100.00")
        reversal = receipts.reverse(inst.svc, inst.supervisor, edge.number, "paid twice")
        assert reversal.refund == 10000


def test_the_default_cap_is_one_thousand(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "1000.01")
    with pytest.raises(ReversalError, match=r"more than ZAR 1000\.00"):
        receipts.reverse(inst.svc, inst.supervisor, sale.number, "customer paid twice")


@pytest.mark.parametrize(
    ("hours", "age", "allowed"),
    [(24, 23.9, True), (24, 24.1, False), (2, 2.5, False), (48, 47, True)],
)
def test_the_reversal_age_is_configured(hours: int, age: float, allowed: bool) -> None:
    with installation(STSVEND_REVERSAL_MAX_AGE_HOURS=str(hours)) as inst:
        inst.meter(METER)
        sale = vend.vend(inst.svc, inst.clerk, METER, "50")
        inst.clock.advance(hours=age)
        if allowed:
            receipts.reverse(inst.svc, inst.supervisor, sale.number, "customer paid twice")
        else:
            with pytest.raises(ReversalError, match=f"within {hours:g} hours"):
                receipts.reverse(inst.svc, inst.supervisor, sale.number, "paid twice")


@pytest.mark.parametrize("value", ["abc", "-5.00", "1.001", "ten"])
def test_a_bad_reversal_cap_is_a_configuration_error(value: str) -> None:
    with installation(STSVEND_REVERSAL_MAX_AMOUNT=value) as inst:
        inst.meter(METER)
        sale = vend.vend(inst.svc, inst.clerk, METER, "50")
        with pytest.raises(ConfigError, match="reversal_max_amount"):
            receipts.reverse(inst.svc, inst.supervisor, sale.number, "customer paid twice")


def test_a_bad_reversal_age_is_refused_when_the_configuration_is_read() -> None:
    with pytest.raises(ConfigError, match="reversal_max_age_hours"):
        installation(STSVEND_REVERSAL_MAX_AGE_HOURS="a day").__enter__()


# -- reprints ----------------------------------------------------------------------------------


def test_a_clerk_reprints_their_own_open_shifts_receipts_only(inst: Installation) -> None:
    inst.meter(METER)
    own = vend.vend(inst.svc, inst.clerk, METER, "25")
    theirs = vend.vend(inst.svc, inst.supervisor, METER, "25")
    assert receipts.reprint(inst.svc, inst.clerk, own.number).tokens == own.tokens
    with pytest.raises(PermissionDenied, match=r"outside their own open shift.*supervisor"):
        receipts.reprint(inst.svc, inst.clerk, theirs.number)
    # A supervisor reprints any receipt.
    assert receipts.reprint(inst.svc, inst.supervisor, own.number).copy is True
    ops = _operations(inst)
    reprints = [(o["operator"], o["action"], o["outcome"], o["target"]) for o in ops
                if o["action"].startswith("reprint")]  # fmt: skip
    assert reprints == [
        ("clerk", "reprint", "ok", str(own.receipt)),
        ("clerk", "reprint.any", "refused", str(theirs.receipt)),
        ("supervisor", "reprint", "ok", str(own.receipt)),
    ]


def test_a_clerk_without_an_open_shift_reprints_nothing(inst: Installation) -> None:
    inst.meter(METER)
    own = vend.vend(inst.svc, inst.clerk, METER, "25")
    shifts.end_shift(inst.svc, inst.clerk)
    no_shift = auth.login(inst.svc, "clerk", PINS["clerk"])
    assert no_shift.shift_id is None
    with pytest.raises(PermissionDenied, match="outside their own open shift"):
        receipts.reprint(inst.svc, no_shift, own.number)
    # A new shift does not reopen the old one's receipts.
    new_shift = auth.start_shift(inst.svc, no_shift)
    with pytest.raises(PermissionDenied, match="outside their own open shift"):
        receipts.reprint(inst.svc, new_shift, own.number)


def test_a_stale_actor_of_a_closed_shift_reprints_nothing(inst: Installation) -> None:
    # The shift is checked in the store, not taken from the actor's memory of it.
    inst.meter(METER)
    own = vend.vend(inst.svc, inst.clerk, METER, "25")
    shifts.end_shift(inst.svc, inst.clerk)
    with pytest.raises(PermissionDenied, match="outside their own open shift"):
        receipts.reprint(inst.svc, inst.clerk, own.number)


def test_another_clerk_cannot_reprint_a_clerks_receipt(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "25")
    auth.add_operator(inst.svc, inst.admin, "clerk2", "clerk", "918273")
    auth.login(inst.svc, "clerk2", "918273", new_pin="210021")
    clerk2 = auth.start_shift(inst.svc, auth.login(inst.svc, "clerk2", "210021"))
    with pytest.raises(PermissionDenied):
        receipts.reprint(inst.svc, clerk2, sale.number)
