"""The STS decoder: what a meter does with a 20-digit entry (``sts-reference.md`` §10).

Rule 1: every decision about a token lives in :func:`process_entry`, in the order of §10:

1. format — 20 digits below 2**66, else *format error*;
2. keypad lockout — refuses every class but class 1 while active;
3. class 1 — no decryption; CRC; the form (subclass) must be one the meter takes, else
   *function error*; manufacturer code 0 or the meter's, else *mfr code error*;
4. class 0/2 — decrypt with the meter's current decoder key and check the CRC (CRC_C for
   currency), else *CRC error* (the answer for another meter's or another key's token);
   unknown class/subclass/register → *function error*; reserved bits set → *format error*;
   values the meter cannot take → *range error*;
5. class 0 on a default-keyed meter → *DDTK error*;
6. TID-bearing tokens: (TID >> 16) > KEN → *key expired*;
7. TID memory: *used* / *old* (:mod:`stsvend.meter.tidmemory`);
8. credit — the register would pass its limit → *overflow* (the TID is not used up); a debit
   below zero → *range error*; otherwise *accept*;
9. key change sections — staged (*1st/2nd KCT entered*) until the set is complete, then the new
   key is installed (*accept*), or *key type error* for a refused key-type transition;
10. the result updates the lockout count (:mod:`stsvend.meter.lockout`).

Rule 2: the function is pure; :class:`Meter` is a thin holder of (profile, state).

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> meter = Meter.manufacture(profile, t0)
>>> tid = sts.tid_at(t0 + timedelta(days=1), sts.BaseDate.Y1993)
>>> token = sts.credit_token(profile.decoder_key, sts.Resource.ELECTRICITY, 250, tid=tid, rnd=5)
>>> print(meter.enter(token, t0 + timedelta(days=1)))
Accept: +25.0 kWh to electricity (credit 25.0 kWh)
>>> meter.enter(token, t0 + timedelta(days=1)).display
'Err 10 Used'
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import evolve

from stsvend.errors import CrcError, StsError, TokenFormatError, UnsupportedTokenError
from stsvend.meter.consumption import KWH
from stsvend.meter.keychange import SECTION_OF_SUBCLASS, assemble, stage
from stsvend.meter.profile import MeterProfile
from stsvend.meter.registers import CLEAR_ALL, RegisterKind
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.state import (
    MeterState,
    describe,
    new_state,
    restore_state,
    settle,
    snapshot_state,
)
from stsvend.meter.supply import SupplyReport, activate_emergency_credit, advance, report_tamper
from stsvend.meter.testdisplay import functions_of
from stsvend.sts import (
    EA,
    KeyType,
    decode_amount,
    decode_currency_amount,
    decode_token,
    key_expired,
)
from stsvend.sts.codec import DecodedToken, digits_to_block

__all__ = ["SOFTWARE_VERSION", "Meter", "process_entry"]

#: What "display software version" shows.
SOFTWARE_VERSION = "stsvend meter model 1"

_MANAGEMENT_NAMES = {
    0: "maximum power limit",
    1: "clear credit",
    2: "tariff rate",
    5: "clear tamper",
    6: "phase power unbalance limit",
    7: "water meter factor",
}


def process_entry(
    profile: MeterProfile, state: MeterState, digits: str, now: datetime
) -> tuple[MeterState, Result]:
    """Enter ``digits`` at ``now``: the new state and the meter's answer.

    Time passes first (the load draws credit up to ``now``); the relay is re-evaluated after.
    """
    state, _ = advance(profile, state, now)
    state, result, token_class = _decide(profile, state, digits, now)
    if token_class != 1:
        if result.accepted:
            state = evolve(state, lockout=state.lockout.cleared())
        elif result.code in profile.lockout.counted:
            state = evolve(state, lockout=state.lockout.after_failure(profile.lockout, now))
    return settle(profile, evolve(state, last_result=result)), result


def _decide(
    profile: MeterProfile, state: MeterState, digits: str, now: datetime
) -> tuple[MeterState, Result, int | None]:
    locked = state.lockout.active(now)
    try:
        token_class, _ = digits_to_block(digits)
    except TokenFormatError as err:
        if locked:
            return state, _locked(state, now), None
        return state, Result(ResultCode.FORMAT, str(err)), None
    if token_class == 1:
        return state, _test_token(profile, state, digits), 1
    if locked:
        return state, _locked(state, now), token_class
    if token_class == 3:
        return state, Result(ResultCode.FUNCTION, "class 3 tokens are reserved"), 3
    try:
        token = decode_token(digits, state.decoder_key)
    except CrcError:
        return (
            state,
            Result(
                ResultCode.CRC,
                "the CRC does not match: mistyped, or made for another meter or key",
                token_class,
            ),
            token_class,
        )
    except UnsupportedTokenError as err:
        return state, Result(ResultCode.FUNCTION, str(err), token_class), token_class
    except TokenFormatError as err:
        return state, Result(ResultCode.FORMAT, str(err), token_class), token_class
    if token_class == 0:
        state, result = _credit(profile, state, token)
    elif token.subclass in SECTION_OF_SUBCLASS:
        state, result = _key_change(profile, state, token, now)
    else:
        state, result = _management(profile, state, token)
    return state, result, token_class


def _locked(state: MeterState, now: datetime) -> Result:
    return Result(
        ResultCode.LOCKOUT,
        f"keypad locked after {state.lockout.failures} wrong entries; "
        f"try again in {state.lockout.seconds_left(now)} s (test tokens still work)",
        effect={"seconds_left": state.lockout.seconds_left(now)},
    )


def _refuse(code: ResultCode, message: str, token: DecodedToken, tid: int | None = None) -> Result:
    return Result(code, message, token.token_class, token.subclass, tid)


def _check_tid(profile: MeterProfile, state: MeterState, token: DecodedToken) -> Result | None:
    """Steps 6–7: key expiry, then the TID memory."""
    tid = token.fields["tid"]
    ken = state.key_data.ken
    if key_expired(tid, ken):
        return _refuse(
            ResultCode.KEY_EXPIRED,
            f"the key has expired: TID {tid} (high byte {tid >> 16}) is past KEN {ken}",
            token,
            tid,
        )
    verdict = state.tid_memory.check(tid)
    if verdict == "used":
        return _refuse(ResultCode.USED, f"TID {tid} has been used on this meter", token, tid)
    if verdict == "old":
        return _refuse(
            ResultCode.OLD,
            f"TID {tid} is older than the oldest TID in memory ({state.tid_memory.oldest})",
            token,
            tid,
        )
    return None


def _credit(
    profile: MeterProfile, state: MeterState, token: DecodedToken
) -> tuple[MeterState, Result]:
    fields = token.fields
    kind = RegisterKind(token.subclass)
    tid = fields["tid"]
    if kind not in profile.registers:
        return state, _refuse(
            ResultCode.FUNCTION, f"this meter has no {kind.key} register", token, tid
        )
    if state.key_data.key_type in profile.credit_refused_key_types:
        kt = state.key_data.key_type
        return state, _refuse(
            ResultCode.DDTK,
            f"the meter is on its {kt.name} key (key type {int(kt)}): no credit until a key change",
            token,
            tid,
        )
    refused = _check_tid(profile, state, token)
    if refused is not None:
        return state, refused
    if kind.is_currency:
        amount = decode_currency_amount(fields["amount_field"], fields["se"])
    else:
        amount = decode_amount(fields["amount_field"])
    before = state.registers[kind]
    after = before + amount
    if amount < 0 and after < 0:
        return state, _refuse(
            ResultCode.RANGE,
            f"a debit of {kind.format(-amount)} would take the {kind.key} register below zero",
            token,
            tid,
        )
    limit = profile.register_limit(kind)
    if after > limit:
        return state, _refuse(
            ResultCode.OVERFLOW,
            f"{kind.format(amount)} would overflow the "
            f"{kind.key} register (limit {kind.format(limit)}); the token "
            "can be entered later",
            token,
            tid,
        )
    emergency = state.emergency_active
    repaid = 0
    if kind is profile.consumption_register:
        repaid = max(0, min(amount, -before))
        emergency = emergency and after < 0
    state = evolve(
        state,
        registers=state.registers.with_value(kind, after),
        tid_memory=state.tid_memory.remember(tid),
        emergency_active=emergency,
    )
    sign = "+" if amount >= 0 else "-"
    message = f"{sign}{kind.format(abs(amount))} to {kind.key} (credit {kind.format(after)})"
    if repaid:
        message += f"; {kind.format(repaid)} of emergency credit repaid"
    effect = {"register": kind.key, "amount": amount, "credit": after, "repaid": repaid}
    return state, Result(ResultCode.ACCEPT, message, 0, token.subclass, tid, effect)


def _management(
    profile: MeterProfile, state: MeterState, token: DecodedToken
) -> tuple[MeterState, Result]:
    sub = token.subclass
    tid = token.fields["tid"]
    value = token.fields["amount_field"]
    cleared: list[RegisterKind] = []
    # Step 4: what this meter cannot do, before any TID is used up.
    if sub == 1:
        if value == CLEAR_ALL:
            cleared = sorted(profile.registers)
        elif value <= max(RegisterKind):
            kind = RegisterKind(value)
            if kind not in profile.registers:
                return state, _refuse(
                    ResultCode.FUNCTION,
                    f"this meter has no {kind.key} register to clear",
                    token,
                    tid,
                )
            cleared = [kind]
        else:
            return state, _refuse(
                ResultCode.RANGE, f"register selector 0x{value:04X} is not defined", token, tid
            )
    elif sub == 5 and value != 0:
        return state, _refuse(
            ResultCode.FORMAT, "the clear tamper token's pad bits are not zero", token, tid
        )
    refused = _check_tid(profile, state, token)
    if refused is not None:
        return state, refused
    state = evolve(state, tid_memory=state.tid_memory.remember(tid))
    effect: dict[str, Any] = {"setting": _MANAGEMENT_NAMES[sub]}
    if sub == 0:
        watts = decode_amount(value)
        state = evolve(state, max_power_limit=watts)
        effect["watts"] = watts
        message = f"maximum power limit set to {watts} W"
    elif sub == 1:
        state = evolve(state, registers=state.registers.cleared(cleared))
        if profile.consumption_register in cleared:
            # A cleared register owes nothing: the emergency allowance is reset with it.
            state = evolve(state, emergency_active=False, accumulator=0)
        effect["registers"] = [k.key for k in cleared]
        message = "cleared " + ", ".join(k.key for k in cleared)
    elif sub == 2:
        state = evolve(state, tariff_rate=value)
        effect["value"] = value
        message = f"tariff rate set to {value}"
    elif sub == 5:
        state = evolve(state, tamper=False)
        message = "tamper condition cleared"
    elif sub == 6:
        watts = decode_amount(value)
        state = evolve(state, phase_unbalance_limit=watts)
        effect["watts"] = watts
        message = f"phase power unbalance limit set to {watts} W"
    else:  # 7: the layouts table has no other TID-bearing class 2 subclass
        state = evolve(state, water_meter_factor=value)
        effect["value"] = value
        message = f"water meter factor set to {value}"
    return state, Result(ResultCode.ACCEPT, message, 2, sub, tid, effect)


def _key_change(
    profile: MeterProfile, state: MeterState, token: DecodedToken, now: datetime
) -> tuple[MeterState, Result]:
    section = SECTION_OF_SUBCLASS[token.subclass]
    fields = token.fields
    current = state.key_data
    if section == 1:
        new_kt = KeyType(fields["new_kt"])
        if (current.key_type, new_kt) in profile.refused_key_type_changes:
            return state, _refuse(
                ResultCode.KEY_TYPE,
                f"this meter does not change from key "
                f"type {int(current.key_type)} ({current.key_type.name}) to "
                f"{int(new_kt)} ({new_kt.name})",
                token,
            )
        if not 1 <= fields["new_krn"] <= 9:
            return state, _refuse(
                ResultCode.RANGE, f"KRN {fields['new_krn']} is outside 1-9", token
            )
    if section == 2 and fields["new_ti"] > 99:
        return state, _refuse(ResultCode.RANGE, f"TI {fields['new_ti']} is outside 0-99", token)
    if section == 3 and current.ea is EA.STA and fields["new_sgc"] > 999_999:
        return state, _refuse(
            ResultCode.RANGE, f"SGC {fields['new_sgc']} has more than 6 digits", token
        )
    staged = stage(state.staged_key_change, section, fields, now, profile.key_change_window_seconds)
    missing = staged.missing(current.ea)
    if missing:
        code = ResultCode.KCT1_ENTERED if section == 1 else ResultCode.KCT2_ENTERED
        deadline = staged.deadline(profile.key_change_window_seconds)
        state = evolve(state, staged_key_change=staged)
        wanted = ", ".join(_ORDINAL[m] for m in missing)
        return state, Result(
            code,
            f"key change {_ORDINAL[section]} section entered; enter the "
            f"{wanted} by {deadline.isoformat()}",
            2,
            token.subclass,
            effect={"section": section, "missing": list(missing), "deadline": deadline.isoformat()},
        )
    state = evolve(state, staged_key_change=None)
    try:
        new = assemble(current.ea, staged, current)
    except StsError as err:
        return state, _refuse(
            ResultCode.RANGE, f"the key change set cannot be applied: {err}", token
        )
    data = new.key_data
    state = evolve(state, key_data=data, decoder_key=new.decoder_key)
    if new.rollover:
        state = evolve(state, tid_memory=state.tid_memory.cleared())
    effect = {
        "key_change": {
            "sgc": data.sgc,
            "krn": data.krn,
            "key_type": int(data.key_type),
            "ti": data.ti,
            "ken": data.ken,
            "base_date": int(data.base_date),
            "rollover": new.rollover,
        }
    }
    message = (
        f"new key installed: SGC {data.sgc:06d}, KRN {data.krn}, KT {int(data.key_type)}, "
        f"TI {data.ti:02d}, KEN {data.ken}"
    )
    if new.rollover:
        message += f"; base date now {int(data.base_date)}, TID memory cleared"
    return state, Result(ResultCode.ACCEPT, message, 2, token.subclass, effect=effect)


_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}


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


def _test_token(profile: MeterProfile, state: MeterState, digits: str) -> Result:
    try:
        token = decode_token(digits, None)
    except CrcError:
        return Result(ResultCode.CRC, "the test token's CRC does not match", 1)
    except UnsupportedTokenError as err:
        return Result(ResultCode.FUNCTION, str(err), 1)
    if token.subclass not in profile.test_token_subclasses:
        return _refuse(
            ResultCode.FUNCTION,
            f"this meter does not take class 1 subclass {token.subclass} tokens",
            token,
        )
    mfr = token.fields["manufacturer_code"]
    if mfr not in (0, profile.manufacturer_code):
        return _refuse(
            ResultCode.MFR_CODE,
            f"manufacturer code {mfr} is not this meter's ({profile.manufacturer_code})",
            token,
        )
    control = token.fields["control"]
    if token.subclass == 2:
        # Extended read: the top 6 bits of the 36-bit field are the index (§2.3).
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


class Meter:
    """A meter: its profile and current state; every operation replaces the state.

    ``now`` is always a timezone-aware datetime supplied by the caller.
    """

    def __init__(self, profile: MeterProfile, state: MeterState) -> None:
        self._profile = profile
        self._state = state

    @classmethod
    def manufacture(
        cls,
        profile: MeterProfile,
        at: datetime,
        credit: dict[RegisterKind, int] | None = None,
    ) -> Meter:
        """A new meter built at ``at`` (its TID memory starts with ``at``'s TID)."""
        return cls(profile, new_state(profile, at, credit))

    @classmethod
    def restore(cls, profile: MeterProfile, snapshot: Any) -> Meter:
        """A meter from :meth:`snapshot` output."""
        return cls(profile, restore_state(profile, snapshot))

    @property
    def profile(self) -> MeterProfile:
        return self._profile

    @property
    def state(self) -> MeterState:
        return self._state

    @property
    def credit(self) -> int:
        """The consumption register's value (register units)."""
        return self._state.registers[self._profile.consumption_register]

    def enter(self, digits: str, now: datetime) -> Result:
        """Enter a token as typed on the keypad."""
        self._state, result = process_entry(self._profile, self._state, digits, now)
        return result

    def advance(self, now: datetime, load_watts: int | None = None) -> SupplyReport:
        """Let time run to ``now``; a given ``load_watts`` applies from the last instant on."""
        self._state, report = advance(self._profile, self._state, now, load_watts)
        return report

    def set_load(self, load_watts: int, now: datetime) -> SupplyReport:
        """Time runs to ``now`` with the present load, then the load changes."""
        report = self.advance(now)
        self._state, _ = advance(self._profile, self._state, now, load_watts)
        return report

    def activate_emergency_credit(self, now: datetime) -> None:
        """Switch meter-side emergency credit on; raises EmergencyCreditError if refused."""
        self._state = activate_emergency_credit(self._profile, self._state, now)

    def report_tamper(self, now: datetime) -> None:
        """Latch a tamper event (cleared by a clear tamper token)."""
        self._state = report_tamper(self._profile, self._state, now)

    def status(self, now: datetime | None = None) -> dict[str, Any]:
        """A JSON view (credit, relay, key data, pending key change, lockout …)."""
        return describe(self._profile, self._state, now)

    def snapshot(self) -> dict[str, Any]:
        """The state as plain JSON values (the profile is kept separately)."""
        return snapshot_state(self._state)

    def __repr__(self) -> str:
        return f"Meter(drn={self._profile.identity.drn!r}, credit={self.credit})"
