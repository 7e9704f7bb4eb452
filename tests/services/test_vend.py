"""Credit vend, trial, emergency credit and free issue: figures, tokens, ledger, log, refusals."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import IdempotencyMismatch, InputError, KeyExpiredError, TidError
from stsvend.services import registry, vend
from stsvend.services.auth import ShiftError
from stsvend.services.common import NoAccountError
from stsvend.services.context import Actor
from stsvend.services.receipt_model import TokenEntry
from stsvend.store.errors import RecordNotFoundError
from stsvend.vending.errors import (
    AmountTooLarge,
    AmountTooSmall,
    DailyLimitExceeded,
    EmergencyCreditError,
    FreeIssueError,
    KeyChangeError,
    MeterBlocked,
    PermissionDenied,
)
from tests.services.helpers import Installation, digits, drn, installation, tid

METER = drn(1)


def _decode(inst: Installation, meter: str, token: TokenEntry) -> sts.DecodedToken:
    hsm = inst.svc.hsm
    identity = sts.MeterIdentity.parse(None, meter)
    data = sts.KeyData(sgc=token.sgc, ti=token.ti, krn=token.krn, key_type=2,
                       base_date=token.base_date)  # fmt: skip
    return hsm.decode_token(identity, data, digits(token))


def _ledger(inst: Installation, sale: int) -> list[tuple[str, int, int]]:
    with inst.svc.store.transaction() as conn:
        rows = conn.exec_driver_sql(
            "SELECT entry, amount, units FROM ledger_entry WHERE sale_id = ? ORDER BY id", (sale,)
        ).all()
    return [tuple(r) for r in rows]


def test_a_vend_makes_a_token_the_ledger_and_the_log_agree_with(inst: Installation) -> None:
    inst.meter(METER)
    result = vend.vend(inst.svc, inst.clerk, METER, "100")
    assert result.units == 500 and result.test is True
    [token] = result.tokens
    decoded = _decode(inst, METER, token)
    assert sts.decode_amount(decoded.fields["amount_field"]) == result.units
    assert decoded.fields["tid"] == token.tid == sts.tid_at(inst.clock.now, sts.BaseDate.Y2014)
    ledger = _ledger(inst, result.number)
    assert sum(amount for _, amount, _ in ledger) == 0
    assert ("payment", 10_000, 0) in ledger
    assert sum(units for _, _, units in ledger) == result.units
    assert inst.count("token_log") == 1


def test_tids_rise_per_meter_and_skip_the_reserved_minute(inst: Installation) -> None:
    inst.meter(METER)
    # 00:01 local-UTC minute of a day: TID mod 1440 == 1 is reserved.
    inst.clock.now = inst.clock.now.replace(hour=0, minute=1)
    tids = [tid(vend.vend(inst.svc, inst.clerk, METER, "10").tokens[0]) for _ in range(3)]
    assert all(not sts.is_reserved_tid(t) for t in tids)
    assert tids == sorted(set(tids)) and tids[1] == tids[0] + 1


def test_a_repeated_request_id_returns_the_first_receipt_and_issues_nothing(
    inst: Installation,
) -> None:
    inst.meter(METER)
    first = vend.vend(inst.svc, inst.clerk, METER, "50", request_id="req-1")
    again = vend.vend(inst.svc, inst.clerk, METER, "50", request_id="req-1")
    assert again.replayed is True and first.replayed is False
    assert again.tokens == first.tokens and again.receipt == first.receipt
    assert inst.count("sale") == 1 and inst.count("token_log") == 1
    with pytest.raises(IdempotencyMismatch, match="already used"):
        vend.emergency_credit(inst.svc, inst.clerk, METER, request_id="req-1")


def test_commissioning_key_change_goes_first_and_credit_under_the_new_key(
    inst: Installation,
) -> None:
    out = inst.meter(METER, default_key=True)
    assert out.commissioning is not None and out.commissioning.state == "pending"
    result = vend.vend(inst.svc, inst.clerk, METER, "20")
    labels = [t.label for t in result.tokens]
    assert labels == ["Key change 1 of 2", "Key change 2 of 2", "Credit"]
    assert result.key_change_first and result.meter is not None and result.meter.key_type == 2
    # A meter model on the default key takes the tokens in the printed order.
    from stsvend.meter import Meter, MeterProfile

    identity = sts.MeterIdentity.parse(None, METER)
    profile = MeterProfile.derive(
        identity, sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1, base_date=2014),
        bytes.fromhex("abababababababab"),
    )  # fmt: skip
    meter = Meter.manufacture(profile, inst.clock.now.replace(day=1))
    answers = [meter.enter(digits(t), inst.clock.now) for t in result.tokens]
    assert all(a.accepted for a in answers), answers
    assert meter.credit == 100  # 10.0 kWh for ZAR 20 at 2.00
    # Until confirmed, every sale repeats the key change tokens.
    inst.clock.advance(minutes=1)
    again = vend.vend(inst.svc, inst.clerk, METER, "20")
    assert [t.label for t in again.tokens][:2] == labels[:2]


def test_a_default_key_meter_without_a_key_change_gets_no_credit(inst: Installation) -> None:
    from stsvend.services import keychange

    inst.meter(METER, default_key=True)
    keychange.cancel(inst.svc, inst.supervisor, METER, "wrong meter model")
    with pytest.raises(KeyChangeError, match="default key"):
        vend.vend(inst.svc, inst.clerk, METER, "20")


@pytest.mark.parametrize(
    ("amount", "error", "message"),
    [
        ("0.50", AmountTooSmall, "below this meter's minimum"),
        ("10000.01", AmountTooLarge, "above this meter's maximum"),
        ("abc", Exception, "plain digits"),
        ("1.001", Exception, "decimal places"),
    ],
)
def test_amounts_outside_the_limits_are_refused(
    inst: Installation, amount: str, error: type[Exception], message: str
) -> None:
    inst.meter(METER)
    with pytest.raises(error, match=message):
        vend.vend(inst.svc, inst.clerk, METER, amount)
    assert inst.count("sale") == 0


def test_the_daily_limit_counts_the_local_day(inst: Installation) -> None:
    inst.meter(METER)
    registry.set_limits(inst.svc, inst.admin, METER, minimum="1", maximum="100", daily="150")
    vend.vend(inst.svc, inst.clerk, METER, "100")
    with pytest.raises(DailyLimitExceeded, match="daily maximum"):
        vend.vend(inst.svc, inst.clerk, METER, "60")
    inst.clock.advance(days=1)
    vend.vend(inst.svc, inst.clerk, METER, "60")


def test_refusals_for_meter_account_shift_and_role(inst: Installation) -> None:
    inst.meter(METER)
    with pytest.raises(RecordNotFoundError, match="no meter"):
        vend.vend(inst.svc, inst.clerk, drn(99), "10")
    with pytest.raises(sts.MeterIdentity.parse.__globals__["CheckDigitError"]):
        vend.vend(inst.svc, inst.clerk, "01000000018", "10")
    registry.set_meter_blocked(inst.svc, inst.supervisor, METER, True, "meter tampered")
    with pytest.raises(MeterBlocked):
        vend.vend(inst.svc, inst.clerk, METER, "10")
    registry.set_meter_blocked(inst.svc, inst.supervisor, METER, False, "inspected, fine")
    with pytest.raises(PermissionDenied, match="an auditor may not vend"):
        vend.vend(inst.svc, inst.actors["auditor"], METER, "10")
    no_shift = Actor(inst.clerk.operator_id, "clerk", "clerk", "T1", None)
    with pytest.raises(ShiftError, match="no open shift"):
        vend.vend(inst.svc, no_shift, METER, "10")
    registry.add_meter(inst.svc, inst.admin, drn(2), sgc=123456)
    with pytest.raises(NoAccountError):
        vend.vend(inst.svc, inst.clerk, drn(2), "10")
    vend.vend(inst.svc, inst.clerk, METER, "10")
    assert inst.count("sale") == 1


def test_a_base_date_past_its_range_and_a_passed_ken_are_refused() -> None:
    with installation() as inst:
        registry.add_group(inst.svc, inst.admin, 123457, name="Old", krn=1, base_date=1993)
        inst.meter(METER, sgc=123457)
        with pytest.raises(TidError, match="rollover"):
            vend.vend(inst.svc, inst.clerk, METER, "10")
    with installation() as inst:
        registry.add_group(inst.svc, inst.admin, 123457, name="Low KEN", krn=1, ken=90)
        inst.meter(METER, sgc=123457)
        with pytest.raises(KeyExpiredError, match="KEN 90"):
            vend.vend(inst.svc, inst.clerk, METER, "10")
        assert inst.count("sale") == 0 and inst.count("meter_tid") == 0


def test_a_trial_gives_the_figures_and_writes_nothing(inst: Installation) -> None:
    inst.meter(METER)
    by_money = vend.trial(inst.svc, inst.clerk, METER, amount="100")
    by_units = vend.trial(inst.svc, inst.clerk, METER, units=500)
    assert by_money.units == 500 and by_units.money.tendered == 10_000
    assert inst.count("sale") == 0 and inst.count("token_log") == 0
    assert inst.count("meter_tid") == 0
    with pytest.raises(InputError):
        vend.trial(inst.svc, inst.clerk, METER)


def test_emergency_credit_is_a_debt_repaid_by_the_next_purchase(inst: Installation) -> None:
    inst.meter(METER)
    grant = vend.emergency_credit(inst.svc, inst.clerk, METER)
    assert grant.units == 100 and grant.debt == 2000
    with pytest.raises(EmergencyCreditError, match="unpaid"):
        vend.emergency_credit(inst.svc, inst.clerk, METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "100")
    assert sale.money is not None
    kinds = [line.kind.value for line in sale.money.lines]
    assert kinds[0] == "emergency_repayment" and sale.units == 400
    assert sum(a for _, a, _ in _ledger(inst, grant.number)) == 0


def test_free_issue_needs_a_supervisor_a_reason_and_respects_the_caps(inst: Installation) -> None:
    inst.meter(METER)
    with pytest.raises(PermissionDenied):
        vend.free_issue(inst.svc, inst.clerk, METER, 100, "goodwill credit")
    with pytest.raises(FreeIssueError, match="reason"):
        vend.free_issue(inst.svc, inst.supervisor, METER, 100, "no")
    out = vend.free_issue(inst.svc, inst.supervisor, METER, 500, "meter fault WO-12")
    assert out.units == 500
    vend.free_issue(inst.svc, inst.supervisor, METER, 500, "meter fault WO-13")
    with pytest.raises(FreeIssueError, match="monthly cap"):
        vend.free_issue(inst.svc, inst.supervisor, METER, 100, "meter fault WO-14")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=100, max_value=500_000), min_size=1, max_size=6))
def test_every_sale_balances_and_the_token_carries_the_ledger_units(amounts: list[int]) -> None:
    with installation() as inst:
        inst.meter(METER, debt="300", debt_recovery_percent="25")
        last_tid = -1
        for minor in amounts:
            result = vend.vend(inst.svc, inst.clerk, METER, f"{minor // 100}.{minor % 100:02d}")
            ledger = _ledger(inst, result.number)
            assert sum(a for _, a, _ in ledger) == 0
            energy_units = sum(u for e, _, u in ledger if e in {"energy", "free_units"})
            assert energy_units == result.units
            if result.tokens:
                decoded = _decode(inst, METER, result.tokens[-1])
                assert sts.decode_amount(decoded.fields["amount_field"]) == result.units
                assert decoded.fields["tid"] > last_tid
                last_tid = decoded.fields["tid"]
