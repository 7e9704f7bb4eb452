"""Class 0: a credit token adds to, or (signed currency) takes from, one register.

``docs/sts.md`` §10, step 8.

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter.profile import MeterProfile
>>> from stsvend.meter.state import new_state
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> profile = MeterProfile.derive(sts.MeterIdentity.parse(None, "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2), bytes.fromhex("abababababababab"))
>>> key, state = profile.decoder_key, new_state(profile, t0)
>>> tid = sts.tid_at(t0 + timedelta(days=1), sts.BaseDate.Y1993)
>>> token = sts.decode_token(
...     sts.credit_token(key, sts.Resource.ELECTRICITY, 250, tid=tid, rnd=5), key)
>>> credit_entry(profile, state, token)[1].message
'+25.0 kWh to electricity (credit 25.0 kWh)'
"""

from __future__ import annotations

from attrs import evolve

from stsvend.meter.profile import MeterProfile
from stsvend.meter.registers import RegisterKind
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.state import MeterState
from stsvend.meter.verdicts import check_tid, refuse
from stsvend.sts import decode_amount, decode_currency_amount
from stsvend.sts.codec import DecodedToken

__all__ = ["credit_entry"]


def credit_entry(
    profile: MeterProfile, state: MeterState, token: DecodedToken
) -> tuple[MeterState, Result]:
    fields = token.fields
    kind = RegisterKind(token.subclass)
    tid = fields["tid"]
    if kind not in profile.registers:
        return state, refuse(
            ResultCode.FUNCTION, f"this meter has no {kind.key} register", token, tid
        )
    if state.key_data.key_type in profile.credit_refused_key_types:
        kt = state.key_data.key_type
        return state, refuse(
            ResultCode.DDTK,
            f"the meter is on its {kt.name} key (key type {int(kt)}): no credit until a key change",
            token,
            tid,
        )
    refused = check_tid(profile, state, token)
    if refused is not None:
        return state, refused
    if kind.is_currency:
        amount = decode_currency_amount(fields["amount_field"], fields["se"])
    else:
        amount = decode_amount(fields["amount_field"])
    before = state.registers[kind]
    after = before + amount
    if amount < 0 and after < 0:
        return state, refuse(
            ResultCode.RANGE,
            f"a debit of {kind.format(-amount)} would take the {kind.key} register below zero",
            token,
            tid,
        )
    limit = profile.register_limit(kind)
    if after > limit:
        return state, refuse(
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
