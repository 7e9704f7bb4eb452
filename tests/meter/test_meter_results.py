"""Every result indication of ``docs/sts.md`` §10, each shown by a token that produces it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stsvend import sts
from stsvend.meter import Meter, RegisterKind, ResultCode
from stsvend.sts.codec import digits_to_block
from tests.meter.meter_support import T0, Vendor, key_data, make_meter, raw_token

E = RegisterKind.ELECTRICITY
AT = T0 + timedelta(hours=1)
#: Not a token for any of the test meters: decrypts to a CRC mismatch.
WRONG = "11111111111111111111"


def fresh() -> tuple[Meter, Vendor]:
    meter = make_meter()
    return meter, Vendor(meter.profile)


def test_result_codes_carry_the_conlog_numbers() -> None:
    expected = {
        "ACCEPT": 1, "KCT1_ENTERED": 2, "KCT2_ENTERED": 3, "OVERFLOW": 4, "KEY_TYPE": 5,
        "FORMAT": 6, "RANGE": 7, "FUNCTION": 8, "OLD": 9, "USED": 10, "KEY_EXPIRED": 11,
        "DDTK": 12, "CRC": 13, "MFR_CODE": 14, "LOCKOUT": 15,
    }  # fmt: skip
    assert {c.name: int(c) for c in ResultCode} == expected
    assert {c for c in ResultCode if c.accepted} == {
        ResultCode.ACCEPT,
        ResultCode.KCT1_ENTERED,
        ResultCode.KCT2_ENTERED,
    }


@pytest.mark.parametrize(
    "digits",
    ["123", "1234567890123456789", "123456789012345678901", "1234567890123456789x",
     "73786976294838206464", "99999999999999999999", ""],
    ids=["short", "19-digits", "21-digits", "letter", "2**66", "all-nines", "empty"],
)  # fmt: skip
def test_format_error_for_entries_that_are_not_tokens(digits: str) -> None:
    meter, _ = fresh()
    result = meter.enter(digits, AT)
    assert result.code is ResultCode.FORMAT
    assert result.display == "Err 6 Format error"


def test_format_error_for_nonzero_padding_in_the_ea07_sgc_section() -> None:
    meter, _ = fresh()
    payload = (8 << 44) | (123456 << 20) | 1  # 3rd section with a stray pad bit
    assert meter.enter(raw_token(2, payload, meter.state.decoder_key), AT).code is ResultCode.FORMAT


def test_format_error_for_clear_tamper_with_nonzero_pad() -> None:
    meter, vendor = fresh()
    token = sts.encode_token(2, 5, {"rnd": 5, "tid": vendor.tid(AT), "amount_field": 7}, vendor.key)
    assert meter.enter(token, AT).code is ResultCode.FORMAT
    assert meter.state.tid_memory.check(vendor.last_tid or 0) is None  # TID not used up


def test_crc_error_for_a_mistyped_digit() -> None:
    meter, vendor = fresh()
    token = vendor.credit(10, AT)
    typo = token[:-1] + str((int(token[-1]) + 1) % 10)
    assert digits_to_block(typo)[0] == 0  # still class 0: only the CRC can catch it
    assert meter.enter(typo, AT).code is ResultCode.CRC
    assert meter.enter(token, AT).code is ResultCode.ACCEPT


@pytest.mark.parametrize(
    ("resource", "register"),
    [(sts.Resource.WATER, "water"), (sts.Resource.GAS, "gas"), (sts.Resource.TIME, "time")],
)
def test_function_error_for_a_register_the_meter_lacks(
    resource: sts.Resource, register: str
) -> None:
    meter, vendor = fresh()
    result = meter.enter(vendor.credit(10, AT, resource), AT)
    assert result.code is ResultCode.FUNCTION
    assert register in result.message


def test_function_error_for_currency_credit_on_a_unit_meter() -> None:
    meter, vendor = fresh()
    assert meter.enter(vendor.currency(100_000, AT), AT).code is ResultCode.FUNCTION


def test_function_error_for_class_3() -> None:
    meter, _ = fresh()
    token = sts.codec.block_to_digits(3, 0x123456789ABCDEF)
    assert meter.enter(token, AT).code is ResultCode.FUNCTION


@pytest.mark.parametrize(("token_class", "subclass"), [(0, 8), (0, 15), (2, 10), (2, 15)])
def test_function_error_for_reserved_subclasses(token_class: int, subclass: int) -> None:
    meter, _ = fresh()
    token = raw_token(token_class, (subclass << 44) | 0x123, meter.state.decoder_key)
    assert meter.enter(token, AT).code is ResultCode.FUNCTION


def test_function_error_for_ea11_sections_on_an_ea07_meter() -> None:
    meter, _ = fresh()
    token = raw_token(2, (9 << 44) | 0x123, meter.state.decoder_key)  # 4th section: EA11 only
    assert meter.enter(token, AT).code is ResultCode.FUNCTION


def test_function_error_for_clearing_a_register_the_meter_lacks() -> None:
    meter, vendor = fresh()
    token = sts.clear_credit_token(vendor.key, sts.ClearRegister.WATER, tid=vendor.tid(AT), rnd=5)
    assert meter.enter(token, AT).code is ResultCode.FUNCTION


def test_range_error_for_an_undefined_register_selector() -> None:
    meter, vendor = fresh()
    token = sts.clear_credit_token(vendor.key, 0x0009, tid=vendor.tid(AT), rnd=5)
    assert meter.enter(token, AT).code is ResultCode.RANGE


@pytest.mark.parametrize(
    ("subclass", "fields"),
    [
        (3, {"kenho": 15, "new_krn": 0, "ro": 0, "res": 0, "new_kt": 2, "nkho": 1}),
        (4, {"kenlo": 15, "new_ti": 100, "nklo": 1}),
        (8, {"new_sgc": 1_000_000}),
    ],
    ids=["krn-0", "ti-100", "sgc-7-digits"],
)
def test_range_error_for_key_change_fields_out_of_range(
    subclass: int, fields: dict[str, int]
) -> None:
    meter, _ = fresh()
    token = sts.encode_token(2, subclass, fields, meter.state.decoder_key)
    result = meter.enter(token, AT)
    assert result.code is ResultCode.RANGE
    assert meter.state.staged_key_change is None


def test_range_error_for_a_rollover_past_the_last_base_date() -> None:
    data = key_data(base_date=2035)
    meter = make_meter(data=data, at=T0.replace(year=2035))
    vendor = Vendor(meter.profile)
    new_key = sts.derive_decoder_key(bytes.fromhex("9494949494949494"), meter.profile.identity,
                                     key_data(krn=2, base_date=2035))  # fmt: skip
    tokens = sts.key_change_tokens(vendor.key, new_key, key_data(krn=2, base_date=2035),
                                   rollover=True)  # fmt: skip
    results = [meter.enter(t, T0.replace(year=2035)) for t in tokens]
    assert results[-1].code is ResultCode.RANGE
    assert "2035" in results[-1].message
    assert meter.state.key_data == data


def test_range_error_for_a_debit_below_zero() -> None:
    meter = make_meter(
        registers={E, RegisterKind.ELECTRICITY_CURRENCY},
        credit=None,
    )
    vendor = Vendor(meter.profile)
    assert meter.enter(vendor.currency(-100_000, AT), AT).code is ResultCode.RANGE
    assert meter.state.registers[RegisterKind.ELECTRICITY_CURRENCY] == 0


def test_overflow_keeps_the_token_usable() -> None:
    meter = make_meter(unit_register_limit=1000, credit={E: 995})
    vendor = Vendor(meter.profile)
    token = vendor.credit(10, AT)
    result = meter.enter(token, AT)
    assert result.code is ResultCode.OVERFLOW
    assert meter.credit == 995
    meter.advance(AT + timedelta(hours=1), load_watts=3600)  # 3.6 kWh = 36 tenths used
    assert meter.enter(token, AT + timedelta(hours=1)).code is ResultCode.ACCEPT
    assert meter.credit == 995 - 36 + 10


def test_used_and_old_apply_to_management_tokens_too() -> None:
    meter, vendor = fresh()
    early = sts.max_power_limit_token(vendor.key, 5000, tid=vendor.tid(AT), rnd=5)
    late = sts.max_power_limit_token(
        vendor.key, 3000, tid=vendor.tid(AT + timedelta(days=1)), rnd=5
    )
    assert meter.enter(late, AT).code is ResultCode.ACCEPT
    assert meter.enter(late, AT).code is ResultCode.USED
    assert meter.state.max_power_limit == 3000
    small = make_meter(tid_memory_depth=1)
    small_vendor = Vendor(small.profile)
    early = sts.max_power_limit_token(small_vendor.key, 5000, tid=small_vendor.tid(AT), rnd=5)
    late = sts.max_power_limit_token(
        small_vendor.key, 3000, tid=small_vendor.tid(AT + timedelta(days=1)), rnd=5
    )
    assert small.enter(late, AT).code is ResultCode.ACCEPT
    assert small.enter(early, AT).code is ResultCode.OLD


def test_key_expired_applies_to_management_tokens() -> None:
    meter = make_meter(data=key_data(ken=85))
    vendor = Vendor(meter.profile)
    token = sts.clear_tamper_token(vendor.key, tid=vendor.tid(AT), rnd=5)
    assert meter.enter(token, AT).code is ResultCode.KEY_EXPIRED


def test_ddtk_meter_refuses_credit_but_takes_management_tokens() -> None:
    meter = make_meter(data=key_data(key_type=1))
    vendor = Vendor(meter.profile)
    result = meter.enter(vendor.credit(10, AT), AT)
    assert result.code is ResultCode.DDTK
    assert result.display == "Err 12 DDTK error"
    token = sts.max_power_limit_token(vendor.key, 4000, tid=vendor.tid(AT), rnd=5)
    assert meter.enter(token, AT).code is ResultCode.ACCEPT


def test_ditk_meter_refuses_credit_too() -> None:
    meter = make_meter(data=key_data(key_type=0))
    vendor = Vendor(meter.profile)
    assert meter.enter(vendor.credit(10, AT), AT).code is ResultCode.DDTK


def test_key_type_error_for_a_refused_transition() -> None:
    meter, vendor = fresh()
    first = vendor.key_change(key_type=1)[0]  # unique → default: refused by default
    result = meter.enter(first, AT)
    assert result.code is ResultCode.KEY_TYPE
    assert "2 (DUTK) to 1 (DDTK)" in result.message
    assert meter.state.staged_key_change is None


def test_mfr_code_error_for_another_manufacturers_test_token() -> None:
    meter, _ = fresh()  # manufacturer code 00
    result = meter.enter(sts.test_token(1, 12), AT)
    assert result.code is ResultCode.MFR_CODE
    assert result.display == "Err 14 Mfr code error"


def test_lockout_after_three_wrong_entries() -> None:
    meter, vendor = fresh()
    assert digits_to_block(WRONG)[0] == 2  # a class 2 entry: it counts as a wrong entry
    codes = [meter.enter(WRONG, AT).code for _ in range(3)]
    assert codes == [ResultCode.CRC] * 3
    result = meter.enter(vendor.credit(10, AT), AT)
    assert result.code is ResultCode.LOCKOUT
    assert result.effect["seconds_left"] == 10


def test_kct_entered_results_for_partial_sets() -> None:
    meter, vendor = fresh()
    first, second = vendor.key_change(krn=2, vending_key=bytes.fromhex("9494949494949494"))
    r2 = meter.enter(second, AT)
    assert r2.code is ResultCode.KCT2_ENTERED
    assert r2.effect["missing"] == [1]
    assert meter.enter(first, AT).code is ResultCode.ACCEPT
    meter2, vendor2 = fresh()
    first, _ = vendor2.key_change(krn=2, vending_key=bytes.fromhex("9494949494949494"))
    r1 = meter2.enter(first, AT)
    assert r1.code is ResultCode.KCT1_ENTERED
    assert r1.display == "1st KCT entered"
