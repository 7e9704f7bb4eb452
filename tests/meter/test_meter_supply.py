"""Consumption, the relay state table, the power limit, tamper and meter-side emergency credit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from stsvend import sts
from stsvend.errors import InputError
from stsvend.meter import (
    EmergencyCreditError,
    EmergencyPolicy,
    MeterClockError,
    RegisterKind,
    RelayState,
    ResultCode,
)
from tests.meter.meter_support import T0, Vendor, make_meter

E = RegisterKind.ELECTRICITY
EC = RegisterKind.ELECTRICITY_CURRENCY
HOUR = timedelta(hours=1)


def test_load_draws_the_unit_register_down() -> None:
    meter = make_meter(credit={E: 10})  # 1.0 kWh
    report = meter.advance(T0 + timedelta(minutes=30), load_watts=1000)
    assert meter.credit == 5
    assert report.debited == 5
    assert report.energy_wus == 1000 * 1800 * 10**6
    assert report.relay_opened_at is None
    assert meter.status()["energy_total_kwh"] == "0.500"


def test_sub_unit_energy_is_carried_in_the_accumulator() -> None:
    meter = make_meter(credit={E: 10})
    meter.set_load(1000, T0)
    for second in range(1, 360):
        meter.advance(T0 + timedelta(seconds=second))
    assert meter.credit == 10  # 359 W·h·s short of 0.1 kWh
    meter.advance(T0 + timedelta(seconds=360))
    assert meter.credit == 9
    assert meter.state.accumulator == 0


def test_microseconds_count() -> None:
    meter = make_meter(credit={E: 10})
    meter.set_load(1_000_000, T0)
    meter.advance(T0 + timedelta(microseconds=360_000))  # 1 MW for 0.36 s = 0.1 kWh
    assert meter.credit == 9


def test_relay_opens_when_credit_runs_out_and_closes_when_credit_returns() -> None:
    meter = make_meter(credit={E: 1})  # 0.1 kWh = 6 min at 1 kW
    vendor = Vendor(meter.profile)
    report = meter.advance(T0 + HOUR, load_watts=1000)
    assert report.relay_opened_at == T0 + timedelta(minutes=6)
    assert meter.credit == 0
    assert meter.status()["relay"] == "open"
    assert meter.state.relay.reason == "no credit"
    assert meter.advance(T0 + 2 * HOUR).energy_wus == 0  # nothing flows with the relay open
    at = T0 + 2 * HOUR
    assert meter.enter(vendor.credit(10, at), at).code is ResultCode.ACCEPT
    assert meter.state.relay.state is RelayState.CLOSED


def test_new_meter_without_credit_has_its_relay_open() -> None:
    meter = make_meter()
    assert meter.state.relay.state is RelayState.OPEN
    assert meter.advance(T0 + HOUR, load_watts=500).energy_wus == 0


def test_currency_register_is_drawn_at_the_profile_price() -> None:
    meter = make_meter(
        registers={EC}, consumption_register=EC, price=250_000, credit={EC: 100_000}
    )  # 2.50 per kWh, 1.00 of credit: 0.4 kWh, 24 minutes at 1 kW
    meter.advance(T0 + timedelta(minutes=12), load_watts=1000)
    assert meter.credit == 50_000
    report = meter.advance(T0 + HOUR)
    assert report.relay_opened_at == T0 + timedelta(minutes=24)
    assert meter.credit == 0
    assert meter.status()["credit"]["display"] == "0.00000 ¤"


def test_currency_token_credits_the_currency_register() -> None:
    meter = make_meter(registers={EC}, consumption_register=EC, price=250_000)
    vendor = Vendor(meter.profile)
    result = meter.enter(vendor.currency(150_000, T0 + HOUR), T0 + HOUR)
    assert result.code is ResultCode.ACCEPT
    assert meter.credit == sts.decode_currency_amount(*sts.encode_currency_amount(150_000))
    debit = vendor.currency(-50_000, T0 + HOUR)
    assert meter.enter(debit, T0 + HOUR).code is ResultCode.ACCEPT
    assert meter.credit < 150_004


def test_power_limit_opens_the_relay_without_drawing_credit() -> None:
    meter = make_meter(credit={E: 100})
    vendor = Vendor(meter.profile)
    token = sts.max_power_limit_token(vendor.key, 1000, tid=vendor.tid(T0 + HOUR), rnd=5)
    assert meter.enter(token, T0 + HOUR).code is ResultCode.ACCEPT
    assert meter.state.max_power_limit == 1000
    report = meter.advance(T0 + 2 * HOUR, load_watts=1500)
    assert meter.state.relay.reason == "load above the maximum power limit"
    assert report.energy_wus == 0
    meter.advance(T0 + 3 * HOUR, load_watts=1000)  # at the limit: allowed
    assert meter.state.relay.state is RelayState.CLOSED
    assert meter.credit == 90


def test_power_limit_from_the_profile() -> None:
    meter = make_meter(credit={E: 100}, max_power_limit=0)
    meter.set_load(1, T0)
    assert meter.state.relay.state is RelayState.OPEN


def test_tamper_opens_the_relay_until_cleared() -> None:
    meter = make_meter(credit={E: 100})
    vendor = Vendor(meter.profile)
    meter.report_tamper(T0 + HOUR)
    assert meter.state.relay.reason == "tamper"
    token = sts.clear_tamper_token(vendor.key, tid=vendor.tid(T0 + 2 * HOUR), rnd=5)
    assert meter.enter(token, T0 + 2 * HOUR).code is ResultCode.ACCEPT
    assert meter.state.tamper is False
    assert meter.state.relay.state is RelayState.CLOSED


def test_tamper_need_not_open_the_relay() -> None:
    meter = make_meter(credit={E: 100}, tamper_opens_relay=False)
    meter.report_tamper(T0 + HOUR)
    assert meter.state.tamper is True
    assert meter.state.relay.state is RelayState.CLOSED


def test_emergency_credit_lets_the_register_run_to_minus_the_allowance() -> None:
    meter = make_meter(credit={E: 10}, emergency_policy="meter", emergency_allowance=50)
    meter.advance(T0 + HOUR, load_watts=1000)  # 1 kWh: exhausted
    assert meter.state.relay.state is RelayState.OPEN
    meter.activate_emergency_credit(T0 + HOUR)
    assert meter.state.relay.closed  # (mypy would keep the narrowing to OPEN across the call)
    report = meter.advance(T0 + 10 * HOUR)  # 5 kWh allowance lasts 5 h
    assert report.relay_opened_at == T0 + 6 * HOUR
    assert meter.credit == -50
    assert meter.status()["emergency"] == {
        "policy": "meter",
        "active": True,
        "allowance": 50,
        "owed": 50,
    }


def test_next_credit_token_repays_emergency_credit() -> None:
    meter = make_meter(emergency_policy="meter", emergency_allowance=50)
    vendor = Vendor(meter.profile)
    meter.activate_emergency_credit(T0)
    meter.advance(T0 + 3 * HOUR, load_watts=1000)  # 3 kWh on loan
    assert meter.credit == -30
    at = T0 + 3 * HOUR
    partial = meter.enter(vendor.credit(20, at), at)
    assert partial.effect["repaid"] == 20
    assert meter.credit == -10
    assert meter.state.emergency_active  # still owed: stays on
    full = meter.enter(vendor.credit(100, at), at)
    assert full.effect["repaid"] == 10
    assert "repaid" in full.message
    assert meter.credit == 90
    assert not meter.state.emergency_active


def test_emergency_credit_only_below_the_threshold() -> None:
    meter = make_meter(
        credit={E: 100}, emergency_policy="meter", emergency_allowance=50, emergency_threshold=20
    )
    with pytest.raises(EmergencyCreditError, match="above the emergency threshold"):
        meter.activate_emergency_credit(T0)
    meter.advance(T0 + 8 * HOUR, load_watts=1000)  # 100 → 20
    meter.activate_emergency_credit(T0 + 8 * HOUR)
    with pytest.raises(EmergencyCreditError, match="already on"):
        meter.activate_emergency_credit(T0 + 8 * HOUR)


@pytest.mark.parametrize(
    ("policy", "message"), [("none", "no emergency credit"), ("vending", "vending system")]
)
def test_emergency_credit_refused_without_meter_policy(policy: str, message: str) -> None:
    meter = make_meter(emergency_policy=policy)
    with pytest.raises(EmergencyCreditError, match=message) as info:
        meter.activate_emergency_credit(T0)
    assert info.value.code == "emergency_credit"
    assert meter.status()["emergency"]["policy"] == EmergencyPolicy(policy).value


def test_clear_credit_clears_one_register_or_all() -> None:
    kinds = {E, RegisterKind.WATER, RegisterKind.GAS, RegisterKind.TIME}
    meter = make_meter(registers=kinds, credit=dict.fromkeys(kinds, 40))
    vendor = Vendor(meter.profile)
    at = T0 + HOUR
    token = sts.clear_credit_token(vendor.key, sts.ClearRegister.WATER, tid=vendor.tid(at), rnd=5)
    assert meter.enter(token, at).effect["registers"] == ["water"]
    assert meter.state.registers.as_dict() == {"electricity": 40, "water": 0, "gas": 40, "time": 40}
    token = sts.clear_credit_token(vendor.key, sts.ClearRegister.ALL, tid=vendor.tid(at), rnd=5)
    assert meter.enter(token, at).code is ResultCode.ACCEPT
    assert set(meter.state.registers.as_dict().values()) == {0}
    assert meter.state.relay.reason == "no credit"


def test_clear_credit_forgives_emergency_debt() -> None:
    meter = make_meter(emergency_policy="meter", emergency_allowance=50)
    vendor = Vendor(meter.profile)
    meter.activate_emergency_credit(T0)
    meter.advance(T0 + HOUR, load_watts=1000)
    token = sts.clear_credit_token(vendor.key, sts.ClearRegister.ELECTRICITY,
                                   tid=vendor.tid(T0 + HOUR), rnd=5)  # fmt: skip
    meter.enter(token, T0 + HOUR)
    assert meter.credit == 0
    assert not meter.state.emergency_active


def test_credit_for_each_resource_register() -> None:
    kinds = {E, RegisterKind.WATER, RegisterKind.GAS, RegisterKind.TIME}
    meter = make_meter(registers=kinds)
    vendor = Vendor(meter.profile)
    at = T0 + HOUR
    for n, resource in enumerate(sts.Resource):
        assert meter.enter(vendor.credit(10 + n, at, resource), at).code is ResultCode.ACCEPT
    assert meter.state.registers.as_dict() == {
        "electricity": 10,
        "water": 11,
        "gas": 12,
        "time": 13,
    }
    assert meter.status()["registers"]["water"]["display"] == "1.1 m³"


SETTING_TOKENS = {
    "tariff_rate": (sts.tariff_rate_token, 1234),
    "water_meter_factor": (sts.water_meter_factor_token, 777),
    "phase_unbalance_limit": (sts.phase_unbalance_limit_token, 2500),
}


@pytest.mark.parametrize("attribute", sorted(SETTING_TOKENS))
def test_settings_are_stored(attribute: str) -> None:
    meter = make_meter()
    vendor = Vendor(meter.profile)
    maker, value = SETTING_TOKENS[attribute]
    token = maker(vendor.key, value, tid=vendor.tid(T0 + HOUR), rnd=5)
    assert meter.enter(token, T0 + HOUR).code is ResultCode.ACCEPT
    assert getattr(meter.state, attribute) == value
    assert meter.status()[attribute] == value


def test_the_clock_must_be_aware_and_may_not_run_backwards() -> None:
    meter = make_meter()
    with pytest.raises(MeterClockError, match="timezone-aware"):
        meter.advance(datetime(2024, 3, 2))  # a naive datetime
    meter.advance(T0 + HOUR)
    with pytest.raises(MeterClockError, match="backwards") as info:
        meter.enter("12345678901234567890", T0)
    assert info.value.code == "meter_clock"
    assert meter.state.clock == T0 + HOUR


def test_a_load_is_a_whole_number_of_watts() -> None:
    meter = make_meter()
    with pytest.raises(InputError):
        meter.advance(T0 + HOUR, load_watts=-1)
    with pytest.raises(InputError):
        meter.set_load(1.5, T0 + HOUR)  # type: ignore[arg-type]
    assert meter.state.load_watts == 0
