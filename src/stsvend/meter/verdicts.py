"""Answers shared by every token kind: lockout, refusals, and the TID rules (``docs/sts.md`` §10).

Key expiry comes before the TID memory: a token of an expired key is refused as such even when
its TID is also old (clause 6.3.5 and the decoder's order of checks).

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> from stsvend.meter.state import new_state
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> key, state = profile.decoder_key, new_state(profile, t0)
>>> tid = sts.tid_at(t0 + timedelta(days=1), sts.BaseDate.Y1993)
>>> token = sts.decode_token(sts.clear_tamper_token(key, tid=tid, rnd=1), key)
>>> check_tid(profile, state, token) is None
True
"""

from __future__ import annotations

from datetime import datetime

from stsvend.meter.profile import MeterProfile
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.state import MeterState
from stsvend.sts import key_expired
from stsvend.sts.codec import DecodedToken

__all__ = ["check_tid", "locked", "refuse"]


def locked(state: MeterState, now: datetime) -> Result:
    return Result(
        ResultCode.LOCKOUT,
        f"keypad locked after {state.lockout.failures} wrong entries; "
        f"try again in {state.lockout.seconds_left(now)} s (test tokens still work)",
        effect={"seconds_left": state.lockout.seconds_left(now)},
    )


def refuse(code: ResultCode, message: str, token: DecodedToken, tid: int | None = None) -> Result:
    return Result(code, message, token.token_class, token.subclass, tid)


def check_tid(profile: MeterProfile, state: MeterState, token: DecodedToken) -> Result | None:
    """Steps 6–7: key expiry, then the TID memory."""
    tid = token.fields["tid"]
    ken = state.key_data.ken
    if key_expired(tid, ken):
        return refuse(
            ResultCode.KEY_EXPIRED,
            f"the key has expired: TID {tid} (high byte {tid >> 16}) is past KEN {ken}",
            token,
            tid,
        )
    verdict = state.tid_memory.check(tid)
    if verdict == "used":
        return refuse(ResultCode.USED, f"TID {tid} has been used on this meter", token, tid)
    if verdict == "old":
        return refuse(
            ResultCode.OLD,
            f"TID {tid} is older than the oldest TID in memory ({state.tid_memory.oldest})",
            token,
            tid,
        )
    return None
