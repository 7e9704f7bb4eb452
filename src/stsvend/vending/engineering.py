"""Rules for engineering tokens (class 2) and test tokens (class 1).

Engineering tokens need the engineer role and a work-order reference; which class 2 setting
tokens may be issued is a table (:data:`ENGINEERING_RULES`); what each carries is the layout
table's (:mod:`stsvend.sts.layouts`).  Key change sections are never engineering tokens: they
come only from a planned key change.  Test/display tokens
(class 1) need no work order and no key; clerks, supervisors and engineers may issue them.

>>> from stsvend.vending.roles import Role
>>> request = EngineeringRequest(EngineeringKind.MAX_POWER_LIMIT, "WO-2025-0042", 5000)
>>> request = check_engineering(Role.ENGINEER, request, resource=sts.Resource.ELECTRICITY)
>>> spec = engineering_spec(request, tid=16000000, rnd=3)
>>> spec.token_class, spec.subclass, spec.fields["amount_field"], spec.amount
(2, 0, 5000, 5000)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

from attrs import evolve, frozen

from stsvend import sts
from stsvend.sts.layouts import (
    FieldKind,
    Layout,
    ManagementSubclass,
    TestSubclass,
    TokenClass,
    layout_for,
)
from stsvend.vending.errors import EngineeringRuleError
from stsvend.vending.roles import Action, Role, check_permission
from stsvend.vending.tokenspec import TokenPurpose, TokenSpec

__all__ = [
    "ENGINEERING_RULES",
    "WORK_ORDER_PATTERN",
    "EngineeringKind",
    "EngineeringRequest",
    "EngineeringRule",
    "TestTokenRequest",
    "check_engineering",
    "check_test_token",
    "engineering_spec",
    "normalise_work_order",
    "test_token_spec",
]

#: A work-order reference: 2-64 characters, letters, digits and . _ / - (no spaces).
WORK_ORDER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{1,63}")


def _setting(subclass: ManagementSubclass) -> str:
    # Fails at import if the layout table has no setting token of that subclass.
    layout = layout_for(TokenClass.METER_MANAGEMENT, subclass)
    if layout.setting is None:
        raise LookupError(f"class 2 subclass {int(subclass)} is not a setting token")
    return subclass.key


class EngineeringKind(enum.Enum):
    """The class 2 setting tokens, by what they do: the layout table's names."""

    MAX_POWER_LIMIT = _setting(ManagementSubclass.MAX_POWER_LIMIT)
    CLEAR_CREDIT = _setting(ManagementSubclass.CLEAR_CREDIT)
    TARIFF_RATE = _setting(ManagementSubclass.TARIFF_RATE)
    CLEAR_TAMPER = _setting(ManagementSubclass.CLEAR_TAMPER)
    PHASE_UNBALANCE_LIMIT = _setting(ManagementSubclass.PHASE_UNBALANCE_LIMIT)
    WATER_METER_FACTOR = _setting(ManagementSubclass.WATER_METER_FACTOR)

    @property
    def layout(self) -> Layout:
        """The token's layout: its subclass, kind of value and receipt label."""
        return layout_for(TokenClass.METER_MANAGEMENT, ManagementSubclass[self.name])


@frozen
class EngineeringRule:
    """Whether a kind of engineering token may be issued, and to which meters.

    What the token carries (subclass, kind of value) comes from its layout.
    """

    kind: EngineeringKind
    allowed: bool
    #: Resources whose meters may get it (None: all).
    resources: frozenset[sts.Resource] | None
    why: str

    @property
    def subclass(self) -> ManagementSubclass:
        return ManagementSubclass(self.kind.layout.subclass)

    @property
    def value(self) -> FieldKind | None:
        """The kind of value the request gives (None: the token carries no value)."""
        kind = self.kind.layout.value_kind
        return None if kind is FieldKind.PAD else kind


_ALL = None
_ELEC = frozenset({sts.Resource.ELECTRICITY})
_WATER = frozenset({sts.Resource.WATER})
_E = EngineeringKind

#: The engineering token table (``docs/security.md`` repeats it).
ENGINEERING_RULES: Mapping[EngineeringKind, EngineeringRule] = {
    rule.kind: rule
    for rule in (
        EngineeringRule(_E.MAX_POWER_LIMIT, True, _ELEC, "set the maximum power limit (W)"),
        EngineeringRule(_E.CLEAR_CREDIT, True, _ALL, "clear a credit register (or all of them)"),
        EngineeringRule(_E.TARIFF_RATE, False, _ALL,
                        "refused: the field is reserved for future definition (Ed.3)"),
        EngineeringRule(_E.CLEAR_TAMPER, True, _ALL, "clear the tamper condition"),
        EngineeringRule(_E.PHASE_UNBALANCE_LIMIT, True, _ELEC,
                        "set the maximum phase power unbalance limit (W)"),
        EngineeringRule(_E.WATER_METER_FACTOR, True, _WATER,
                        "set the water meter factor (water meters only)"),
    )
}  # fmt: skip


@frozen
class EngineeringRequest:
    """An engineer's request: what to set, the work order it belongs to, the value if any."""

    kind: EngineeringKind
    work_order: str
    value: int | None = None


