"""Keypad lockout: 3 wrong entries → 10 s, doubling to 1 280 s; class 1 still allowed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import TokenFormatError
from stsvend.meter import LockoutPolicy, ResultCode
from stsvend.sts.codec import digits_to_block
from tests.meter.meter_support import T0, Vendor, make_meter

AT = T0 + timedelta(hours=1)
WRONG = "11111111111111111111"


def test_lockout_doubles_to_the_maximum() -> None:
    meter = make_meter()
    now = AT
    durations = []
    for _ in range(12):
        result = meter.enter(WRONG, now)
        assert result.code is ResultCode.CRC
        left = meter.status(now)["lockout"]["seconds_left"]
        durations.append(left)
        now += timedelta(seconds=max(left, 1))
    assert durations == [0, 0, 10, 20, 40, 80, 160, 320, 640, 1280, 1280, 1280]


def test_locked_keypad_refuses_meter_tokens_without_counting_them() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    for _ in range(3):
        meter.enter(WRONG, AT)
    token = vendor.credit(10, AT)
    for entry in (token, WRONG, "123"):
        result = meter.enter(entry, AT + timedelta(seconds=3))
        assert result.code is ResultCode.LOCKOUT
        assert result.effect["seconds_left"] == 7
    assert meter.state.lockout.failures == 3
    assert meter.enter(token, AT + timedelta(seconds=10)).code is ResultCode.ACCEPT
    assert meter.state.lockout.failures == 0


def test_class1_tokens_work_during_lockout() -> None:
    meter = make_meter()
    for _ in range(3):
        meter.enter(WRONG, AT)
    assert meter.enter(sts.test_token(1), AT).code is ResultCode.ACCEPT
    assert meter.status(AT)["lockout"]["active"] is True


def test_genuine_refusals_do_not_count() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    token = vendor.credit(10, AT)
    meter.enter(token, AT)
    for _ in range(5):
        assert meter.enter(token, AT).code is ResultCode.USED
    assert meter.state.lockout.failures == 0


def test_lockout_policy_is_a_profile_setting() -> None:
    policy = LockoutPolicy(threshold=5, first_seconds=30, max_seconds=60,
                           counted={ResultCode.CRC, ResultCode.USED})  # fmt: skip
    meter = make_meter(lockout=policy)
    vendor = Vendor(meter.profile)
    token = vendor.credit(10, AT)
    meter.enter(token, AT)
    for _ in range(4):
        meter.enter(token, AT)  # USED counts under this policy
    assert meter.status(AT)["lockout"]["seconds_left"] == 0
    meter.enter(WRONG, AT)
    assert meter.status(AT)["lockout"]["seconds_left"] == 30
    assert [policy.duration(n) for n in (5, 6, 7)] == [30, 60, 60]


@given(st.text(max_size=30))
def test_any_typed_text_gets_a_result_never_an_exception(text: str) -> None:
    meter = make_meter()
    result = meter.enter(text, AT)
    assert result.code in ResultCode
    try:
        digits_to_block(text)
    except TokenFormatError:
        assert result.code is ResultCode.FORMAT
    else:
        assert result.code is not ResultCode.FORMAT or "reserved bits" in result.message
