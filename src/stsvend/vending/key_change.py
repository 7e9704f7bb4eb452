"""Key change policy: when a meter needs key change tokens, and how a key change proceeds.

A meter needs a key change when its key data differs from the target in SGC, KRN, TI, key type,
KEN or base date (``docs/sts.md`` §9).  Commissioning is the case of a new meter on its
default key (KT 1) moved to its unique key (KT 2); changing a meter's tariff index or supply
group is a key change; the base-date rollover (1993 → 2014) is a key change with the RO bit.

Policy (stsvend's, where the standard is silent — ``docs/security.md``):

* the encryption algorithm never changes by key change (EA07 meters stay EA07);
* the base date only moves forward, one step at a time (1993 → 2014 → 2035), with RO set;
* the target key type is unique (KT 2) or common (KT 3): nothing moves a meter back onto a
  default or initialisation key;
* the optional third EA07 token carrying the SGC is sent only when asked for (``sgc_token``)
  and the SGC changes (older meters do not know it); EA11 sets always carry the SGC.

States of a key change, as a table (:data:`KEY_CHANGE_TRANSITIONS`)::

    PENDING  --issue-->   ISSUED      tokens printed (on a sale receipt or on their own)
    ISSUED   --issue-->   ISSUED      printed again with each sale until confirmed
    ISSUED   --confirm--> CONFIRMED   the meter is known to run on the new key
    PENDING  --cancel-->  CANCELLED   (a supervisor withdraws a change never issued)
    ISSUED   --cancel-->  CANCELLED   (… or one issued that the meter never took)

While a change is PENDING or ISSUED, every sale prints its key change tokens before the credit
token, and the credit token is made under the **new** key data (TIDs under the new base date).

>>> old = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1)
>>> new = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
>>> plan = plan_key_change(old, new)
>>> sorted(r.value for r in plan.reasons), plan.rollover, plan.commissioning
(['key_type'], False, True)
>>> next_state(KeyChangeState.PENDING, KeyChangeEvent.ISSUE)
<KeyChangeState.ISSUED: 'issued'>
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

from attrs import evolve, frozen

from stsvend import sts
from stsvend.errors import TidError
from stsvend.vending.errors import KeyChangeError

__all__ = [
    "KEY_CHANGE_TRANSITIONS",
    "OPEN_KEY_CHANGE_STATES",
    "KeyChangeEvent",
    "KeyChangeJobState",
    "KeyChangePlan",
    "KeyChangeReason",
    "KeyChangeState",
    "credit_key_data",
    "key_change_reasons",
    "next_state",
    "plan_key_change",
    "plan_rollover",
    "tokens_go_with_sale",
]

_TARGET_KEY_TYPES = frozenset({sts.KeyType.DUTK, sts.KeyType.DCTK})


class KeyChangeReason(enum.Enum):
    """Why a meter needs key change tokens: the key data fields that differ."""

    SGC = "sgc"
    KRN = "krn"
    TI = "ti"
    KEY_TYPE = "key_type"
    KEN = "ken"
    BASE_DATE = "base_date"


_FIELDS: tuple[tuple[KeyChangeReason, str], ...] = (
    (KeyChangeReason.SGC, "sgc"),
    (KeyChangeReason.KRN, "krn"),
    (KeyChangeReason.TI, "ti"),
    (KeyChangeReason.KEY_TYPE, "key_type"),
    (KeyChangeReason.KEN, "ken"),
    (KeyChangeReason.BASE_DATE, "base_date"),
)


def key_change_reasons(current: sts.KeyData, target: sts.KeyData) -> frozenset[KeyChangeReason]:
    """The fields in which ``target`` differs from ``current`` (empty: no key change needed).

    >>> a = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
    >>> sorted(r.value for r in key_change_reasons(a, sts.KeyData(sgc=123456, ti=7, krn=2,
    ...                                                             key_type=2)))
    ['krn', 'ti']
    """
    return frozenset(
        reason for reason, name in _FIELDS if getattr(current, name) != getattr(target, name)
    )


@frozen
class KeyChangePlan:
    """A checked key change: what the security module is asked for, and why."""

    current: sts.KeyData
    target: sts.KeyData
    reasons: frozenset[KeyChangeReason]
    #: Set the RO bit: the base date moves forward (the meter clears its TID memory).
    rollover: bool
    #: EA07 only: send the optional third token carrying the new SGC.
    with_sgc: bool

    @property
    def commissioning(self) -> bool:
        """A meter leaves its default (or factory) key for its first working key."""
        return self.current.key_type in (sts.KeyType.DDTK, sts.KeyType.DITK)

    @property
    def token_count(self) -> int:
        """How many tokens the set has: 2 (EA07), 3 (EA07 with SGC) or 4 (EA11)."""
        if self.target.ea is sts.EA.MISTY1:
            return 4
        return 3 if self.with_sgc else 2


def plan_key_change(
    current: sts.KeyData,
    target: sts.KeyData,
    *,
    sgc_token: bool = False,
    now: datetime | None = None,
) -> KeyChangePlan:
    """Check a key change against the policy and plan it.

    ``now`` (aware), when given, also refuses a target whose KEN has already passed.
    """
    reasons = key_change_reasons(current, target)
    if current.ea is not target.ea:
        raise KeyChangeError(
            f"a key change cannot move a meter from EA{current.ea.value} to EA{target.ea.value}"
        )
    if not reasons:
        raise KeyChangeError("the meter already has this key data: no key change is needed")
    if target.key_type not in _TARGET_KEY_TYPES:
        raise KeyChangeError(
            f"a key change moves a meter onto a unique (2) or common (3) key, "
            f"not key type {int(target.key_type)}"
        )
    if target.base_date < current.base_date:
        raise KeyChangeError("the base date never moves back")
    if target.base_date > current.base_date and target.base_date is not current.base_date.next:
        raise KeyChangeError(
            f"a rollover moves one base date at a time: {int(current.base_date)} → "
            f"{int(current.base_date.next)}"
        )
    if now is not None:
        tid = sts.tid_at(max(now, target.base_date.start), target.base_date)
        if sts.key_expired(tid, target.ken):
            raise KeyChangeError(
                f"the new KEN {target.ken} has already passed (TID high byte {tid >> 16})"
            )
    with_sgc = bool(sgc_token) and target.ea is sts.EA.STA and KeyChangeReason.SGC in reasons
    return KeyChangePlan(
        current=current,
        target=target,
        reasons=reasons,
        rollover=target.base_date is not current.base_date,
        with_sgc=with_sgc,
    )


def plan_rollover(
    current: sts.KeyData,
    *,
    krn: int | None = None,
    sgc: int | None = None,
    ken: int | None = None,
    sgc_token: bool = False,
    now: datetime | None = None,
) -> KeyChangePlan:
    """The base-date rollover of one meter: the same key data on the next base date.

    A new KRN (a vending key issued for the new base date), SGC or KEN may come with it.

    >>> old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
    >>> plan = plan_rollover(old, krn=4)
    >>> int(plan.target.base_date), plan.target.krn, plan.rollover
    (2014, 4, True)
    """
    try:
        base = current.base_date.next
    except TidError:
        raise KeyChangeError(f"base date {int(current.base_date)} is the last one") from None
    target = evolve(
        current,
        base_date=base,
        krn=current.krn if krn is None else krn,
        sgc=current.sgc if sgc is None else sgc,
        ken=current.ken if ken is None else ken,
    )
    return plan_key_change(current, target, sgc_token=sgc_token, now=now)


class KeyChangeState(enum.StrEnum):
    """Where a meter's key change stands (stored as its value)."""

    PENDING = "pending"
    ISSUED = "issued"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    #: A supply-group job passed the meter over (no tokens); the row says why.
    SKIPPED = "skipped"


