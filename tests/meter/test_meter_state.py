"""Snapshots, profile validation and manufacture errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from stsvend import sts
from stsvend.meter import (
    Meter,
    MeterClockError,
    MeterConfigError,
    MeterProfile,
    MeterStateError,
    RegisterKind,
    ResultCode,
)
from tests.meter.meter_support import T0, VK2, Vendor, identity, key_data, make_meter, make_profile

E = RegisterKind.ELECTRICITY
AT = T0 + timedelta(hours=1)


def busy_meter() -> Meter:
    """A meter that has been through most of what can happen to one."""
    meter = make_meter(emergency_policy="meter", emergency_allowance=50, credit={E: 5})
    vendor = Vendor(meter.profile)
    meter.enter(vendor.credit(10, AT), AT)
    meter.enter(sts.max_power_limit_token(vendor.key, 5000, tid=vendor.tid(AT), rnd=5), AT)
    meter.advance(AT + timedelta(minutes=33, microseconds=7), load_watts=1234)
    meter.activate_emergency_credit(AT + timedelta(hours=2))
    meter.report_tamper(AT + timedelta(hours=2))
    meter.enter(vendor.key_change(vending_key=VK2, krn=2)[1], AT + timedelta(hours=2))
    for _ in range(3):
        meter.enter("11111111111111111111", AT + timedelta(hours=2))
    return meter


def test_snapshot_survives_json_and_restores_the_same_state() -> None:
    meter = busy_meter()
    data = json.loads(json.dumps(meter.snapshot()))
    restored = Meter.restore(meter.profile, data)
    assert restored.state == meter.state
    assert restored.status() == meter.status()
    assert data["format"] == "stsvend-meter-state"
    assert data["staged_key_change"]["sections"].keys() == {"2"}


def test_restored_meter_carries_on() -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    token = vendor.credit(10, AT)
    meter.enter(token, AT)
    restored = Meter.restore(meter.profile, meter.snapshot())
    assert restored.enter(token, AT).code is ResultCode.USED
    assert restored.enter(vendor.credit(5, AT), AT).code is ResultCode.ACCEPT
    assert restored.credit == 15


def _damaged(change: Any) -> dict[str, Any]:
    data = busy_meter().snapshot()
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], "not a stsvend meter state"),
        ({"format": "other"}, "not a stsvend meter state"),
        (_damaged(lambda d: d.update(version=2)), "version 2"),
        (_damaged(lambda d: d.pop("clock")), "damaged"),
        (_damaged(lambda d: d.update(clock="2024-01-01T00:00:00")), "no timezone"),
        (_damaged(lambda d: d.update(accumulator="7")), "integer"),
        (_damaged(lambda d: d.update(tamper=1)), "true or false"),
        (_damaged(lambda d: d.update(max_power_limit=1.5)), "integer or null"),
        (_damaged(lambda d: d.update(decoder_key="zz")), "hexadecimal"),
        (_damaged(lambda d: d["registers"].update(water=1)), "registers differ"),
        (_damaged(lambda d: d["registers"].update(plutonium=1)), "unknown register"),
        (_damaged(lambda d: d["key_data"].update(krn=0)), "krn"),
        (_damaged(lambda d: d["tid_memory"].update(depth=0)), "at least 1"),
        (_damaged(lambda d: d["key_data"].update(ea="11")), "decoder key"),
        (_damaged(lambda d: d.update(accumulator=-1)), "negative consumption"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_damaged_snapshots_are_refused(data: Any, match: str) -> None:
    with pytest.raises(MeterStateError, match=match) as info:
        Meter.restore(busy_meter().profile, data)
    assert info.value.code == "meter_state"


def test_snapshot_for_another_algorithm_is_refused() -> None:
    ea11 = make_profile(data=key_data(ea="11"), vending_key=bytes(20), dkga="04")
    with pytest.raises(MeterStateError, match="encryption algorithm"):
        Meter.restore(ea11, busy_meter().snapshot())


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"registers": set()}, "at least one register"),
        ({"consumption_register": RegisterKind.WATER, "registers": {RegisterKind.WATER}},
         "in watts"),
        ({"consumption_register": RegisterKind.ELECTRICITY_CURRENCY}, "not present"),
        ({"consumption_register": RegisterKind.ELECTRICITY_CURRENCY,
          "registers": {RegisterKind.ELECTRICITY_CURRENCY}}, "needs a price"),
        ({"price": -1}, "price may not be negative"),
        ({"tid_memory_depth": 0}, "at least one TID"),
        ({"key_change_window_seconds": -1}, "window"),
        ({"unit_register_limit": 0}, "limits are positive"),
        ({"max_power_limit": -5}, "power limit"),
        ({"emergency_allowance": -1}, "allowance may not be negative"),
        ({"emergency_policy": "meter"}, "needs an allowance"),
        ({"emergency_allowance": 10}, "needs emergency_policy"),
        ({"emergency_policy": "meter", "emergency_allowance": 5, "emergency_threshold": -1},
         "threshold"),
        ({"test_token_subclasses": {0, 6}}, "subclasses 0, 1 and 2"),
        ({"emergency_policy": "sometimes"}, "'sometimes' is not a valid EmergencyPolicy"),
        ({"registers": {42}}, "42 is not a valid RegisterKind"),
        ({"refused_key_type_changes": {(2, 9)}}, "9 is not a valid KeyType"),
    ],
)  # fmt: skip
def test_impossible_profiles_are_refused(settings: dict[str, Any], match: str) -> None:
    with pytest.raises(MeterConfigError, match=match) as info:
        make_profile(**settings)
    assert info.value.code == "meter_config"


def test_decoder_key_must_match_the_key_data() -> None:
    ea07 = make_profile()
    with pytest.raises(MeterConfigError, match="EA07 but the key data says EA11"):
        MeterProfile(identity(), key_data(ea="11"), ea07.decoder_key)


def test_manufacture_errors() -> None:
    profile = make_profile()
    with pytest.raises(MeterConfigError, match="past the last TID of base date 1993"):
        Meter.manufacture(profile, T0.replace(year=2026))
    with pytest.raises(MeterClockError):
        Meter.manufacture(profile, datetime(2024, 1, 1))  # naive
    with pytest.raises(MeterConfigError, match="no such register"):
        Meter.manufacture(profile, T0, {RegisterKind.GAS: 1})
    with pytest.raises(MeterConfigError, match=r"outside 0\.\.limit"):
        Meter.manufacture(profile, T0, {E: -1})


def test_profile_values_and_repr_hide_the_key() -> None:
    profile = make_profile(drn="01234567897", manufacturer_code_override=77)
    assert profile.manufacturer_code == 77
    assert profile.decoder_key.hex() not in repr(make_meter(profile))
    assert profile.emergency_activation_threshold == 0
    assert profile.register_limit(RegisterKind.WATER_CURRENCY) == 10**13 - 1
