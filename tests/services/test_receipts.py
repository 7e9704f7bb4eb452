"""Reprints (COPY), reversals (supervisor, reason, latest sale only; the token stays in the log,
marked), engineering and test tokens."""

from __future__ import annotations

import pytest

from stsvend import sts
from stsvend.services import engineering, receipts, vend
from stsvend.store.errors import RecordNotFoundError
from stsvend.tokenlog.reader import verify_log
from stsvend.vending.errors import EngineeringRuleError, PermissionDenied, ReversalError
from tests.services.helpers import LOG_KEY, Installation, digits, drn

METER = drn(1)


def _account(inst: Installation) -> tuple[int, int, int]:
    with inst.svc.store.transaction() as conn:
        row = conn.exec_driver_sql("SELECT credit_balance, debt, emergency_debt FROM account").one()
    return tuple(row)


def test_a_reprint_is_the_same_receipt_marked_copy(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "25")
    copy = receipts.reprint(inst.svc, inst.clerk, sale.number)
    assert copy.copy is True and copy.mark == "COPY"
    assert copy.tokens == sale.tokens and copy.receipt == sale.receipt
    with pytest.raises(RecordNotFoundError):
        receipts.reprint(inst.svc, inst.clerk, 999)
    with pytest.raises(Exception, match="whole number"):
        receipts.reprint(inst.svc, inst.clerk, "abc")


def test_a_reversal_refunds_restores_the_account_and_marks_the_token(inst: Installation) -> None:
    inst.meter(METER, debt="100", debt_recovery_percent="10")
    before = _account(inst)
    sale = vend.vend(inst.svc, inst.clerk, METER, "50")
    assert _account(inst) != before
    with pytest.raises(PermissionDenied):
        receipts.reverse(inst.svc, inst.clerk, sale.number, "customer paid twice")
    out = receipts.reverse(inst.svc, inst.supervisor, sale.number, "customer paid twice")
    assert out.refund == 5000 and "cannot be revoked" in out.notes[0]
    assert _account(inst) == before
    with inst.svc.store.transaction() as conn:
        total = conn.exec_driver_sql("SELECT sum(amount) FROM ledger_entry").scalar_one()
        marks = conn.exec_driver_sql("SELECT event, ref_seq, note FROM token_log ORDER BY id").all()
        assert verify_log(conn, LOG_KEY).ok
    assert total == 0
    assert [tuple(m) for m in marks] == [
        ("token", None, None),
        ("reversal", 1, "customer paid twice"),
    ]
    with pytest.raises(ReversalError, match="already reversed"):
        receipts.reverse(inst.svc, inst.supervisor, sale.number, "customer paid twice")
    copy = receipts.reprint(inst.svc, inst.clerk, sale.number)
    assert copy.reversed_by == out.receipt


def test_only_the_latest_sale_of_an_account_is_reversed(inst: Installation) -> None:
    inst.meter(METER)
    first = vend.vend(inst.svc, inst.clerk, METER, "20")
    vend.vend(inst.svc, inst.clerk, METER, "20")
    with pytest.raises(ReversalError, match="later sale"):
        receipts.reverse(inst.svc, inst.supervisor, first.number, "customer paid twice")
    with pytest.raises(ReversalError, match="reason"):
        receipts.reverse(inst.svc, inst.supervisor, first.number, "no")


def test_engineering_tokens_need_an_engineer_and_a_work_order(inst: Installation) -> None:
    inst.meter(METER)
    with pytest.raises(PermissionDenied):
        engineering.engineering_token(inst.svc, inst.clerk, METER, "clear-tamper",
                                      work_order="WO-1")  # fmt: skip
    with pytest.raises(EngineeringRuleError, match="work-order"):
        engineering.engineering_token(inst.svc, inst.engineer, METER, "clear-tamper",
                                      work_order=" ")  # fmt: skip
    with pytest.raises(EngineeringRuleError, match="unknown engineering token"):
        engineering.engineering_token(inst.svc, inst.engineer, METER, "self-destruct",
                                      work_order="WO-1")  # fmt: skip
    out = engineering.engineering_token(inst.svc, inst.engineer, METER, "max-power-limit",
                                        work_order="WO-7", value=5000)  # fmt: skip
    [token] = out.tokens
    decoded = inst.svc.hsm.decode_token(
        sts.MeterIdentity.parse(None, METER),
        sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=2014),
        digits(token),
    )
    assert (decoded.token_class, decoded.subclass) == (2, 0)
    assert decoded.fields["amount_field"] == 5000
    with inst.svc.store.transaction() as conn:
        note = conn.exec_driver_sql("SELECT note FROM token_log").scalar_one()
    assert note == "work order WO-7"


def test_test_tokens_are_logged_with_or_without_a_meter(inst: Installation) -> None:
    inst.meter(METER)
    anywhere = engineering.issue_test_token(inst.svc, inst.clerk, 1)
    here = engineering.issue_test_token(inst.svc, inst.clerk, 3, drn=METER)
    assert sts.decode_token(digits(anywhere.tokens[0]), None).fields["control"] == 1
    assert here.meter is not None and here.meter.drn == METER
    with inst.svc.store.transaction() as conn:
        chains = conn.exec_driver_sql("SELECT chain FROM token_log ORDER BY id").scalars().all()
    assert chains == ["*", METER]
    with pytest.raises(PermissionDenied):
        engineering.issue_test_token(inst.svc, inst.actors["auditor"], 1)
    with pytest.raises(EngineeringRuleError):
        engineering.issue_test_token(inst.svc, inst.clerk, 0)
