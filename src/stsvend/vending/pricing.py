"""Walking a tariff's blocks: how many units money buys, and what units cost, per block.

Both functions start at the month's units already bought, so inclining blocks count across
every purchase of the month.  Costs are exact in 1/(PRICE_SCALE·10) of the minor unit; a
block's charge is then rounded **down** to the minor unit (the fraction of a cent below is not
charged), so the charged money never exceeds what the units cost.

>>> from stsvend.vending.tariff import Tariff
>>> t = Tariff.inclining("Two blocks", "ZAR", [(500, "1.00"), (None, "2.00")])
>>> affordable_tenths(t, 480, 1000)          # R10.00 with 48 kWh already bought this month
60
>>> [(c.block, c.units, c.amount) for c in price_tenths(t, 480, 60)]
[(1, 20, 200), (2, 40, 800)]
"""

from __future__ import annotations

from attrs import frozen

from stsvend.vending.tariff import PRICE_SCALE, TENTHS_PER_UNIT, Tariff, UnitPrice

__all__ = ["COST_SCALE", "BlockCharge", "affordable_tenths", "price_tenths"]

#: Exact costs are in 1/COST_SCALE of the minor unit (prices per whole unit, amounts in tenths).
COST_SCALE = PRICE_SCALE * TENTHS_PER_UNIT


@frozen
class BlockCharge:
    """Units bought in one block, at its price, and their charge (minor units, rounded down)."""

    block: int  #: 1-based block number
    units: int  #: STS tenths
    price: UnitPrice
    amount: int


def _walk(tariff: Tariff, month_units: int) -> list[tuple[int, int | None, UnitPrice]]:
    """The blocks still open at ``month_units``: (number, room or None, price)."""
    if type(month_units) is not int or month_units < 0:
        raise ValueError("the month's units are a non-negative integer")
    out: list[tuple[int, int | None, UnitPrice]] = []
    for number, (_, up_to, price) in enumerate(tariff.block_ranges(), start=1):
        if up_to is None:
            out.append((number, None, price))
        elif month_units < up_to:
            out.append((number, up_to - max(month_units, 0), price))
            month_units = up_to
    return out


def affordable_tenths(tariff: Tariff, month_units: int, money_minor: int) -> int:
    """The most STS tenths ``money_minor`` buys, blocks counted from ``month_units``."""
    budget = money_minor * COST_SCALE
    units = 0
    for _, room, price in _walk(tariff, month_units):
        can = budget // price.scaled
        take = can if room is None else min(can, room)
        units += take
        budget -= take * price.scaled
        if room is None or take < room:
            break
    return units


def price_tenths(tariff: Tariff, month_units: int, tenths: int) -> tuple[BlockCharge, ...]:
    """The per-block charges of ``tenths`` units bought after ``month_units`` this month."""
    left = tenths
    charges: list[BlockCharge] = []
    for number, room, price in _walk(tariff, month_units):
        if left <= 0:
            break
        take = left if room is None else min(left, room)
        charges.append(BlockCharge(number, take, price, price.cost_of_tenths(take) // COST_SCALE))
        left -= take
    return tuple(charges)
