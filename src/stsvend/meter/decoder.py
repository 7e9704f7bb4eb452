"""The STS decoder: what a meter does with a 20-digit entry (``docs/sts.md`` §10).

Rule 1: every decision about a token is taken under :func:`process_entry` (here and in the
modules of each token kind: :mod:`~stsvend.meter.testentry`, :mod:`~stsvend.meter.crediting`,
:mod:`~stsvend.meter.settings`, :mod:`~stsvend.meter.keyentry`), in the order of ``docs/sts.md``
§10:

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
from typing import Any

from attrs import evolve

from stsvend.errors import CrcError, TokenFormatError, UnsupportedTokenError
from stsvend.meter.crediting import credit_entry
from stsvend.meter.keyentry import key_change_entry
from stsvend.meter.profile import MeterProfile
from stsvend.meter.registers import RegisterKind
from stsvend.meter.results import Result, ResultCode
from stsvend.meter.settings import setting_entry
from stsvend.meter.state import (
    MeterState,
    describe,
    new_state,
    restore_state,
    settle,
    snapshot_state,
)
from stsvend.meter.supply import SupplyReport, activate_emergency_credit, advance, report_tamper
from stsvend.meter.testentry import SOFTWARE_VERSION, test_entry
from stsvend.meter.verdicts import locked as _locked
from stsvend.sts import decode_token
from stsvend.sts.codec import digits_to_block
from stsvend.sts.layouts import TokenClass, section_of

__all__ = ["SOFTWARE_VERSION", "Meter", "process_entry"]


def process_entry(
    profile: MeterProfile, state: MeterState, digits: str, now: datetime
) -> tuple[MeterState, Result]:
    """Enter ``digits`` at ``now``: the new state and the meter's answer.

    Time passes first (the load draws credit up to ``now``); the relay is re-evaluated after.
    """
    state, _ = advance(profile, state, now)
    state, result, token_class = _decide(profile, state, digits, now)
    if token_class != TokenClass.INITIATE_METER_TEST:
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
    if token_class == TokenClass.INITIATE_METER_TEST:
        return state, test_entry(profile, state, digits), token_class
    if locked:
        return state, _locked(state, now), token_class
    if token_class == TokenClass.RESERVED:
        return state, Result(ResultCode.FUNCTION, "class 3 tokens are reserved"), token_class
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
    if token_class == TokenClass.TRANSFER_CREDIT:
        state, result = credit_entry(profile, state, token)
    elif section_of(token.subclass):
        state, result = key_change_entry(profile, state, token, now)
    else:
        state, result = setting_entry(profile, state, token)
    return state, result, token_class


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
