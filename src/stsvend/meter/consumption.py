"""Consumption: a load in watts over simulated time draws down the consumption register.

Integers only.  Energy is counted in watt-microseconds (W·µs) so that any timestamp difference is
exact.  Energy not yet worth a whole register step waits in an accumulator:

* a unit register (0.1 kWh) steps every 360 000 W·s, i.e. :data:`UNIT_STEP` W·µs;
* a currency register steps by 0.00001 of the currency: the accumulator counts W·µs × price
  (price in 0.00001 currency per kWh) and steps every :data:`KWH` W·µs.

The draw stops when the register reaches its floor (0, or minus an emergency allowance in use);
:func:`draw` says when, so that the relay can open at that instant.

>>> d = draw(credit=10, floor=0, accumulator=0, load_watts=1000, elapsed_us=60 * 10**6,
...          weight=1, step=UNIT_STEP)
>>> d.credit, d.accumulator, d.exhausted
(10, 60000000000, False)
>>> d = draw(credit=1, floor=0, accumulator=0, load_watts=3600, elapsed_us=3600 * 10**6,
...          weight=1, step=UNIT_STEP)
>>> d.credit, d.ran_us // 10**6, d.exhausted
(0, 100, True)
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["KWH", "UNIT_STEP", "Draw", "draw"]

#: W·µs in one kWh.
KWH = 3_600_000 * 10**6
#: W·µs in one step of a unit register (0.1 kWh).
UNIT_STEP = KWH // 10


@frozen
class Draw:
    """The outcome of running a load for a while."""

    credit: int  #: register value afterwards
    accumulator: int  #: not-yet-debited consumption, 0 <= accumulator < step
    energy_wus: int  #: energy delivered to the load, W·µs
    ran_us: int  #: how long the supply ran, µs (less than asked when exhausted)
    exhausted: bool  #: the register reached its floor: the relay must open


def draw(
    *,
    credit: int,
    floor: int,
    accumulator: int,
    load_watts: int,
    elapsed_us: int,
    weight: int,
    step: int,
) -> Draw:
    """Run ``load_watts`` for ``elapsed_us`` µs against a register with the relay closed.

    ``weight`` multiplies energy into accumulator units (1 for a unit register, the price for a
    currency register); ``step`` is the accumulator count worth one register step.
    """
    if credit <= floor:
        return Draw(credit, accumulator, 0, 0, True)
    rate = load_watts * weight  # accumulator units per µs
    demand = rate * elapsed_us
    available = (credit - floor) * step - accumulator
    if demand < available:
        total = accumulator + demand
        return Draw(
            credit - total // step, total % step, load_watts * elapsed_us, elapsed_us, False
        )
    ran_us = -(-available // rate)  # the first µs at which the credit is gone
    return Draw(floor, 0, load_watts * ran_us, ran_us, True)