#: The states in which a meter has an open key change (at most one per meter).
OPEN_KEY_CHANGE_STATES: tuple[KeyChangeState, ...] = (KeyChangeState.PENDING, KeyChangeState.ISSUED)


class KeyChangeJobState(enum.StrEnum):
    """Where a supply-group key change job stands (stored as its value)."""

    RUNNING = "running"  #: meters are left to do (run or resume it)
    DONE = "done"  #: every meter of the group was done or skipped


class KeyChangeEvent(enum.Enum):
    """What happens to a key change."""

    ISSUE = "issue"  #: its tokens were printed (alone, or before a sale's credit token)
    CONFIRM = "confirm"  #: the meter is known to run on the new key
    CANCEL = "cancel"  #: withdrawn


#: (state, event) → next state.  Anything not listed is refused.
KEY_CHANGE_TRANSITIONS: Mapping[tuple[KeyChangeState, KeyChangeEvent], KeyChangeState] = {
    (KeyChangeState.PENDING, KeyChangeEvent.ISSUE): KeyChangeState.ISSUED,
    (KeyChangeState.ISSUED, KeyChangeEvent.ISSUE): KeyChangeState.ISSUED,
    (KeyChangeState.ISSUED, KeyChangeEvent.CONFIRM): KeyChangeState.CONFIRMED,
    (KeyChangeState.PENDING, KeyChangeEvent.CANCEL): KeyChangeState.CANCELLED,
    (KeyChangeState.ISSUED, KeyChangeEvent.CANCEL): KeyChangeState.CANCELLED,
}


_PAST = {
    KeyChangeEvent.ISSUE: "issued",
    KeyChangeEvent.CONFIRM: "confirmed",
    KeyChangeEvent.CANCEL: "cancelled",
}


def next_state(state: KeyChangeState, event: KeyChangeEvent) -> KeyChangeState:
    """The state after ``event``; raises :class:`KeyChangeError` for a move the table lacks."""
    try:
        return KEY_CHANGE_TRANSITIONS[(state, event)]
    except KeyError:
        raise KeyChangeError(
            f"a key change that is {state.value} cannot be {_PAST[event]}"
        ) from None


def tokens_go_with_sale(state: KeyChangeState | None) -> bool:
    """True while a sale must print the key change tokens before its credit token."""
    return state in OPEN_KEY_CHANGE_STATES


def credit_key_data(
    meter_key_data: sts.KeyData,
    pending_target: sts.KeyData | None,
    state: KeyChangeState | None,
) -> sts.KeyData:
    """The key data a credit token is made under: the target while a change is open.

    >>> a = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
    >>> b = sts.KeyData(sgc=123456, ti=2, krn=1, key_type=2)
    >>> credit_key_data(a, b, KeyChangeState.ISSUED).ti, credit_key_data(a, None, None).ti
    (2, 1)
    """
    if tokens_go_with_sale(state):
        if pending_target is None:
            raise KeyChangeError("an open key change has no target key data")
        return pending_target
    return meter_key_data
