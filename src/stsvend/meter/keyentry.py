"""Key change sections as the meter takes them: check, stage, install (``docs/sts.md`` §9).

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> from stsvend.meter.state import new_state
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> key, state = profile.decoder_key, new_state(profile, t0)
>>> tid = sts.tid_at(t0 + timedelta(days=1), sts.BaseDate.Y1993)
>>> new = sts.DecoderKey.from_hex("1122334455667788")
>>> data = sts.KeyData(sgc=123456, ti=2, krn=2, key_type=2)
>>> first, second = (sts.decode_token(t, key) for t in sts.key_change_tokens(key, new, data))
>>> state, result = key_change_entry(profile, state, first, t0)
>>> result.code.name
'KCT1_ENTERED'
>>> key_change_entry(profile, state, second, t0)[1].message
'new key installed: SGC 123456, KRN 2, KT 2, TI 02, KEN 255'
"""

from __future__ import annotations

from datetime import datetime

from attrs import evolve

from stsvend.errors import StsError
from stsvend.meter.keychange import SECTION_OF_SUBCLASS, assemble, stage
from stsvend.meter.profile import MeterProfile
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.state import MeterState
from stsvend.meter.verdicts import refuse
from stsvend.sts import EA, KeyType
from stsvend.sts.codec import DecodedToken

__all__ = ["key_change_entry"]


def key_change_entry(
    profile: MeterProfile, state: MeterState, token: DecodedToken, now: datetime
) -> tuple[MeterState, Result]:
    section = SECTION_OF_SUBCLASS[token.subclass]
    fields = token.fields
    current = state.key_data
    if section == 1:
        new_kt = KeyType(fields["new_kt"])
        if (current.key_type, new_kt) in profile.refused_key_type_changes:
            return state, refuse(
                ResultCode.KEY_TYPE,
                f"this meter does not change from key "
                f"type {int(current.key_type)} ({current.key_type.name}) to "
                f"{int(new_kt)} ({new_kt.name})",
                token,
            )
        if not 1 <= fields["new_krn"] <= 9:
            return state, refuse(ResultCode.RANGE, f"KRN {fields['new_krn']} is outside 1-9", token)
    if section == 2 and fields["new_ti"] > 99:
        return state, refuse(ResultCode.RANGE, f"TI {fields['new_ti']} is outside 0-99", token)
    if section == 3 and current.ea is EA.STA and fields["new_sgc"] > 999_999:
        return state, refuse(
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
        new = assemble(current.ea, staged, current, state.decoder_key.tables)
    except StsError as err:
        return state, refuse(
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
