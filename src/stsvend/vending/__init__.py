"""``stsvend.vending``: the pure vending domain: the rules of a sale.

No clock, no randomness, no I/O: instants, RNDs and the store's figures come in as parameters.
Money is integer minor units (:class:`Money`); units are STS tenths (0.1 kWh).

API summary (everything below is importable from ``stsvend.vending``)
---------------------------------------------------------------------

Money, calendar, limits::

    Money(minor, currency)  .parse("12.50", "ZAR")  .zero(cur)  .format()  + - < <= ...
    LocalCalendar(zone)  .day_bounds(now) / .month_bounds(now) -> (start_utc, end_utc)
                         .day_key(now) "2025-04-01"   .month_key(now) "2025-04"
    VendLimits(minimum, maximum, daily_maximum=None)  .parse(cur, minimum=, maximum=, ...)
    check_vend_amount(amount, limits, *, vended_today)     AmountTooSmall/TooLarge/DailyLimit

Tariffs and the sale (docs/tariffs.md: deduction order, rounding, worked examples)::

    Tariff.flat(name, cur, "2.00", tax_percent="15", fixed_charge="0", free_units=0)
    Tariff.inclining(name, cur, [(500, "1.50"), (None, "2.00")], ...)   blocks in tenths
    AccountState(currency, credit_balance=0, debt=0, debt_recovery_bp=0, emergency_debt=0)
    MonthToDate(units=0, fixed_charge_paid=False, free_units_issued=False)
    compute_sale(amount, tariff, month, account, *, emergency=EmergencyCreditPolicy())
        -> SaleBreakdown(tendered, brought_forward, lines[SaleLine], carried_forward, tax,
                         units_paid, units_free, .units, account_after, month_after, ...)
    amount_for_units(units, tariff, month, account) -> SaleBreakdown    trial "how much for N"
    EmergencyCreditPolicy(units=0, repayment_bp=10000)
    grant_emergency_credit(policy, tariff, month, account) -> EmergencyGrant

Tokens and their TIDs (a TokenSpec is what the services ask the security module to encode)::

    TokenPurpose.SALE/FREE_ISSUE/EMERGENCY_CREDIT/KEY_CHANGE/ENGINEERING/TEST
    credit_spec(resource, units, *, tid, rnd, purpose=SALE) -> TokenSpec
    allocate_tids(now, base_date, last_issued, count=1, *, ken=255) -> tuple[int, ...]
    key_health(now, key_data, *, warn_within=90 days) -> KeyHealth(statuses: {KeyStatus})

Key change (states as a table; credit goes under the target key while a change is open)::

    key_change_reasons(current, target) -> frozenset[KeyChangeReason]
    plan_key_change(current, target, *, sgc_token=False, now=None) -> KeyChangePlan
    plan_rollover(current, *, krn=None, sgc=None, ken=None) -> KeyChangePlan
    KeyChangeState PENDING/ISSUED/CONFIRMED/CANCELLED/SKIPPED, KeyChangeEvent ISSUE/CONFIRM/CANCEL,
    KeyChangeJobState RUNNING/DONE (both str enums, stored as their values)
    KEY_CHANGE_TRANSITIONS, next_state(state, event), tokens_go_with_sale(state),
    credit_key_data(meter_key_data, pending_target, state)
    MeterStatus ACTIVE/BLOCKED, check_meter_can_receive(status, credit_key_data, purpose)

Roles and rules::

    Role, Action, PERMISSIONS (data), is_allowed, allowed_roles, check_permission
    check_reversal(role, reason, ReversalCandidate, *, reverser_id, now, policy) (counter)
    check_reversal_limits(ReversalCandidate, *, now, policy) (every reversal) ; restored_states
    request_digest(kind, content) ; check_replay(Stored, request_id, *, kind, meter_id, digest)
    check_engineering(role, EngineeringRequest, *, resource) ; engineering_spec(req, tid, rnd)
    check_test_token(role, TestTokenRequest) ; test_token_spec(req)
    check_free_issue(role, units, reason, *, issued_this_month, policy)
    notices: TEST_MARK, TEST_NOTICE, COPY_MARK, KEY_CHANGE_NOTICE, REVERSAL_NOTICE,
             TAX_INCLUDED_LABEL, group_digits(token)

Errors: ``stsvend.vending.errors`` (VendingError and its branch, stable codes).

>>> from stsvend.vending import Money, Tariff, MonthToDate, AccountState, compute_sale
>>> tariff = Tariff.inclining("Domestic", "ZAR", [(500, "1.50"), (None, "2.50")],
...                           tax_percent="15")
>>> sale = compute_sale(Money.parse("200", "ZAR"), tariff, MonthToDate(), AccountState("ZAR"))
>>> [(line.block, line.units, line.amount.format()) for line in sale.lines]
[(1, 500, '75.00'), (2, 500, '125.00')]
>>> sale.units, sale.tax.format(), sale.carried_forward.format()
(1000, '26.09', '0.00')
"""

