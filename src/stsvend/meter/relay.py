"""The load relay's rules, as a state table.

The relay (the meter's supply switch) is a function of three conditions, looked up in
:data:`RELAY_TABLE`; the meter re-evaluates it after every entry, load change and time step:

============  ===================  ==================  =======  ==================================
tamper trip   credit available     load within limit   relay    reason
============  ===================  ==================  =======  ==================================
yes           any                  any                 open     tamper (until a clear tamper token)
no            no                   any                 open     no credit
no            yes                  no                  open     load above the maximum power limit
no            yes                  yes                 closed   supply on
============  ===================  ==================  =======  ==================================

* *credit available*: the consumption register is above its floor — zero, or minus the emergency
  allowance while meter-side emergency credit is switched on (``emergency.py``);
* *load within limit*: no maximum power limit is set, or the load is at most the limit (watts);
* *tamper trip*: a tamper event is latched and the profile says tamper opens the relay.

The relay closes again as soon as the row changes (credit bought, emergency credit switched on,
load reduced, tamper cleared): the model has no reconnection delay.

>>> relay_decision(tamper_trip=False, credit_available=True, within_limit=True).state
<RelayState.CLOSED: 'closed'>
>>> relay_decision(tamper_trip=False, credit_available=True, within_limit=False).reason
'load above the maximum power limit'
"""

from __future__ import annotations

import enum

from attrs import frozen

__all__ = ["RELAY_TABLE", "RelayDecision", "RelayState", "relay_decision"]


class RelayState(enum.Enum):
    CLOSED = "closed"  #: supply on
    OPEN = "open"  #: supply off


@frozen
class RelayDecision:
    state: RelayState
    reason: str

    @property
    def closed(self) -> bool:
        return self.state is RelayState.CLOSED


_TAMPER = RelayDecision(RelayState.OPEN, "tamper")
_NO_CREDIT = RelayDecision(RelayState.OPEN, "no credit")
_OVER_LIMIT = RelayDecision(RelayState.OPEN, "load above the maximum power limit")
_ON = RelayDecision(RelayState.CLOSED, "supply on")

#: (tamper trip, credit available, load within limit) → relay decision; every row is listed.
RELAY_TABLE: dict[tuple[bool, bool, bool], RelayDecision] = {
    (True, False, False): _TAMPER,
    (True, False, True): _TAMPER,
    (True, True, False): _TAMPER,
    (True, True, True): _TAMPER,
    (False, False, False): _NO_CREDIT,
    (False, False, True): _NO_CREDIT,
    (False, True, False): _OVER_LIMIT,
    (False, True, True): _ON,
}


def relay_decision(
    *, tamper_trip: bool, credit_available: bool, within_limit: bool
) -> RelayDecision:
    """Look the relay up in :data:`RELAY_TABLE`."""
    return RELAY_TABLE[(tamper_trip, credit_available, within_limit)]
