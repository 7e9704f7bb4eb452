"""Key change sets: any order, the window, 3- and 4-token sets, rollover, key-type rules."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from stsvend import sts
from stsvend.meter import Meter, ResultCode
from stsvend.meter.keychange import StagedKeyChange, stage
from stsvend.sts import KeyType
from tests.meter.meter_support import T0, VK2, VK160, Vendor, key_data, make_meter, make_profile

AT = T0 + timedelta(hours=1)
WRONG = "11111111111111111111"


@pytest.mark.parametrize("order", list(itertools.permutations(range(2))), ids=str)
def test_two_token_set_in_either_order(order: tuple[int, ...]) -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    tokens = vendor.key_change(vending_key=VK2, krn=2)
    codes = [meter.enter(tokens[i], AT).code for i in order]
    assert codes[-1] is ResultCode.ACCEPT
    assert codes[0] is (ResultCode.KCT1_ENTERED if order[0] == 0 else ResultCode.KCT2_ENTERED)
    assert meter.state.decoder_key == vendor.key


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_three_token_ea07_set_carries_the_new_sgc(order: tuple[int, ...]) -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    tokens = vendor.key_change(vending_key=VK2, krn=2, sgc=654321, with_sgc=True)
    assert len(tokens) == 3
    results = [meter.enter(tokens[i], AT) for i in order]
    assert [r.code.accepted for r in results] == [True, True, True]
    assert [r.code is ResultCode.ACCEPT for r in results] == [False, False, True]
    assert meter.state.key_data.sgc == 654321
    assert meter.state.key_data == vendor.data
    later = AT + timedelta(minutes=1)
    assert meter.enter(vendor.credit(10, later), later).code is ResultCode.ACCEPT


def test_three_token_flag_makes_the_meter_wait_for_the_third() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    first, second, _third = vendor.key_change(vending_key=VK2, krn=2, with_sgc=True)
    meter.enter(first, AT)
    result = meter.enter(second, AT)
    assert result.code is ResultCode.KCT2_ENTERED
    assert result.effect["missing"] == [3]
    assert meter.state.key_data.krn == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=str)
def test_four_token_ea11_set_in_any_order(order: tuple[int, ...]) -> None:
    data = key_data(ea="11")
    profile = make_profile(data=data, vending_key=VK160, dkga="04")
    meter = Meter.manufacture(profile, T0)
    vendor = Vendor(profile, VK160, "04")
    tokens = vendor.key_change(krn=3, ti=5, sgc=201457, ken=254)
    assert len(tokens) == 4
    results = [meter.enter(tokens[i], AT) for i in order]
    assert [r.code is ResultCode.ACCEPT for r in results] == [False, False, False, True]
    assert all(r.accepted for r in results)
    assert meter.state.key_data == vendor.data
    assert meter.state.decoder_key == vendor.key
    assert meter.enter(vendor.credit(10, AT), AT).code is ResultCode.ACCEPT


def test_sections_outside_the_window_start_a_new_set() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    first, second = vendor.key_change(vending_key=VK2, krn=2)
    assert meter.enter(first, AT).code is ResultCode.KCT1_ENTERED
    late = AT + timedelta(minutes=10, seconds=1)
    result = meter.enter(second, late)
    assert result.code is ResultCode.KCT2_ENTERED  # the stale 1st section was forgotten
    assert result.effect["missing"] == [1]
    assert meter.state.key_data.krn == 1
    assert meter.enter(first, late + timedelta(minutes=9)).code is ResultCode.ACCEPT
    assert meter.state.key_data.krn == 2


def test_window_edge_is_inclusive() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    first, second = vendor.key_change(vending_key=VK2, krn=2)
    meter.enter(first, AT)
    assert meter.enter(second, AT + timedelta(seconds=600)).code is ResultCode.ACCEPT


def test_window_is_a_profile_setting() -> None:
    meter = make_meter(key_change_window_seconds=60)
    vendor = Vendor(meter.profile)
    first, second = vendor.key_change(vending_key=VK2, krn=2)
    meter.enter(first, AT)
    assert meter.enter(second, AT + timedelta(seconds=61)).code is ResultCode.KCT2_ENTERED
    pending = meter.status(AT + timedelta(seconds=61))["pending_key_change"]
    assert pending["missing"] == [1]
    assert pending["seconds_left"] == 60
    assert meter.status(AT + timedelta(seconds=200))["pending_key_change"] is None


def test_reentering_a_section_replaces_it() -> None:
    meter = make_meter()
    vendor_a = Vendor(meter.profile)
    vendor_b = Vendor(meter.profile)
    first_a, _ = vendor_a.key_change(vending_key=VK2, krn=2)
    first_b, second_b = vendor_b.key_change(vending_key=VK2, krn=3)
    meter.enter(first_a, AT)
    meter.enter(first_b, AT)
    assert meter.enter(second_b, AT).code is ResultCode.ACCEPT
    assert meter.state.key_data.krn == 3


def test_ddtk_meter_takes_credit_only_after_a_key_change_to_its_unique_key() -> None:
    meter = make_meter(data=key_data(key_type=1))
    vendor = Vendor(meter.profile)
    assert meter.enter(vendor.credit(10, AT), AT).code is ResultCode.DDTK
    for token in vendor.key_change(key_type=2):
        meter.enter(token, AT)
    assert meter.state.key_data.key_type is KeyType.DUTK
    assert meter.enter(vendor.credit(10, AT), AT).code is ResultCode.ACCEPT


@pytest.mark.parametrize(
    ("current", "new", "refused"),
    [
        (KeyType.DUTK, KeyType.DITK, True),
        (KeyType.DDTK, KeyType.DITK, True),
        (KeyType.DUTK, KeyType.DDTK, True),
        (KeyType.DCTK, KeyType.DDTK, True),
        (KeyType.DDTK, KeyType.DUTK, False),
        (KeyType.DDTK, KeyType.DCTK, False),
        (KeyType.DUTK, KeyType.DCTK, False),
        (KeyType.DCTK, KeyType.DUTK, False),
        (KeyType.DUTK, KeyType.DUTK, False),
        (KeyType.DITK, KeyType.DDTK, False),
    ],
)
def test_default_key_type_rules(current: KeyType, new: KeyType, refused: bool) -> None:
    meter = make_meter(data=key_data(key_type=current))
    vendor = Vendor(meter.profile)
    first = vendor.key_change(key_type=new)[0]
    code = meter.enter(first, AT).code
    assert (code is ResultCode.KEY_TYPE) is refused
    assert code is (ResultCode.KEY_TYPE if refused else ResultCode.KCT1_ENTERED)


def test_refused_key_type_changes_are_a_profile_setting() -> None:
    meter = make_meter(refused_key_type_changes={(KeyType.DDTK, KeyType.DCTK)})
    vendor = Vendor(meter.profile)
    for token in vendor.key_change(key_type=1):  # DUTK → DDTK, allowed by this profile
        assert meter.enter(token, AT).accepted
    assert meter.state.key_data.key_type is KeyType.DDTK
    first = vendor.key_change(key_type=3)[0]
    assert meter.enter(first, AT).code is ResultCode.KEY_TYPE


def test_key_change_recovers_a_meter_whose_key_expired() -> None:
    meter = make_meter(data=key_data(ken=85))
    vendor = Vendor(meter.profile)
    assert meter.enter(vendor.credit(10, AT), AT).code is ResultCode.KEY_EXPIRED
    for token in vendor.key_change(ken=255):  # KCTs carry no TID: KEN does not apply
        meter.enter(token, AT)
    assert meter.state.key_data.ken == 255
    assert meter.enter(vendor.credit(10, AT), AT).code is ResultCode.ACCEPT


def test_key_change_sections_reset_the_lockout_count() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    meter.enter(WRONG, AT)
    meter.enter(WRONG, AT)
    assert meter.state.lockout.failures == 2
    meter.enter(vendor.key_change(vending_key=VK2, krn=2)[0], AT)
    assert meter.state.lockout.failures == 0


def test_key_change_tokens_under_another_key_fail() -> None:
    meter = make_meter()
    stranger = Vendor(make_profile(vending_key=VK2))
    first, _ = stranger.key_change(krn=2)
    assert meter.enter(first, AT).code is ResultCode.CRC
    assert meter.state.staged_key_change is None


def test_staged_sections_round_trip_through_a_dict() -> None:
    staged = stage(None, 2, {"kenlo": 1, "new_ti": 2, "nklo": 3}, AT, 600)
    assert StagedKeyChange.from_dict(staged.as_dict()) == staged
    assert staged.missing(sts.EA.STA) == (1,)
    assert staged.missing(sts.EA.MISTY1) == (1, 3, 4)
