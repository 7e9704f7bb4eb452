"""Time, load and the supply: consumption, emergency credit and tamper, as pure functions.

Each function takes the profile, a state and the time ``now`` (a timezone-aware datetime; the
model never reads a clock) and returns the new state.  Time passes first — the load drew
from the consumption register since the state's clock — then the change applies, then the relay
is re-evaluated from its state table (:mod:`stsvend.meter.relay`).

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> from stsvend.meter.registers import RegisterKind
>>> from stsvend.meter.state import new_state
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> state = new_state(profile, t0, {RegisterKind.ELECTRICITY: 10})   # 1.0 kWh
>>> state, report = advance(profile, state, t0 + timedelta(hours=2), load_watts=1000)
>>> state.registers[RegisterKind.ELECTRICITY], state.relay.state.value, report.relay_opened_at
(0, 'open', datetime.datetime(2024, 1, 1, 1, 0, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import evolve, frozen

from stsvend.errors import InputError
from stsvend.meter.consumption import KWH, UNIT_STEP, draw
from stsvend.meter.emergency import refusal
from stsvend.meter.errors import EmergencyCreditError
from stsvend.meter.profile import MeterProfile
from stsvend.meter.state import MeterState, check_clock, credit_floor, settle

__all__ = ["SupplyReport", "activate_emergency_credit", "advance", "report_tamper"]

_US = timedelta(microseconds=1)


@frozen
class SupplyReport:
    """What happened while time passed."""

    seconds: int  #: whole seconds that passed
    energy_wus: int  #: energy delivered to the load, W·µs
    debited: int  #: register units drawn from the consumption register
    relay_opened_at: datetime | None  #: when the credit ran out, if it did


def advance(
    profile: MeterProfile, state: MeterState, now: datetime, load_watts: int | None = None
) -> tuple[MeterState, SupplyReport]:
    """Let time run to ``now``.

    ``load_watts`` (if given) is the load from the state's clock on — during this interval and
    after it; None keeps the present load.
    """
    check_clock(state, now)
    if load_watts is not None:
        if type(load_watts) is not int or load_watts < 0:
            raise InputError(f"the load is a whole number of watts >= 0, got {load_watts!r}")
        state = settle(profile, evolve(state, load_watts=load_watts))
    elapsed_us = (now - state.clock) // _US
    kind = profile.consumption_register
    before = state.registers[kind]
    opened_at = None
    energy = 0
    if state.relay.closed and state.load_watts and elapsed_us:
        currency = kind.is_currency
        outcome = draw(
            credit=before,
            floor=credit_floor(profile, state),
            accumulator=state.accumulator,
            load_watts=state.load_watts,
            elapsed_us=elapsed_us,
            weight=(profile.price or 0) if currency else 1,
            step=KWH if currency else UNIT_STEP,
        )
        energy = outcome.energy_wus
        if outcome.exhausted:
            opened_at = state.clock + outcome.ran_us * _US
        state = evolve(
            state,
            registers=state.registers.with_value(kind, outcome.credit),
            accumulator=outcome.accumulator,
            energy_total_wus=state.energy_total_wus + energy,
        )
    seconds = (now - state.clock) // timedelta(seconds=1)
    state = settle(profile, evolve(state, clock=now))
    return state, SupplyReport(seconds, energy, before - state.registers[kind], opened_at)


def activate_emergency_credit(
    profile: MeterProfile, state: MeterState, now: datetime
) -> MeterState:
    """Switch meter-side emergency credit on (the customer's key press)."""
    state, _ = advance(profile, state, now)
    reason = refusal(
        profile.emergency_policy,
        active=state.emergency_active,
        credit=state.registers[profile.consumption_register],
        allowance=profile.emergency_allowance,
        threshold=profile.emergency_activation_threshold,
        show=profile.consumption_register.format,
    )
    if reason is not None:
        raise EmergencyCreditError(f"emergency credit refused: {reason}")
    return settle(profile, evolve(state, emergency_active=True))


def report_tamper(profile: MeterProfile, state: MeterState, now: datetime) -> MeterState:
    """A tamper event (cover opened, magnet …): latched until a clear tamper token."""
    state, _ = advance(profile, state, now)
    return settle(profile, evolve(state, tamper=True))
