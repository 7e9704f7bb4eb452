"""Which tokens a meter may get, from its status and its key data.

* A blocked meter gets no credit (sale, free issue, emergency credit); engineering, test and
  key change tokens still go to it, so that engineers can put it right.
* A meter on a default or initialisation key (KT 1 / KT 0) gets no credit until a key change
  to its unique key is open: commissioning comes first (the meter would answer "DDTK error").

>>> data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1)
>>> check_meter_can_receive(MeterStatus.ACTIVE, data, TokenPurpose.KEY_CHANGE)
>>> check_meter_can_receive(MeterStatus.ACTIVE, data, TokenPurpose.SALE)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
stsvend.vending.errors.KeyChangeError: the meter is on its default key (key type 1): ...
"""

from __future__ import annotations

import enum

from stsvend import sts
from stsvend.vending.errors import KeyChangeError, MeterBlocked
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["MeterStatus", "check_meter_can_receive"]

_CREDIT_KEY_TYPES = frozenset({sts.KeyType.DUTK, sts.KeyType.DCTK})
_KEY_NAMES = {sts.KeyType.DITK: "initialisation", sts.KeyType.DDTK: "default"}


class MeterStatus(enum.Enum):
    ACTIVE = "active"
    BLOCKED = "blocked"


def check_meter_can_receive(
    status: MeterStatus, credit_key_data: sts.KeyData, purpose: TokenPurpose
) -> None:
    """Refuse a token the meter must not get.

    ``credit_key_data`` is the key data the token will be made under: the target of an open key
    change, else the meter's own (:func:`~stsvend.vending.key_change.credit_key_data`).
    """
    if not purpose.is_credit:
        return
    if status is MeterStatus.BLOCKED:
        raise MeterBlocked("the meter is blocked: no credit is issued for it")
    if credit_key_data.key_type not in _CREDIT_KEY_TYPES:
        kt = credit_key_data.key_type
        raise KeyChangeError(
            f"the meter is on its {_KEY_NAMES[kt]} key (key type {int(kt)}): commission it "
            "(key change to its unique key) before any credit"
        )