from stsvend.vending.account import AccountState, MonthToDate
from stsvend.vending.emergency import EmergencyCreditPolicy, EmergencyGrant, grant_emergency_credit
from stsvend.vending.engineering import (
    ENGINEERING_RULES,
    EngineeringKind,
    EngineeringRequest,
    EngineeringRule,
    TestTokenRequest,
    check_engineering,
    check_test_token,
    engineering_spec,
    normalise_work_order,
    test_token_spec,
)
from stsvend.vending.errors import (
    AmountTooLarge,
    AmountTooSmall,
    DailyLimitExceeded,
    EmergencyCreditError,
    EngineeringRuleError,
    FreeIssueError,
    KeyChangeError,
    MeterBlocked,
    MoneyError,
    PermissionDenied,
    ReversalError,
    RolloverRequiredError,
    TariffError,
    TimeZoneError,
    VendingError,
    VendLimitError,
)
from stsvend.vending.free_issue import FreeIssuePolicy, check_free_issue
from stsvend.vending.key_change import (
    KEY_CHANGE_TRANSITIONS,
    KeyChangeEvent,
    KeyChangeJobState,
    KeyChangePlan,
    KeyChangeReason,
    KeyChangeState,
    credit_key_data,
    key_change_reasons,
    next_state,
    plan_key_change,
    plan_rollover,
    tokens_go_with_sale,
)
from stsvend.vending.limits import VendLimits, check_vend_amount
from stsvend.vending.meters import MeterStatus, check_meter_can_receive
from stsvend.vending.money import Money, currency_digits
from stsvend.vending.notices import (
    COPY_MARK,
    KEY_CHANGE_NOTICE,
    REVERSAL_NOTICE,
    TAX_INCLUDED_LABEL,
    TEST_MARK,
    TEST_NOTICE,
    group_digits,
)
from stsvend.vending.periods import LocalCalendar
from stsvend.vending.pricing import BlockCharge, affordable_tenths, price_tenths
from stsvend.vending.reversal import (
    ReversalCandidate,
    ReversalPolicy,
    check_reversal,
    check_reversal_limits,
    restored_states,
)
from stsvend.vending.roles import (
    PERMISSIONS,
    Action,
    Role,
    allowed_roles,
    check_permission,
    is_allowed,
)
from stsvend.vending.sale import LineKind, SaleBreakdown, SaleLine, amount_for_units, compute_sale
from stsvend.vending.tariff import PRICE_SCALE, Block, Tariff, UnitPrice
from stsvend.vending.tids import KeyHealth, KeyStatus, allocate_tids, key_health
from stsvend.vending.tokenspec import TokenPurpose, TokenSpec, credit_spec

__all__ = [
    "COPY_MARK",
    "ENGINEERING_RULES",
    "KEY_CHANGE_NOTICE",
    "KEY_CHANGE_TRANSITIONS",
    "PERMISSIONS",
    "PRICE_SCALE",
    "REVERSAL_NOTICE",
    "TAX_INCLUDED_LABEL",
    "TEST_MARK",
    "TEST_NOTICE",
    "AccountState",
    "Action",
    "AmountTooLarge",
    "AmountTooSmall",
    "Block",
    "BlockCharge",
    "DailyLimitExceeded",
    "EmergencyCreditError",
    "EmergencyCreditPolicy",
    "EmergencyGrant",
    "EngineeringKind",
    "EngineeringRequest",
    "EngineeringRule",
    "EngineeringRuleError",
    "FreeIssueError",
    "FreeIssuePolicy",
    "KeyChangeError",
    "KeyChangeEvent",
    "KeyChangeJobState",
    "KeyChangePlan",
    "KeyChangeReason",
    "KeyChangeState",
    "KeyHealth",
    "KeyStatus",
    "LineKind",
    "LocalCalendar",
    "MeterBlocked",
    "MeterStatus",
    "Money",
    "MoneyError",
    "MonthToDate",
    "PermissionDenied",
    "ReversalCandidate",
    "ReversalError",
    "ReversalPolicy",
    "Role",
    "RolloverRequiredError",
    "SaleBreakdown",
    "SaleLine",
    "Tariff",
    "TariffError",
    "TestTokenRequest",
    "TimeZoneError",
    "TokenPurpose",
    "TokenSpec",
    "UnitPrice",
    "VendLimitError",
    "VendLimits",
    "VendingError",
    "affordable_tenths",
    "allocate_tids",
    "allowed_roles",
    "amount_for_units",
    "check_engineering",
    "check_free_issue",
    "check_meter_can_receive",
    "check_permission",
    "check_reversal",
    "check_reversal_limits",
    "check_test_token",
    "check_vend_amount",
    "compute_sale",
    "credit_key_data",
    "credit_spec",
    "currency_digits",
    "engineering_spec",
    "grant_emergency_credit",
    "group_digits",
    "is_allowed",
    "key_change_reasons",
    "key_health",
    "next_state",
    "normalise_work_order",
    "plan_key_change",
    "plan_rollover",
    "price_tenths",
    "restored_states",
    "test_token_spec",
    "tokens_go_with_sale",
]
