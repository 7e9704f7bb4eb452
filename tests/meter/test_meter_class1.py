"""Class 1 test and display tokens: both manufacturer-code forms, extended read, displays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stsvend import sts
from stsvend.meter import TEST_FUNCTIONS, MeterConfigError, ResultCode
from stsvend.meter.testdisplay import functions_of
from tests.meter.meter_support import T0, drn_with, make_meter, make_profile, raw_token

AT = T0 + timedelta(hours=1)
TWO_DIGIT = drn_with("12")  # manufacturer code 12
FOUR_DIGIT = drn_with("1234")  # manufacturer code 1234 (13-digit DRN, IIN 0000)


@pytest.mark.parametrize("drn", [TWO_DIGIT, FOUR_DIGIT], ids=["2-digit", "4-digit"])
@pytest.mark.parametrize("four_digit", [False, True], ids=["36-bit-form", "28-bit-form"])
def test_manufacturer_code_zero_reaches_every_meter(drn: str, four_digit: bool) -> None:
    meter = make_meter(drn=drn)
    result = meter.enter(sts.test_token(1, 0, four_digit=four_digit), AT)
    assert result.code is ResultCode.ACCEPT
    assert result.token_class == 1
    assert result.subclass == int(four_digit)


@pytest.mark.parametrize(
    ("drn", "code", "four_digit", "expected"),
    [
        (TWO_DIGIT, 12, False, ResultCode.ACCEPT),
        (TWO_DIGIT, 13, False, ResultCode.MFR_CODE),
        (TWO_DIGIT, 12, True, ResultCode.ACCEPT),
        (TWO_DIGIT, 1234, True, ResultCode.MFR_CODE),
        (FOUR_DIGIT, 1234, True, ResultCode.ACCEPT),
        (FOUR_DIGIT, 1235, True, ResultCode.MFR_CODE),
        (FOUR_DIGIT, 34, False, ResultCode.MFR_CODE),
    ],
)
def test_manufacturer_code_checks(
    drn: str, code: int, four_digit: bool, expected: ResultCode
) -> None:
    meter = make_meter(drn=drn)
    assert meter.enter(sts.test_token(1, code, four_digit=four_digit), AT).code is expected


def test_forms_a_meter_takes_are_a_profile_setting() -> None:
    meter = make_meter(drn=TWO_DIGIT, test_token_subclasses={0})
    result = meter.enter(sts.test_token(1, 12, four_digit=True), AT)
    assert result.code is ResultCode.FUNCTION
    with pytest.raises(MeterConfigError, match="must take class 1 subclass 1"):
        make_profile(drn=FOUR_DIGIT, test_token_subclasses={0})


def test_display_functions_show_meter_values() -> None:
    meter = make_meter()
    control = (1 << 4) | (1 << 5) | (1 << 10) | (1 << 40 - 10)
    result = meter.enter(sts.test_token(control), AT)
    shown = {f["name"]: f["value"] for f in result.effect["functions"]}
    assert shown["display key revision number"] == "1"
    assert shown["display tariff index"] == "01"
    assert shown["display software version"].startswith("stsvend")
    assert "test 30" in shown
    assert "KRN" not in result.message and "display tariff index: 01" in result.message


def test_every_listed_function_has_a_value_source() -> None:
    meter = make_meter()
    every = sum(1 << f.bit for f in TEST_FUNCTIONS)
    result = meter.enter(sts.test_token(every), AT)
    assert [f["bit"] for f in result.effect["functions"]] == [f.bit for f in TEST_FUNCTIONS]
    assert functions_of(0) == []


def test_extended_read_reports_its_index() -> None:
    meter = make_meter()
    result = meter.enter(sts.test_token(0xFC0000000, extended=True), AT)
    assert result.code is ResultCode.ACCEPT
    assert result.effect["read_index"] == 63


def test_class1_crc_error_and_proprietary_subclass() -> None:
    meter = make_meter()
    token = sts.test_token(1)
    typo = token[:-1] + str((int(token[-1]) + 1) % 10)
    assert meter.enter(typo, AT).code is ResultCode.CRC
    proprietary = raw_token(1, (6 << 44) | (1 << 24), None)
    assert meter.enter(proprietary, AT).code is ResultCode.FUNCTION
    assert meter.state.lockout.failures == 0  # class 1 never counts towards lockout


def test_test_tokens_use_no_tid_and_change_nothing() -> None:
    meter = make_meter()
    before = meter.state.tid_memory
    token = sts.test_token(1)
    assert meter.enter(token, AT).code is ResultCode.ACCEPT
    assert meter.enter(token, AT).code is ResultCode.ACCEPT  # no "used" for class 1
    assert meter.state.tid_memory == before
