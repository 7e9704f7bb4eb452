"""The counter's services: finding a meter by meter, contract or customer number; the end of a
session and of a shift with the cash counted; the examples in the new modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

from stsvend.errors import InputError
from stsvend.services import auth, registry, shifts, vend
from stsvend.services.context import Actor
from stsvend.services.counter import FoundMeter, end_session, find_meters
from stsvend.services.results import as_doc
from stsvend.store.errors import RecordNotFoundError
from stsvend.vending.errors import PermissionDenied
from stsvend.vending.meters import MeterStatus
from tests.services.helpers import Installation, drn


def _drns(found: tuple[FoundMeter, ...]) -> list[str]:
    return [m.drn for m in found]


def test_a_meter_is_found_by_its_number_contract_or_customer(inst: Installation) -> None:
    inst.meter(drn(1), contract="K-1")
    inst.meter(drn(2), contract="K-2")
    clerk = inst.clerk
    (by_drn,) = find_meters(inst.svc, clerk, drn(1))
    assert by_drn == FoundMeter(drn(1), MeterStatus.ACTIVE, "K-1", f"C-{drn(1)}", "meter")
    assert as_doc(by_drn) == {"drn": drn(1), "status": "active", "contract": "K-1",
                              "customer": f"C-{drn(1)}", "matched": "meter"}  # fmt: skip
    spaced = f"{drn(2)[:4]} {drn(2)[4:8]}-{drn(2)[8:]}"
    assert _drns(find_meters(inst.svc, clerk, spaced)) == [drn(2)]
    assert find_meters(inst.svc, clerk, "  K-2 ")[0].matched == "contract"
    assert find_meters(inst.svc, clerk, f"C-{drn(1)}")[0].matched == "customer"


def test_a_customer_with_several_open_accounts_names_each_meter(inst: Installation) -> None:
    inst.meter(drn(1), contract="K-1")
    registry.add_meter(inst.svc, inst.admin, drn(2), sgc=123456)
    registry.add_meter(inst.svc, inst.admin, drn(3), sgc=123456)
    for n, contract in ((2, "K-2"), (3, "K-3")):
        registry.open_account(inst.svc, inst.admin, customer=f"C-{drn(1)}", contract=contract,
                              drn=drn(n), tariff="FLAT")  # fmt: skip
    assert _drns(find_meters(inst.svc, inst.clerk, f"C-{drn(1)}")) == [drn(1), drn(2), drn(3)]
    # A closed account no longer names its meter by contract or customer.
    registry.close_account(inst.svc, inst.admin, "K-3")
    assert _drns(find_meters(inst.svc, inst.clerk, f"C-{drn(1)}")) == [drn(1), drn(2)]
    with pytest.raises(RecordNotFoundError):
        find_meters(inst.svc, inst.clerk, "K-3")
    (alone,) = find_meters(inst.svc, inst.clerk, drn(3))
    assert alone.contract is None and alone.customer is None


def test_numbers_that_look_alike(inst: Installation) -> None:
    # A contract numbered like a meter with a wrong check digit is still found as a contract.
    wrong = drn(1)[:-1] + str((int(drn(1)[-1]) + 1) % 10)
    inst.meter(drn(1), contract=wrong)
    assert find_meters(inst.svc, inst.clerk, wrong)[0].matched == "contract"
    with pytest.raises(RecordNotFoundError, match="no meter, contract or customer number"):
        find_meters(inst.svc, inst.clerk, drn(9))
    for bad in ("", "   ", "x" * 41, "K-1\x07"):
        with pytest.raises(InputError):
            find_meters(inst.svc, inst.clerk, bad)


def test_the_cash_counted_at_the_end_of_a_shift(inst: Installation) -> None:
    inst.meter(drn(1))
    vend.vend(inst.svc, inst.clerk, drn(1), "40")
    vend.emergency_credit(inst.svc, inst.clerk, drn(1))  # no money changes hands
    for bad in (-1, 1.5, "10", True):
        with pytest.raises(InputError):
            shifts.end_shift(inst.svc, inst.clerk, cash_counted=bad)  # type: ignore[arg-type]
    report = shifts.end_shift(inst.svc, inst.clerk, cash_counted=4100)
    assert as_doc(report.cash) == {"currency": inst.svc.config.currency, "expected": 4000,
                                   "counted": 4100, "difference": 100}  # fmt: skip
    # Ended once: a second end (another session of the same shift) changes nothing.
    with pytest.raises(auth.ShiftError, match="already closed"):
        shifts.end_shift(inst.svc, inst.clerk, cash_counted=0)
    with pytest.raises(auth.ShiftError, match="has been closed"):
        auth.require_open_shift(inst.svc, inst.clerk)
    with inst.svc.store.transaction() as conn:
        row = conn.exec_driver_sql("SELECT cash_counted FROM shift WHERE id = ?",
                                   (report.shift,)).one()  # fmt: skip
    assert row[0] == 4100


def test_the_end_of_a_session_is_in_the_operation_log(inst: Installation) -> None:
    before = inst.count("operation_log")
    end_session(inst.svc, inst.clerk, "idle", 3)
    assert inst.count("operation_log") == before + 1
    with pytest.raises(ValueError):
        end_session(inst.svc, inst.clerk, "bored", 0)


def test_finding_a_meter_is_refused_to_an_actor_without_a_known_role(inst: Installation) -> None:
    actor = Actor(inst.clerk.operator_id, "clerk", "nobody", "T1")
    with pytest.raises(PermissionDenied, match="unknown role 'nobody'"):
        find_meters(inst.svc, actor, "K-1")


@pytest.mark.parametrize("name", ["stsvend.services.counter", "stsvend.services.shifts",
                                  "stsvend_cli.shift_report", "stsvend_cli.counter_sale",
                                  "stsvend_cli.counter_term"])  # fmt: skip
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