def normalise_work_order(text: object) -> str:
    """A work-order reference, stripped; refuses a missing or malformed one.

    >>> normalise_work_order("  WO-17/3 ")
    'WO-17/3'
    """
    value = text.strip() if isinstance(text, str) else ""
    if not WORK_ORDER_PATTERN.fullmatch(value):
        raise EngineeringRuleError(
            "an engineering token needs a work-order reference: 2-64 letters, digits or . _ / -"
        )
    return value


def _check_value(rule: EngineeringRule, kind: EngineeringKind, value: int | None) -> None:
    if rule.value is None:
        if value not in (None, 0):
            raise EngineeringRuleError(f"{kind.value} takes no value")
        return
    if type(value) is not int:
        raise EngineeringRuleError(f"{kind.value} needs an integer value")
    if rule.value is FieldKind.WATTS:
        if not 0 <= value <= sts.AMOUNT_MAX:
            raise EngineeringRuleError(f"{kind.value} is 0..{sts.AMOUNT_MAX} W, got {value}")
        exact = sts.encodable_at_most(value)
        if exact != value:
            higher = sts.decode_amount(sts.encode_amount(value))
            raise EngineeringRuleError(
                f"{value} W cannot be set exactly; the nearest values are {exact} W and {higher} W"
            )
    elif rule.value is FieldKind.REGISTER:
        try:
            sts.ClearRegister(value)
        except ValueError:
            names = ", ".join(f"{r.name.lower()}={int(r)}" for r in sts.ClearRegister)
            raise EngineeringRuleError(f"unknown register {value} (registers: {names})") from None
    elif not 0 <= value <= 0xFFFF:
        raise EngineeringRuleError(f"{kind.value} is a 16-bit value (0..65535), got {value}")


def check_engineering(
    role: Role, request: EngineeringRequest, *, resource: sts.Resource
) -> EngineeringRequest:
    """Check role, work order, kind, meter resource and value; return the normalised request."""
    check_permission(role, Action.ENGINEERING)
    work_order = normalise_work_order(request.work_order)
    rule = ENGINEERING_RULES[request.kind]
    if not rule.allowed:
        raise EngineeringRuleError(f"{request.kind.value} tokens are not issued: {rule.why}")
    if rule.resources is not None and resource not in rule.resources:
        raise EngineeringRuleError(
            f"{request.kind.value} is for {', '.join(r.name.lower() for r in rule.resources)} "
            f"meters, not {sts.Resource(resource).name.lower()}"
        )
    _check_value(rule, request.kind, request.value)
    return evolve(request, work_order=work_order)


def engineering_spec(request: EngineeringRequest, *, tid: int, rnd: int) -> TokenSpec:
    """The token spec of a checked engineering request."""
    rule = ENGINEERING_RULES[request.kind]
    if not rule.allowed:
        raise EngineeringRuleError(f"{request.kind.value} tokens are not issued: {rule.why}")
    _check_value(rule, request.kind, request.value)
    value = request.value or 0
    amount_field = sts.encode_amount(value) if rule.value is FieldKind.WATTS else value
    return TokenSpec(
        TokenClass.METER_MANAGEMENT,
        rule.subclass,
        {"rnd": rnd, "tid": tid, "amount_field": amount_field},
        TokenPurpose.ENGINEERING,
        None if rule.value is None else value,
    )


@frozen
class TestTokenRequest:
    """A class 1 test/display token: control bits and the manufacturer code (0 = every meter)."""

    __test__ = False  # not a pytest test class

    control: int
    manufacturer_code: int = 0
    four_digit: bool = False
    extended: bool = False


def check_test_token(role: Role, request: TestTokenRequest) -> TestTokenRequest:
    """Check role and field ranges of a test token request.

    >>> check_test_token(Role.CLERK, TestTokenRequest(control=1)).control
    1
    """
    check_permission(role, Action.TEST_TOKEN)
    if request.extended and request.four_digit:
        raise EngineeringRuleError("the extended read token has a 2-digit manufacturer code")
    control_bits = 28 if request.four_digit else 36
    code_max = 9999 if request.four_digit else 99
    if type(request.control) is not int or not 0 < request.control < (1 << control_bits):
        raise EngineeringRuleError(f"control is 1..2**{control_bits}-1 (which tests to run)")
    if type(request.manufacturer_code) is not int or not 0 <= request.manufacturer_code <= code_max:
        raise EngineeringRuleError(f"the manufacturer code is 0..{code_max}")
    return request


def test_token_spec(request: TestTokenRequest) -> TokenSpec:
    """The token spec of a checked test token request (class 1: no key, no TID)."""
    subclass = (
        TestSubclass.EXTENDED_READ
        if request.extended
        else (TestSubclass.TEST_4_DIGIT if request.four_digit else TestSubclass.TEST_2_DIGIT)
    )
    return TokenSpec(
        TokenClass.INITIATE_METER_TEST,
        subclass,
        {"control": request.control, "manufacturer_code": request.manufacturer_code},
        TokenPurpose.TEST,
        None,
    )


test_token_spec.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
