"""Class 2 setting tokens: limits, clear credit, clear tamper, raw settings (``docs/sts.md`` §2.2).

What each subclass sets is read from the layout table (:mod:`stsvend.sts.layouts`): the kind of
its value field, and the short name of the setting, which is also the state field it sets.

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> from stsvend.meter.state import new_state
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> key, state = profile.decoder_key, new_state(profile, t0)
>>> tid = sts.tid_at(t0 + timedelta(days=1), sts.BaseDate.Y1993)
>>> token = sts.decode_token(sts.max_power_limit_token(key, 5000, tid=tid, rnd=1), key)
>>> setting_entry(profile, state, token)[1].message
'maximum power limit set to 5000 W'
"""

from __future__ import annotations

from typing import Any

from attrs import evolve

from stsvend.meter.profile import MeterProfile
from stsvend.meter.registers import CLEAR_ALL, RegisterKind
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.state import MeterState
from stsvend.meter.verdicts import check_tid, refuse
from stsvend.sts import decode_amount
from stsvend.sts.codec import DecodedToken
from stsvend.sts.layouts import FieldKind, ManagementSubclass

__all__ = ["setting_entry"]


def _clear_selection(
    profile: MeterProfile, token: DecodedToken, value: int
) -> list[RegisterKind] | Result:
    """The registers a clear credit token clears, or the refusal."""
    tid = token.fields["tid"]
    if value == CLEAR_ALL:
        return sorted(profile.registers)
    if value > max(RegisterKind):
        return refuse(
            ResultCode.RANGE, f"register selector 0x{value:04X} is not defined", token, tid
        )
    kind = RegisterKind(value)
    if kind not in profile.registers:
        return refuse(
            ResultCode.FUNCTION, f"this meter has no {kind.key} register to clear", token, tid
        )
    return [kind]


def setting_entry(
    profile: MeterProfile, state: MeterState, token: DecodedToken
) -> tuple[MeterState, Result]:
    """A class 2 token that is not a key change section."""
    layout = token.layout
    kind = layout.value_kind
    tid = token.fields["tid"]
    value = token.fields["amount_field"]
    cleared: list[RegisterKind] = []
    # Step 4: what this meter cannot do, before any TID is used up.
    if kind is FieldKind.REGISTER:
        selection = _clear_selection(profile, token, value)
        if isinstance(selection, Result):
            return state, selection
        cleared = selection
    elif kind is FieldKind.PAD and value != 0:
        return state, refuse(
            ResultCode.FORMAT, "the clear tamper token's pad bits are not zero", token, tid
        )
    refused = check_tid(profile, state, token)
    if refused is not None:
        return state, refused
    state = evolve(state, tid_memory=state.tid_memory.remember(tid))
    effect: dict[str, Any] = {"setting": layout.setting}
    if kind is FieldKind.REGISTER:
        state = evolve(state, registers=state.registers.cleared(cleared))
        if profile.consumption_register in cleared:
            # A cleared register owes nothing: the emergency allowance is reset with it.
            state = evolve(state, emergency_active=False, accumulator=0)
        effect["registers"] = [k.key for k in cleared]
        message = "cleared " + ", ".join(k.key for k in cleared)
    elif kind is FieldKind.PAD:
        state = evolve(state, tamper=False)
        message = "tamper condition cleared"
    else:
        # A limit (watts) or a raw setting: the state field is named after the subclass.
        name = ManagementSubclass(token.subclass).key
        watts = kind is FieldKind.WATTS
        setting = decode_amount(value) if watts else value
        changes: dict[str, Any] = {name: setting}
        state = evolve(state, **changes)
        effect["watts" if watts else "value"] = setting
        message = f"{layout.setting} set to {setting}{' W' if watts else ''}"
    return state, Result(ResultCode.ACCEPT, message, 2, token.subclass, tid, effect)
