"""The acceptance list: tokens made by ``stsvend.sts`` for a profile, in the model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stsvend import sts
from stsvend.errors import CrcError
from stsvend.meter import Meter, RegisterKind, ResultCode
from tests.meter.meter_support import T0, VK2, VK160, Vendor, key_data, make_meter, make_profile

E = RegisterKind.ELECTRICITY


def test_token_for_the_profile_is_accepted_and_credits_the_register() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    at = T0 + timedelta(hours=1)
    result = meter.enter(vendor.credit(123, at), at)
    assert result.code is ResultCode.ACCEPT
    assert meter.credit == sts.decode_amount(sts.encode_amount(123))
    assert result.tid == vendor.last_tid
    assert result.effect["amount"] == 123


def test_same_token_again_is_used() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    at = T0 + timedelta(hours=1)
    token = vendor.credit(50, at)
    assert meter.enter(token, at).code is ResultCode.ACCEPT
    again = meter.enter(token, at + timedelta(minutes=1))
    assert again.code is ResultCode.USED
    assert meter.credit == 50


def test_older_token_after_memory_is_full_is_old() -> None:
    meter = make_meter(tid_memory_depth=4)
    vendor = Vendor(meter.profile)
    at = T0 + timedelta(hours=1)
    first = vendor.credit(10, at)
    later = [vendor.credit(10, at + timedelta(minutes=i + 1)) for i in range(4)]
    assert meter.enter(first, at).code is ResultCode.ACCEPT
    for token in later:
        assert meter.enter(token, at + timedelta(hours=1)).code is ResultCode.ACCEPT
    # Four later TIDs have pushed the first one (and the manufacture seed) out of memory.
    assert meter.enter(first, at + timedelta(hours=2)).code is ResultCode.OLD
    assert meter.credit == 50


def test_token_made_before_manufacture_is_old() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    token = vendor.credit(10, T0 - timedelta(days=1))
    assert meter.enter(token, T0).code is ResultCode.OLD


def test_token_made_with_another_key_fails_crc() -> None:
    meter = make_meter()
    other = Vendor(make_profile(vending_key=VK2))
    at = T0 + timedelta(hours=1)
    token = other.credit(10, at)
    # The oracle: the core refuses this token under the meter's key too.
    with pytest.raises(CrcError):
        sts.decode_token(token, meter.profile.decoder_key)
    assert meter.enter(token, at).code is ResultCode.CRC
    assert meter.credit == 0


def test_token_for_another_meter_fails_crc() -> None:
    meter = make_meter()
    other = Vendor(make_profile(drn="01234567897"))
    at = T0 + timedelta(hours=1)
    assert meter.enter(other.credit(10, at), at).code is ResultCode.CRC


def test_token_past_ken_is_refused() -> None:
    # KEN 85: TIDs whose high byte exceeds 85 (from 2004-04-01 on, base 1993) are refused.
    meter = make_meter(data=key_data(ken=85))
    vendor = Vendor(meter.profile)
    token = vendor.credit(10, T0 + timedelta(minutes=1))
    assert sts.datetime_of_tid(86 << 16, sts.BaseDate.Y1993) < T0
    result = meter.enter(token, T0 + timedelta(minutes=1))
    assert result.code is ResultCode.KEY_EXPIRED
    assert meter.credit == 0


def test_key_change_moves_meter_to_new_key_and_old_key_tokens_fail() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    old_vendor = Vendor(meter.profile)
    at = T0 + timedelta(hours=1)
    kct = vendor.key_change(vending_key=VK2, krn=2, ti=7)
    assert [meter.enter(t, at).code for t in kct] == [ResultCode.KCT1_ENTERED, ResultCode.ACCEPT]
    assert meter.state.key_data == vendor.data
    assert meter.state.decoder_key == vendor.key
    later = at + timedelta(minutes=5)
    assert meter.enter(vendor.credit(20, later), later).code is ResultCode.ACCEPT
    assert meter.enter(old_vendor.credit(20, later), later).code is ResultCode.CRC
    assert meter.credit == 20


def test_rollover_set_moves_meter_to_next_base_date() -> None:
    meter = make_meter(credit={E: 500})
    vendor = Vendor(meter.profile)
    old_vendor = Vendor(meter.profile)
    at = T0 + timedelta(hours=1)
    assert meter.enter(vendor.credit(10, at), at).code is ResultCode.ACCEPT
    kct = vendor.key_change(vending_key=VK2, krn=2, rollover=True)
    results = [meter.enter(t, at + timedelta(minutes=1)) for t in kct]
    assert results[-1].code is ResultCode.ACCEPT
    assert results[-1].effect["key_change"]["rollover"] is True
    assert meter.state.key_data.base_date is sts.BaseDate.Y2014
    assert meter.state.tid_memory.tids == ()  # cleared …
    assert meter.credit == 510  # … credit kept
    # New-base TIDs (minutes since 2014) are far lower than the 1993 ones, and are accepted.
    later = at + timedelta(minutes=2)
    token = vendor.credit(30, later)
    assert vendor.last_tid is not None and vendor.last_tid < sts.tid_at(later, sts.BaseDate.Y1993)
    assert meter.enter(token, later).code is ResultCode.ACCEPT
    assert meter.enter(old_vendor.credit(30, later), later).code is ResultCode.CRC


def test_dkga04_rollover_changes_the_key_by_base_date_alone() -> None:
    # DKGA04 keys depend on the base date: the same SGC/KRN/TI gives a new key after rollover.
    profile = make_profile(vending_key=VK160, dkga="04")
    meter = Meter.manufacture(profile, T0)
    vendor = Vendor(profile, VK160, "04")
    old_vendor = Vendor(profile, VK160, "04")
    at = T0 + timedelta(hours=1)
    for token in vendor.key_change(rollover=True):
        meter.enter(token, at)
    assert meter.state.key_data.base_date is sts.BaseDate.Y2014
    assert meter.state.decoder_key != profile.decoder_key
    assert meter.enter(vendor.credit(10, at), at).code is ResultCode.ACCEPT
    assert meter.enter(old_vendor.credit(10, at), at).code is ResultCode.CRC
