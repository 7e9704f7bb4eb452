"""Reversal, engineering, test-token, free-issue, emergency and meter rules; token specs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stsvend import sts
from stsvend.errors import AmountError, FieldRangeError
from stsvend.keystore import SoftwareSecurityModule, demo_key_file
from stsvend.vending import (
    ENGINEERING_RULES,
    REVERSAL_NOTICE,
    AccountState,
    EmergencyCreditError,
    EmergencyCreditPolicy,
    EngineeringKind,
    EngineeringRequest,
    EngineeringRuleError,
    FreeIssueError,
    FreeIssuePolicy,
    KeyChangeError,
    MeterBlocked,
    MeterStatus,
    Money,
    MonthToDate,
    PermissionDenied,
    ReversalCandidate,
    ReversalError,
    ReversalPolicy,
    Role,
    Tariff,
    TestTokenRequest,
    TokenPurpose,
    allocate_tids,
    check_engineering,
    check_free_issue,
    check_meter_can_receive,
    check_reversal,
    check_reversal_limits,
    check_test_token,
    compute_sale,
    credit_spec,
    engineering_spec,
    grant_emergency_credit,
    group_digits,
    restored_states,
    test_token_spec,
)

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
METER = sts.MeterIdentity.parse(None, "00000000000")
UNIQUE = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=2014)
ELEC, WATER = sts.Resource.ELECTRICITY, sts.Resource.WATER
SELLER, OTHER = 3, 4


def sale_candidate(**changes: object) -> ReversalCandidate:
    values: dict[str, object] = {
        "purpose": TokenPurpose.SALE, "issued_at": NOW - timedelta(hours=2),
        "reversed": False, "latest_for_account": True, "seller_id": SELLER,
        "amount": Money.parse("50.00", "ZAR"),
    }  # fmt: skip
    values.update(changes)
    return ReversalCandidate(**values)  # type: ignore[arg-type]


# -- reversal ----------------------------------------------------------------------------------


def test_a_supervisor_reverses_the_latest_sale_with_a_reason() -> None:
    assert check_reversal(
        Role.SUPERVISOR, "  paid  twice ", sale_candidate(), reverser_id=OTHER, now=NOW
    ) == ("paid twice")


@pytest.mark.parametrize(
    ("role", "reason", "candidate", "error", "message"),
    [(Role.CLERK, "paid twice", sale_candidate(), PermissionDenied, "may not reverse"),
     (Role.SUPERVISOR, "", sale_candidate(), ReversalError, "needs a reason"),
     (Role.SUPERVISOR, "oops", sale_candidate(), ReversalError, "at least 5"),
     (Role.SUPERVISOR, None, sale_candidate(), ReversalError, "needs a reason"),
     (Role.SUPERVISOR, "x" * 501, sale_candidate(), ReversalError, "longer than 500"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(purpose=TokenPurpose.FREE_ISSUE),
      ReversalError, "this token is a free issue"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(purpose=TokenPurpose.KEY_CHANGE),
      ReversalError, "only a sale"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(reversed=True), ReversalError,
      "already reversed"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(issued_at=NOW - timedelta(hours=25)),
      ReversalError, "within 24 hours"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(issued_at=NOW + timedelta(minutes=5)),
      ReversalError, "after now"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(latest_for_account=False), ReversalError,
      "reverse that one first"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(seller_id=OTHER), ReversalError,
      "another operator than the one who sold it"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(amount=Money.parse("1000.01", "ZAR")),
      ReversalError, "more than ZAR 1000.00 .* this one is ZAR 1000.01"),
     (Role.SUPERVISOR, "paid twice", sale_candidate(amount=Money.parse("5.00", "KES")),
      ReversalError, "more than ZAR 1000.00")],
)  # fmt: skip
def test_reversal_refusals(
    role: Role, reason: object, candidate: ReversalCandidate, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_reversal(role, reason, candidate, reverser_id=OTHER, now=NOW, policy=CAPPED)


CAPPED = ReversalPolicy(max_amount=Money.parse("1000.00", "ZAR"))


def test_the_reversal_window_is_a_policy() -> None:
    old = sale_candidate(issued_at=NOW - timedelta(days=3))
    policy = ReversalPolicy(window=timedelta(days=7))
    assert check_reversal(
        Role.SUPERVISOR, "bank reversal", old, reverser_id=OTHER, now=NOW, policy=policy
    )


@pytest.mark.parametrize("minor", [0, 1, 99_999, 100_000])
def test_a_sale_up_to_the_cap_is_reversed(minor: int) -> None:
    sale = sale_candidate(amount=Money(minor, "ZAR"))
    assert check_reversal(
        Role.SUPERVISOR, "paid twice", sale, reverser_id=OTHER, now=NOW, policy=CAPPED
    )


def test_the_seller_never_reverses_their_own_sale_whatever_the_policy() -> None:
    generous = ReversalPolicy(window=timedelta(days=365), max_amount=None)
    with pytest.raises(ReversalError, match="another operator"):
        check_reversal(
            Role.SUPERVISOR, "paid twice", sale_candidate(), reverser_id=SELLER, now=NOW,
            policy=generous,
        )  # fmt: skip


def test_the_limits_alone_serve_a_reversal_without_an_operator() -> None:
    # An automatic path (no operator, no reason) keeps the same limits under its own policy.
    tight = ReversalPolicy(window=timedelta(minutes=10), max_amount=Money.parse("100", "ZAR"))
    check_reversal_limits(sale_candidate(issued_at=NOW - timedelta(minutes=5)), now=NOW,
                          policy=tight)  # fmt: skip
    with pytest.raises(ReversalError, match=r"within 10 minutes"):
        check_reversal_limits(sale_candidate(), now=NOW, policy=tight)


def test_a_reversal_puts_the_balances_back_and_says_the_token_stays() -> None:
    tariff = Tariff.flat("Flat", "ZAR", "2.00", fixed_charge="10")
    account = AccountState("ZAR", credit_balance=5, debt=1000, debt_recovery_bp=1000)
    sale = compute_sale(Money.parse("55", "ZAR"), tariff, MonthToDate(), account)
    assert restored_states(sale) == (account, MonthToDate())
    assert "cannot be revoked at the meter" in REVERSAL_NOTICE


# -- engineering -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "resource", "subclass", "field"),
    [(EngineeringKind.MAX_POWER_LIMIT, 16383, ELEC, 0, 16383),
     (EngineeringKind.MAX_POWER_LIMIT, 20004, ELEC, 0, sts.encode_amount(20004)),
     (EngineeringKind.CLEAR_CREDIT, 0xFFFF, ELEC, 1, 0xFFFF),
     (EngineeringKind.CLEAR_CREDIT, 1, WATER, 1, 1),
     (EngineeringKind.CLEAR_TAMPER, None, WATER, 5, 0),
     (EngineeringKind.PHASE_UNBALANCE_LIMIT, 3000, ELEC, 6, 3000),
     (EngineeringKind.WATER_METER_FACTOR, 1234, WATER, 7, 1234)],
)  # fmt: skip
def test_allowed_engineering_tokens(
    kind: EngineeringKind, value: int | None, resource: sts.Resource, subclass: int, field: int
) -> None:
    request = check_engineering(Role.ENGINEER, EngineeringRequest(kind, " WO-1 ", value),
                                resource=resource)  # fmt: skip
    assert request.work_order == "WO-1"
    spec = engineering_spec(request, tid=99, rnd=4)
    assert (spec.token_class, spec.subclass, spec.purpose) == (
        2,
        subclass,
        TokenPurpose.ENGINEERING,
    )
    assert spec.fields == {"rnd": 4, "tid": 99, "amount_field": field} and spec.tid == 99


@pytest.mark.parametrize(
    ("role", "request_", "resource", "error", "message"),
    [(Role.SUPERVISOR, EngineeringRequest(EngineeringKind.CLEAR_TAMPER, "WO-1"), ELEC,
      PermissionDenied, "engineering token"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.CLEAR_TAMPER, ""), ELEC,
      EngineeringRuleError, "work-order reference"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.CLEAR_TAMPER, "WO 1"), ELEC,
      EngineeringRuleError, "work-order reference"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.TARIFF_RATE, "WO-1", 5), ELEC,
      EngineeringRuleError, "reserved for future definition"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.WATER_METER_FACTOR, "WO-1", 5), ELEC,
      EngineeringRuleError, "for water meters, not electricity"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.MAX_POWER_LIMIT, "WO-1", 5), WATER,
      EngineeringRuleError, "for electricity meters"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.MAX_POWER_LIMIT, "WO-1", 20009), ELEC,
      EngineeringRuleError, "nearest values are 20004 W and 20014 W"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.MAX_POWER_LIMIT, "WO-1", -1), ELEC,
      EngineeringRuleError, "W, got -1"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.MAX_POWER_LIMIT, "WO-1"), ELEC,
      EngineeringRuleError, "needs an integer"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.CLEAR_CREDIT, "WO-1", 9), ELEC,
      EngineeringRuleError, "unknown register 9"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.CLEAR_TAMPER, "WO-1", 3), ELEC,
      EngineeringRuleError, "takes no value"),
     (Role.ENGINEER, EngineeringRequest(EngineeringKind.WATER_METER_FACTOR, "WO-1", 70000),
      WATER, EngineeringRuleError, "16-bit")],
)  # fmt: skip
def test_engineering_refusals(
    role: Role, request_: EngineeringRequest, resource: sts.Resource,
    error: type[Exception], message: str,
) -> None:  # fmt: skip
    with pytest.raises(error, match=message):
        check_engineering(role, request_, resource=resource)


def test_a_refused_kind_never_becomes_a_spec() -> None:
    with pytest.raises(EngineeringRuleError):
        engineering_spec(EngineeringRequest(EngineeringKind.TARIFF_RATE, "WO-1", 1), tid=1, rnd=1)


def test_key_sections_are_not_engineering_tokens() -> None:
    assert {rule.subclass for rule in ENGINEERING_RULES.values()}.isdisjoint({3, 4, 8, 9})


def test_test_tokens() -> None:
    for role in (Role.CLERK, Role.SUPERVISOR, Role.ENGINEER):
        check_test_token(role, TestTokenRequest(control=1))
    spec = test_token_spec(
        check_test_token(Role.CLERK, TestTokenRequest(control=3, manufacturer_code=42))
    )
    assert (spec.token_class, spec.subclass, spec.tid, spec.purpose) == (
        1,
        0,
        None,
        TokenPurpose.TEST,
    )
    four = test_token_spec(TestTokenRequest(control=1, manufacturer_code=1234, four_digit=True))
    extended = test_token_spec(TestTokenRequest(control=1, extended=True))
    assert (four.subclass, extended.subclass) == (1, 2)
    hsm = SoftwareSecurityModule.from_key_file(demo_key_file())
    made = hsm.encode_token(METER, UNIQUE, spec.token_class, spec.subclass, spec.fields)
    assert made == sts.test_token(3, 42)


@pytest.mark.parametrize(
    ("role", "request_", "error", "message"),
    [(Role.AUDITOR, TestTokenRequest(control=1), PermissionDenied, "test token"),
     (Role.CLERK, TestTokenRequest(control=0), EngineeringRuleError, "control is"),
     (Role.CLERK, TestTokenRequest(control=1 << 36), EngineeringRuleError, "control is"),
     (Role.CLERK, TestTokenRequest(control=1 << 28, four_digit=True), EngineeringRuleError,
      "control is"),
     (Role.CLERK, TestTokenRequest(control=1, manufacturer_code=100), EngineeringRuleError,
      "0..99"),
     (Role.CLERK, TestTokenRequest(control=1, manufacturer_code=10000, four_digit=True),
      EngineeringRuleError, "0..9999"),
     (Role.CLERK, TestTokenRequest(control=1, four_digit=True, extended=True),
      EngineeringRuleError, "2-digit")],
)  # fmt: skip
def test_test_token_refusals(
    role: Role, request_: TestTokenRequest, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_test_token(role, request_)


# -- free issue --------------------------------------------------------------------------------


def test_free_issue_within_the_policy() -> None:
    assert check_free_issue(Role.SUPERVISOR, 500, "faulty meter", issued_this_month=500) == (
        "faulty meter"
    )
    policy = FreeIssuePolicy(max_units=20004, max_units_per_month=40000)
    check_free_issue(Role.SUPERVISOR, 20004, "flood relief", issued_this_month=0, policy=policy)


@pytest.mark.parametrize(
    ("role", "units", "reason", "month", "error", "message"),
    [(Role.CLERK, 100, "goodwill", 0, PermissionDenied, "free issue"),
     (Role.SUPERVISOR, 100, "", 0, FreeIssueError, "needs a reason"),
     (Role.SUPERVISOR, 0, "goodwill", 0, FreeIssueError, "positive number"),
     (Role.SUPERVISOR, 501, "goodwill", 0, FreeIssueError, "at most 50.0 units"),
     (Role.SUPERVISOR, 400, "goodwill", 700, FreeIssueError, "monthly cap is 100.0")],
)  # fmt: skip
def test_free_issue_refusals(
    role: Role, units: int, reason: str, month: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_free_issue(role, units, reason, issued_this_month=month)


def test_free_issue_of_a_value_no_token_carries() -> None:
    policy = FreeIssuePolicy(max_units=30000, max_units_per_month=30000)
    with pytest.raises(FreeIssueError, match="at most 20004"):
        check_free_issue(Role.SUPERVISOR, 20009, "goodwill", issued_this_month=0, policy=policy)


def test_free_issue_policy_caps_are_positive() -> None:
    with pytest.raises(FreeIssueError):
        FreeIssuePolicy(max_units=0)


# -- emergency credit --------------------------------------------------------------------------

FLAT = Tariff.flat("Flat", "ZAR", "2.00", tax_percent="15")


def test_emergency_credit_refusals() -> None:
    with pytest.raises(EmergencyCreditError, match="gives no emergency credit"):
        grant_emergency_credit(EmergencyCreditPolicy(), FLAT, MonthToDate(), AccountState("ZAR"))
    with pytest.raises(EmergencyCreditError, match="still unpaid"):
        grant_emergency_credit(EmergencyCreditPolicy(units=100), FLAT, MonthToDate(),
                               AccountState("ZAR", emergency_debt=1))  # fmt: skip
    with pytest.raises(EmergencyCreditError, match="account is in KES"):
        grant_emergency_credit(EmergencyCreditPolicy(units=100), FLAT, MonthToDate(),
                               AccountState("KES"))  # fmt: skip
    for bad in ({"units": 20009}, {"units": -1}, {"repayment_bp": 0}, {"repayment_bp": 10001}):
        with pytest.raises(EmergencyCreditError):
            EmergencyCreditPolicy(**bad)


def test_emergency_credit_is_priced_at_the_account_s_block() -> None:
    steps = Tariff.inclining("Steps", "ZAR", [(50, "1.00"), (None, "3.00")])
    grant = grant_emergency_credit(EmergencyCreditPolicy(units=100), steps, MonthToDate(units=20),
                                   AccountState("ZAR"))  # fmt: skip
    assert [(c.block, c.units, c.amount) for c in grant.charges] == [(1, 30, 300), (2, 70, 2100)]
    assert grant.debt == Money(2400, "ZAR") and grant.month_after.units == 120


# -- meters and token specs --------------------------------------------------------------------


def test_blocked_meters_get_no_credit_but_engineering_still() -> None:
    for purpose in (TokenPurpose.SALE, TokenPurpose.FREE_ISSUE, TokenPurpose.EMERGENCY_CREDIT):
        with pytest.raises(MeterBlocked):
            check_meter_can_receive(MeterStatus.BLOCKED, UNIQUE, purpose)
        check_meter_can_receive(MeterStatus.ACTIVE, UNIQUE, purpose)
    for purpose in (TokenPurpose.ENGINEERING, TokenPurpose.TEST, TokenPurpose.KEY_CHANGE):
        check_meter_can_receive(MeterStatus.BLOCKED, UNIQUE, purpose)


@pytest.mark.parametrize(("key_type", "name"), [(1, "default"), (0, "initialisation")])
def test_default_key_meters_get_no_credit(key_type: int, name: str) -> None:
    data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=key_type)
    with pytest.raises(KeyChangeError, match=f"on its {name} key"):
        check_meter_can_receive(MeterStatus.ACTIVE, data, TokenPurpose.SALE)


def test_a_sale_token_through_the_security_module_carries_the_ledger_units() -> None:
    module = SoftwareSecurityModule.from_key_file(demo_key_file())
    sale = compute_sale(Money.parse("2000.05", "ZAR"), Tariff.flat("Flat", "ZAR", "1.00"),
                        MonthToDate(), AccountState("ZAR"))  # fmt: skip
    (tid,) = allocate_tids(NOW, UNIQUE.base_date, None)
    spec = credit_spec(ELEC, sale.units, tid=tid, rnd=7)
    token = module.encode_token(METER, UNIQUE, spec.token_class, spec.subclass, spec.fields)
    decoded = module.decode_token(METER, UNIQUE, token)
    assert sts.decode_amount(decoded.fields["amount_field"]) == sale.units == spec.amount
    assert decoded.fields["tid"] == tid
    assert group_digits(token).replace(" ", "") == token and len(group_digits(token)) == 24


def test_credit_spec_refusals() -> None:
    with pytest.raises(AmountError, match="carried exactly"):
        credit_spec(ELEC, 20009, tid=1, rnd=1)
    with pytest.raises(AmountError, match="non-negative"):
        credit_spec(ELEC, -1, tid=1, rnd=1)
    with pytest.raises(FieldRangeError, match="not issued for engineering"):
        credit_spec(ELEC, 10, tid=1, rnd=1, purpose=TokenPurpose.ENGINEERING)
    spec = credit_spec(WATER, 10, tid=1, rnd=1, purpose=TokenPurpose.FREE_ISSUE)
    assert spec.subclass == 1 and spec.purpose is TokenPurpose.FREE_ISSUE
