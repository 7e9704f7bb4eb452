"""Class 1: test/display and extended read tokens, never encrypted (``docs/sts.md`` §2.3).

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> from stsvend.meter.state import new_state
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> key, state = profile.decoder_key, new_state(profile, t0)
>>> tid = sts.tid_at(t0 + timedelta(days=1), sts.BaseDate.Y1993)
>>> test_entry(profile, state, sts.test_token(1)).message
'test/display: ...'
"""

from __future__ import annotations

from decimal import Decimal

from stsvend.errors import CrcError, UnsupportedTokenError
from stsvend.meter.consumption import KWH
from stsvend.meter.profile import MeterProfile
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.state import MeterState
from stsvend.meter.testdisplay import functions_of
from stsvend.meter.verdicts import refuse
from stsvend.sts import decode_token
from stsvend.sts.layouts import TestSubclass

__all__ = ["SOFTWARE_VERSION", "test_entry"]

#: What "display software version" shows.
SOFTWARE_VERSION = "stsvend meter model 1"


def _facts(profile: MeterProfile, state: MeterState) -> dict[str, str]:
    """The values class 1 display functions show."""

    def watts(value: int | None) -> str:
        return "none" if value is None else f"{value} W"

    def raw(value: int | None) -> str:
        return "not set" if value is None else str(value)

    return {
        "relay": state.relay.state.value,
        "energy_total": f"{Decimal(state.energy_total_wus) / KWH:.3f} kWh",
        "krn": str(state.key_data.krn),
        "ti": f"{state.key_data.ti:02d}",
        "max_power_limit": watts(state.max_power_limit),
        "tamper": "tamper" if state.tamper else "no tamper",
        "load": f"{state.load_watts} W",
        "software": SOFTWARE_VERSION,
        "phase_unbalance_limit": watts(state.phase_unbalance_limit),
        "water_meter_factor": raw(state.water_meter_factor),
        "tariff_rate": raw(state.tariff_rate),
        "key_type": str(int(state.key_data.key_type)),
        "ken": str(state.key_data.ken),
    }


def test_entry(profile: MeterProfile, state: MeterState, digits: str) -> Result:
    try:
        token = decode_token(digits, None)
    except CrcError:
        return Result(ResultCode.CRC, "the test token's CRC does not match", 1)
    except UnsupportedTokenError as err:
        return Result(ResultCode.FUNCTION, str(err), 1)
    if token.subclass not in profile.test_token_subclasses:
        return refuse(
            ResultCode.FUNCTION,
            f"this meter does not take class 1 subclass {token.subclass} tokens",
            token,
        )
    mfr = token.fields["manufacturer_code"]
    if mfr not in (0, profile.manufacturer_code):
        return refuse(
            ResultCode.MFR_CODE,
            f"manufacturer code {mfr} is not this meter's ({profile.manufacturer_code})",
            token,
        )
    control = token.fields["control"]
    if token.subclass == TestSubclass.EXTENDED_READ:
        # Extended read: the top 6 bits of the 36-bit field are the index (``docs/sts.md`` §2.3).
        index = control >> 30
        return Result(
            ResultCode.ACCEPT,
            f"extended read {index}",
            1,
            2,
            effect={"read_index": index, "control": control},
        )
    facts = _facts(profile, state)
    requested = functions_of(control)
    values = [None if f.shows is None else facts[f.shows] for f in requested]
    functions = [
        {"bit": f.bit, "name": f.name, "value": v} for f, v in zip(requested, values, strict=True)
    ]
    shown = (
        "; ".join(
            f.name + ("" if v is None else f": {v}") for f, v in zip(requested, values, strict=True)
        )
        or "no function requested"
    )
    return Result(
        ResultCode.ACCEPT,
        f"test/display: {shown}",
        1,
        token.subclass,
        effect={"control": control, "functions": functions},
    )
