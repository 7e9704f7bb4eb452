"""The meter's changing state, its plain-dict snapshot, and a JSON view for displays.

:class:`MeterState` is immutable: every operation of the model returns a new one.  The profile
(:mod:`stsvend.meter.profile`) says what the meter *is*; the state says where it *stands* —
including its current key data and decoder key, which key change tokens replace.

A snapshot is a dict of JSON values (``format``/``version`` first) that :func:`restore_state`
reads back, refusing anything malformed with :class:`~stsvend.meter.errors.MeterStateError`.
It holds the current decoder key in hex: the simulator is meant for test keysets only.

>>> from datetime import datetime, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> state = new_state(profile, datetime(2020, 1, 1, 8, tzinfo=timezone.utc))
>>> state.tid_memory.tids
(3155520,)
>>> restore_state(profile, snapshot_state(state)) == state
True
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import evolve, frozen

from stsvend.errors import StsError
from stsvend.meter.consumption import KWH, UNIT_STEP
from stsvend.meter.emergency import floor
from stsvend.meter.errors import MeterClockError, MeterConfigError, MeterStateError
from stsvend.meter.keychange import StagedKeyChange
from stsvend.meter.lockout import Lockout
from stsvend.meter.profile import MeterProfile
from stsvend.meter.registers import RegisterKind, Registers
from stsvend.meter.relay import RelayDecision, relay_decision
from stsvend.meter.results import Result
from stsvend.meter.tidmemory import TidMemory
from stsvend.sts import DecoderKey, KeyData, tid_at

__all__ = [
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_VERSION",
    "MeterState",
    "check_clock",
    "describe",
    "new_state",
    "restore_state",
    "settle",
    "snapshot_state",
]

SNAPSHOT_FORMAT = "stsvend-meter-state"
SNAPSHOT_VERSION = 1


@frozen
class MeterState:
    """Where a meter stands at ``clock``."""

    clock: datetime
    key_data: KeyData
    decoder_key: DecoderKey
    tid_memory: TidMemory
    registers: Registers
    #: Consumption not yet debited (see :mod:`stsvend.meter.consumption`).
    accumulator: int
    #: Energy delivered to the load since manufacture, W·µs.
    energy_total_wus: int
    load_watts: int
    relay: RelayDecision
    max_power_limit: int | None
    phase_unbalance_limit: int | None
    tariff_rate: int | None
    water_meter_factor: int | None
    tamper: bool
    emergency_active: bool
    staged_key_change: StagedKeyChange | None
    lockout: Lockout
    last_result: Result | None


def check_clock(state: MeterState, now: datetime) -> None:
    """The clock is a parameter: it must be aware and may not run backwards."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise MeterClockError(f"the meter needs a timezone-aware datetime, got {now!r}")
    if now < state.clock:
        raise MeterClockError(
            f"time runs backwards: {now.isoformat()} is before the meter's clock "
            f"{state.clock.isoformat()}"
        )


def credit_floor(profile: MeterProfile, state: MeterState) -> int:
    return floor(active=state.emergency_active, allowance=profile.emergency_allowance)


def settle(profile: MeterProfile, state: MeterState) -> MeterState:
    """Re-evaluate the relay from :data:`~stsvend.meter.relay.RELAY_TABLE`."""
    limit = state.max_power_limit
    decision = relay_decision(
        tamper_trip=state.tamper and profile.tamper_opens_relay,
        credit_available=state.registers[profile.consumption_register]
        > credit_floor(profile, state),
        within_limit=limit is None or state.load_watts <= limit,
    )
    return state if decision == state.relay else evolve(state, relay=decision)


