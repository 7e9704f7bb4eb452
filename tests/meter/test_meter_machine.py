"""A Hypothesis state machine drives random entries, time and load through the meter model.

Entries: fresh credit tokens from a vending side that follows the meter's key, replays of any
token issued so far, random digits, tokens made with another vending key, key change sets (with
and without rollover, sections in random order), power limits, test tokens, tamper, emergency
credit.  After every step:

* credit never goes below zero except by the emergency allowance while it is switched on;
* no (base date, TID) is ever accepted twice;
* the relay is closed exactly when there is no tamper trip, credit is above the floor and the
  load is within the power limit — written out here, independently of ``relay.py``'s table;
* every entry the core cannot decrypt under the meter's key was answered "CRC error" (or
  "lockout" while the keypad is locked).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from stsvend import sts
from stsvend.errors import CrcError, StsError
from stsvend.meter import EmergencyCreditError, Meter, MeterProfile, RegisterKind, ResultCode
from stsvend.sts.codec import digits_to_block
from tests.meter.meter_support import T0, VK1, VK2, Vendor, make_profile

E = RegisterKind.ELECTRICITY
EC = RegisterKind.ELECTRICITY_CURRENCY
LOADS = st.sampled_from([0, 60, 800, 2400, 7000, 25_000])


class MeterMachine(RuleBasedStateMachine):
    currency = False

    def __init__(self) -> None:
        super().__init__()
        kind = EC if self.currency else E
        self.kind = kind
        self.profile: MeterProfile = make_profile(
            registers={kind},
            consumption_register=kind,
            price=180_000 if self.currency else None,
            tid_memory_depth=4,
            unit_register_limit=4000,
            currency_register_limit=2_000_000,
            emergency_policy="meter",
            emergency_allowance=30_000 if self.currency else 30,
        )
        self.now = T0
        self.meter = Meter.manufacture(self.profile, T0, {kind: 50})
        self.vendor = Vendor(self.profile)
        self.stranger = Vendor(make_profile(vending_key=VK2, data=self.profile.key_data))
        self.issued: list[str] = []
        self.accepted: set[tuple[int, int]] = set()

    # --- the entry path, with the CRC oracle -------------------------------------------------

    def enter(self, digits: str) -> ResultCode:
        key = self.meter.state.decoder_key
        base = int(self.meter.state.key_data.base_date)
        locked = self.meter.state.lockout.active(self.now)
        result = self.meter.enter(digits, self.now)
        event(f"result {result.code.name}")
        try:
            token_class, _ = digits_to_block(digits)
            if token_class in (0, 2):
                sts.decode_token(digits, key)
        except CrcError:
            assert result.code is (ResultCode.LOCKOUT if locked else ResultCode.CRC)
        except StsError:
            pass
        if result.code is ResultCode.ACCEPT and result.tid is not None:
            assert (base, result.tid) not in self.accepted, "a TID was accepted twice"
            self.accepted.add((base, result.tid))
        return result.code

    # --- rules ------------------------------------------------------------------------------

    @rule(minutes=st.integers(0, 600), load=LOADS)
    def time_passes(self, minutes: int, load: int) -> None:
        self.now += timedelta(minutes=minutes, seconds=minutes % 7)
        self.meter.advance(self.now, load_watts=load)

    @rule(amount=st.integers(0, 1500), minutes=st.integers(0, 90))
    def vend_and_enter(self, amount: int, minutes: int) -> None:
        at = self.now + timedelta(minutes=minutes)
        if self.currency:
            token = self.vendor.currency(amount * 100, at)
        else:
            token = self.vendor.credit(amount, at)
        self.issued.append(token)
        self.enter(token)

    @precondition(lambda self: self.currency)
    @rule(amount=st.integers(1, 50_000))
    def vend_debit(self, amount: int) -> None:
        token = self.vendor.currency(-amount, self.now)
        self.issued.append(token)
        self.enter(token)

    @rule(amount=st.integers(0, 200))
    def vend_without_entering(self, amount: int) -> None:
        self.issued.append(self.vendor.credit(amount, self.now))

    @precondition(lambda self: self.issued)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        self.enter(data.draw(st.sampled_from(self.issued)))

    @rule(digits=st.text("0123456789", min_size=18, max_size=21))
    def garbage(self, digits: str) -> None:
        self.enter(digits)

    @rule(amount=st.integers(0, 100))
    def other_key(self, amount: int) -> None:
        self.enter(self.stranger.credit(amount, self.now))

    @rule(watts=st.sampled_from([0, 1000, 5000, 30_000, 18_201_624]))
    def power_limit(self, watts: int) -> None:
        token = sts.max_power_limit_token(self.vendor.key, watts, tid=self.vendor.tid(self.now),
                                          rnd=5)  # fmt: skip
        self.issued.append(token)
        self.enter(token)

    @rule()
    def tamper(self) -> None:
        self.meter.report_tamper(self.now)

    @rule()
    def clear_tamper(self) -> None:
        token = sts.clear_tamper_token(self.vendor.key, tid=self.vendor.tid(self.now), rnd=5)
        self.enter(token)

    @rule(control=st.integers(0, 2**36 - 1))
    def test_token(self, control: int) -> None:
        assert self.enter(sts.test_token(control)) is ResultCode.ACCEPT

    @rule()
    def emergency(self) -> None:
        with contextlib.suppress(EmergencyCreditError):
            self.meter.activate_emergency_credit(self.now)

    @rule(
        vending_key=st.sampled_from([VK1, VK2]),
        krn=st.integers(1, 9),
        ti=st.integers(0, 99),
        rollover=st.booleans(),
        with_sgc=st.booleans(),
        data=st.data(),
    )
    def key_change(
        self, vending_key: bytes, krn: int, ti: int, rollover: bool, with_sgc: bool,
        data: st.DataObject,
    ) -> None:  # fmt: skip
        rollover = rollover and self.vendor.data.base_date is sts.BaseDate.Y1993
        saved = (self.vendor.data, self.vendor.key, self.vendor.vending_key, self.vendor.last_tid)
        tokens = self.vendor.key_change(vending_key=vending_key, krn=krn, ti=ti,
                                        rollover=rollover, with_sgc=with_sgc)  # fmt: skip
        order = data.draw(st.permutations(range(len(tokens))))
        codes = [self.enter(tokens[i]) for i in order]
        if codes[-1] is ResultCode.ACCEPT:
            assert self.meter.state.key_data == self.vendor.data
            assert self.meter.state.decoder_key == self.vendor.key
        else:  # the keypad was locked: the vending side stays on the old key
            assert ResultCode.LOCKOUT in codes
            (self.vendor.data, self.vendor.key, self.vendor.vending_key,
             self.vendor.last_tid) = saved  # fmt: skip

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def credit_floor(self) -> None:
        credit = self.meter.credit
        allowance = self.profile.emergency_allowance
        if credit < 0:
            event("credit below zero (emergency credit in use)")
        if not self.meter.state.relay.closed:
            event(f"relay open: {self.meter.state.relay.reason}")
        assert credit >= 0 or (self.meter.state.emergency_active and credit >= -allowance)

    @invariant()
    def relay_follows_credit_and_limit(self) -> None:
        state = self.meter.state
        floor = -self.profile.emergency_allowance if state.emergency_active else 0
        limit = state.max_power_limit
        expected_closed = (
            not state.tamper
            and self.meter.credit > floor
            and (limit is None or state.load_watts <= limit)
        )
        assert state.relay.closed == expected_closed, state.relay

    @invariant()
    def tid_memory_is_bounded(self) -> None:
        assert len(self.meter.state.tid_memory.tids) <= self.profile.tid_memory_depth


MACHINE_SETTINGS = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class CurrencyMeterMachine(MeterMachine):
    currency = True


TestMeterMachine = MeterMachine.TestCase
TestMeterMachine.settings = MACHINE_SETTINGS
TestCurrencyMeterMachine = CurrencyMeterMachine.TestCase
TestCurrencyMeterMachine.settings = MACHINE_SETTINGS