def new_state(
    profile: MeterProfile, at: datetime, credit: dict[RegisterKind, int] | None = None
) -> MeterState:
    """A meter fresh from the factory at ``at``: TID memory seeded with ``at``'s TID."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise MeterClockError(f"the manufacture time must be timezone-aware, got {at!r}")
    try:
        seed = tid_at(at, profile.key_data.base_date)
    except StsError as err:
        raise MeterConfigError(f"cannot seed the TID memory: {err}") from None
    registers = Registers.empty(profile.registers)
    for kind, value in (credit or {}).items():
        if kind not in registers:
            raise MeterConfigError(
                f"starting credit for {kind.key}: this meter has no such register"
            )
        if not 0 <= value <= profile.register_limit(kind):
            raise MeterConfigError(f"starting credit for {kind.key} is outside 0..limit ({value})")
        registers = registers.with_value(kind, value)
    state = MeterState(
        clock=at,
        key_data=profile.key_data,
        decoder_key=profile.decoder_key,
        tid_memory=TidMemory.seeded(profile.tid_memory_depth, seed),
        registers=registers,
        accumulator=0,
        energy_total_wus=0,
        load_watts=0,
        relay=relay_decision(tamper_trip=False, credit_available=False, within_limit=True),
        max_power_limit=profile.max_power_limit,
        phase_unbalance_limit=None,
        tariff_rate=None,
        water_meter_factor=None,
        tamper=False,
        emergency_active=False,
        staged_key_change=None,
        lockout=Lockout(),
        last_result=None,
    )
    return settle(profile, state)


def _key_data_dict(data: KeyData) -> dict[str, Any]:
    return {
        "sgc": data.sgc,
        "ti": data.ti,
        "krn": data.krn,
        "key_type": int(data.key_type),
        "ea": data.ea.value,
        "base_date": int(data.base_date),
        "ken": data.ken,
    }


def snapshot_state(state: MeterState) -> dict[str, Any]:
    """The state as plain JSON values."""
    return {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "clock": state.clock.isoformat(),
        "key_data": _key_data_dict(state.key_data),
        "decoder_key": state.decoder_key.hex(),
        "tid_memory": {"depth": state.tid_memory.depth, "tids": list(state.tid_memory.tids)},
        "registers": state.registers.as_dict(),
        "accumulator": state.accumulator,
        "energy_total_wus": state.energy_total_wus,
        "load_watts": state.load_watts,
        "max_power_limit": state.max_power_limit,
        "phase_unbalance_limit": state.phase_unbalance_limit,
        "tariff_rate": state.tariff_rate,
        "water_meter_factor": state.water_meter_factor,
        "tamper": state.tamper,
        "emergency_active": state.emergency_active,
        "staged_key_change": (
            None if state.staged_key_change is None else state.staged_key_change.as_dict()
        ),
        "lockout": {
            "failures": state.lockout.failures,
            "until": None if state.lockout.until is None else state.lockout.until.isoformat(),
        },
        "last_result": None if state.last_result is None else state.last_result.as_dict(),
    }


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise TypeError(f"expected an integer or null, got {value!r}")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _aware(text: Any) -> datetime:
    when = datetime.fromisoformat(str(text))
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone")
    return when


def restore_state(profile: MeterProfile, data: Any) -> MeterState:
    """Load a snapshot made by :func:`snapshot_state` for a meter of ``profile``."""
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        raise MeterStateError("this is not a stsvend meter state snapshot")
    if data.get("version") != SNAPSHOT_VERSION:
        raise MeterStateError(f"snapshot version {data.get('version')!r} is not supported")
    try:
        key_data = KeyData(**data["key_data"])
        registers = Registers(
            {RegisterKind.parse(k): _int(v) for k, v in data["registers"].items()}
        )
        if set(registers) != set(profile.registers):
            raise ValueError("its registers differ from the profile's")
        memory = data["tid_memory"]
        lockout = data["lockout"]
        staged = data["staged_key_change"]
        last = data["last_result"]
        state = MeterState(
            clock=_aware(data["clock"]),
            key_data=key_data,
            decoder_key=DecoderKey.from_hex(data["decoder_key"], key_data.ea),
            tid_memory=TidMemory(_int(memory["depth"]), tuple(_int(t) for t in memory["tids"])),
            registers=registers,
            accumulator=_int(data["accumulator"]),
            energy_total_wus=_int(data["energy_total_wus"]),
            load_watts=_int(data["load_watts"]),
            relay=relay_decision(tamper_trip=False, credit_available=False, within_limit=True),
            max_power_limit=_optional_int(data["max_power_limit"]),
            phase_unbalance_limit=_optional_int(data["phase_unbalance_limit"]),
            tariff_rate=_optional_int(data["tariff_rate"]),
            water_meter_factor=_optional_int(data["water_meter_factor"]),
            tamper=_bool(data["tamper"]),
            emergency_active=_bool(data["emergency_active"]),
            staged_key_change=None if staged is None else StagedKeyChange.from_dict(staged),
            lockout=Lockout(
                _int(lockout["failures"]),
                None if lockout["until"] is None else _aware(lockout["until"]),
            ),
            last_result=None if last is None else Result.from_dict(last),
        )
        if min(state.accumulator, state.load_watts, state.energy_total_wus) < 0:
            raise ValueError("negative consumption figures")
        # The accumulator holds less than one register step (consumption.draw's invariant):
        # a larger one would let a damaged file debit, or time the relay, beyond any date.
        step = KWH if profile.consumption_register.is_currency else UNIT_STEP
        if state.accumulator >= step:
            raise ValueError(f"the accumulator ({state.accumulator}) is not below one step")
    except MeterStateError:
        raise
    except (StsError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise MeterStateError(f"the meter state snapshot is damaged: {err}") from None
    if state.key_data.ea is not profile.key_data.ea:
        raise MeterStateError("the snapshot's encryption algorithm differs from the profile's")
    return settle(profile, state)


def _decimal_text(value: int, places: int, scale: int) -> str:
    return f"{Decimal(value) / Decimal(scale):.{places}f}"


def describe(
    profile: MeterProfile, state: MeterState, now: datetime | None = None
) -> dict[str, Any]:
    """A JSON view of the meter for displays, script mode and the serial protocol."""
    now = state.clock if now is None else now
    kind = profile.consumption_register
    credit = state.registers[kind]
    staged = state.staged_key_change
    pending = None
    if staged is not None and not staged.expired(now, profile.key_change_window_seconds):
        deadline = staged.deadline(profile.key_change_window_seconds)
        pending = {
            "sections": sorted(staged.sections),
            "missing": list(staged.missing(state.key_data.ea)),
            "seconds_left": max(0, -(-(deadline - now) // timedelta(seconds=1))),
        }
    return {
        "time": state.clock.isoformat(),
        "drn": profile.identity.drn,
        "credit": {"register": kind.key, "value": credit, "display": kind.format(credit)},
        "registers": {
            k.key: {"value": v, "display": k.format(v)} for k, v in state.registers.values.items()
        },
        "relay": state.relay.state.value,
        "relay_reason": state.relay.reason,
        "load_watts": state.load_watts,
        "max_power_limit": state.max_power_limit,
        "phase_unbalance_limit": state.phase_unbalance_limit,
        "tariff_rate": state.tariff_rate,
        "water_meter_factor": state.water_meter_factor,
        "tamper": state.tamper,
        "energy_total_kwh": _decimal_text(state.energy_total_wus, 3, KWH),
        "emergency": {
            "policy": profile.emergency_policy.value,
            "active": state.emergency_active,
            "allowance": profile.emergency_allowance,
            "owed": max(0, -credit),
        },
        "key": _key_data_dict(state.key_data),
        "pending_key_change": pending,
        "lockout": {
            "failures": state.lockout.failures,
            "active": state.lockout.active(now),
            "seconds_left": state.lockout.seconds_left(now),
        },
        "tid_memory": {
            "depth": state.tid_memory.depth,
            "count": len(state.tid_memory.tids),
            "oldest": state.tid_memory.oldest,
            "newest": state.tid_memory.newest,
        },
        "last_result": None if state.last_result is None else state.last_result.as_dict(),
    }
