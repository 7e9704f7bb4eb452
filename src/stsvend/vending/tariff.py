"""Tariffs: a price per unit in inclining blocks per calendar month, VAT included.

``docs/tariffs.md`` writes the rules down with worked examples.  In short:

* Prices are per whole unit of the resource (kWh, m³, minute) and **include tax** (VAT), as
  prepaid prices are quoted to South African and Kenyan customers; the receipt shows the tax
  contained in the amount.  A price is exact: an integer count of 1/10 000 of the minor unit
  (:data:`PRICE_SCALE`), read from a decimal string at the edge ("2.5432" rand per kWh).
* A flat tariff is one unbounded block.  Inclining blocks are bounded by the month's cumulative
  units (in STS tenths: 0.1 kWh), counted over every purchase in the local calendar month.
* A fixed charge is taken once a month, from the month's first purchase.
* Free basic units (e.g. 50 kWh of free basic electricity) are added once a month, to the
  month's first token; they do not count toward the blocks.

>>> t = Tariff.inclining("Domestic", "ZAR", [(500, "1.50"), (None, "2.00")], tax_percent="15")
>>> [(b.up_to, b.price.format("ZAR")) for b in t.blocks]
[(500, '1.500000'), (None, '2.000000')]
>>> t.tax_bp, t.is_flat
(1500, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import field, frozen

from stsvend import sts
from stsvend.plaintext import parse_fixed
from stsvend.vending.errors import MoneyError, TariffError
from stsvend.vending.money import Money, currency_digits

__all__ = ["PRICE_SCALE", "TENTHS_PER_UNIT", "Block", "Tariff", "UnitPrice"]

#: Prices are integer counts of 1/PRICE_SCALE of the currency's minor unit per whole unit.
PRICE_SCALE = 10_000
#: STS amounts count tenths of a unit (0.1 kWh, 0.1 m³, 0.1 min).
TENTHS_PER_UNIT = 10


def _positive_int(value: Any) -> int:
    if type(value) is not int or value <= 0:
        raise TariffError(f"a price is a positive integer count of 1/{PRICE_SCALE} minor units")
    return value


@frozen
class UnitPrice:
    """The price of one whole unit (1 kWh, 1 m³, 1 min), VAT included.

    ``scaled`` is in 1/10 000 of the minor unit: 2.5432 rand/kWh is 2 543 200.

    >>> UnitPrice.parse("2.5432", "ZAR").scaled
    2543200
    >>> UnitPrice.parse("2.5432", "ZAR").cost_of_tenths(10)   # 1 kWh, in 1/100 000 cents
    25432000
    """

    scaled: int = field(converter=_positive_int)

    @classmethod
    def parse(cls, text: str | Decimal, currency: str) -> UnitPrice:
        digits = currency_digits(currency)
        if isinstance(text, str):
            scaled_text = parse_fixed(text, digits + 4, "a price", TariffError)
            if scaled_text <= 0:
                raise TariffError(f"a price must be above zero, got {text!r}")
            return cls(scaled_text * PRICE_SCALE // 10**4)
        try:
            value = Decimal(text)
        except (InvalidOperation, TypeError, AttributeError):
            raise TariffError(f"{text!r} is not a price") from None
        if not value.is_finite():
            raise TariffError(f"{text!r} is not a price")
        scaled = value.scaleb(digits) * PRICE_SCALE
        if scaled != scaled.to_integral_value():
            raise TariffError(
                f"a {currency} price has at most {digits + 4} decimal places, got {text!r}"
            )
        if scaled <= 0:
            raise TariffError(f"a price must be above zero, got {text!r}")
        return cls(int(scaled))

    def cost_of_tenths(self, tenths: int) -> int:
        """Exact cost of ``tenths`` STS units, in 1/(PRICE_SCALE·10) of the minor unit."""
        return tenths * self.scaled

    def format(self, currency: str) -> str:
        """The price in major units, e.g. "2.5432"."""
        digits = currency_digits(currency)
        return f"{Decimal(self.scaled).scaleb(-(digits + 4)):.{digits + 4}f}"


@frozen
class Block:
    """One block of a tariff: its price, up to a cumulative monthly total of units.

    ``up_to`` is in STS tenths (500 = 50 kWh) and excludes that unit: the block covers the
    month's units ``[previous up_to, up_to)``.  The last block has ``up_to = None``.
    """

    up_to: int | None
    price: UnitPrice


def _blocks(value: Any) -> tuple[Block, ...]:
    blocks = tuple(value)
    if not blocks:
        raise TariffError("a tariff has at least one block")
    previous = 0
    for i, block in enumerate(blocks):
        if not isinstance(block, Block):
            raise TariffError("tariff blocks are Block objects")
        last = i == len(blocks) - 1
        if last != (block.up_to is None):
            raise TariffError("only the last block is open-ended (up_to = None)")
        if block.up_to is not None:
            if type(block.up_to) is not int or block.up_to <= previous:
                raise TariffError("block bounds must rise: each up_to above the one before")
            previous = block.up_to
    return blocks


def _bounded(name: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise TariffError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return value


def _tax_bp(value: Any) -> int:
    return _bounded("tax_bp", value, 0, 10_000)


def _fixed_charge(value: Any) -> int:
    return _bounded("fixed_charge", value, 0, 10**12)


def _free_units(value: Any) -> int:
    return _bounded("free_units", value, 0, sts.AMOUNT_MAX)


def _resource(value: Any) -> sts.Resource:
    try:
        return sts.Resource(value)
    except ValueError:
        raise TariffError(f"unknown resource {value!r}") from None


@frozen
class Tariff:
    """A tariff: blocks (one for a flat price), tax, a monthly fixed charge, free units."""

    name: str
    currency: str
    blocks: tuple[Block, ...] = field(converter=_blocks)
    #: Tax (VAT) rate in basis points (1500 = 15 %); prices and charges include it.
    tax_bp: int = field(default=0, converter=_tax_bp)
    #: Charged once a month, on the month's first purchase (minor units, VAT included).
    fixed_charge: int = field(default=0, converter=_fixed_charge)
    #: Free basic units a month, in STS tenths, added to the month's first token.
    free_units: int = field(default=0, converter=_free_units)
    resource: sts.Resource = field(default=sts.Resource.ELECTRICITY, converter=_resource)

    def __attrs_post_init__(self) -> None:
        currency_digits(self.currency)
        if sts.encodable_at_most(self.free_units) != self.free_units:
            raise TariffError(f"free units {self.free_units} cannot be carried exactly by a token")

    @classmethod
    def flat(
        cls,
        name: str,
        currency: str,
        price: str | Decimal,
        *,
        tax_percent: str | Decimal = "0",
        fixed_charge: str | Decimal = "0",
        free_units: int = 0,
        resource: sts.Resource = sts.Resource.ELECTRICITY,
    ) -> Tariff:
        """One price for every unit (prices in major units per whole unit, as text).

        >>> Tariff.flat("Flat", "KES", "25.00", tax_percent="16").blocks[0].price.scaled
        25000000
        """
        return cls.inclining(name, currency, [(None, price)], tax_percent=tax_percent,
                             fixed_charge=fixed_charge, free_units=free_units,
                             resource=resource)  # fmt: skip

    @classmethod
    def inclining(
        cls,
        name: str,
        currency: str,
        blocks: Sequence[tuple[int | None, str | Decimal]],
        *,
        tax_percent: str | Decimal = "0",
        fixed_charge: str | Decimal = "0",
        free_units: int = 0,
        resource: sts.Resource = sts.Resource.ELECTRICITY,
    ) -> Tariff:
        """Blocks as ``(up_to_tenths | None, price)`` pairs, prices and charges as text."""
        if isinstance(tax_percent, str):
            tax = Decimal(parse_fixed(tax_percent, 2, "the tax percent", TariffError))
        else:
            try:
                tax = Decimal(tax_percent) * 100
            except (InvalidOperation, TypeError):
                raise TariffError(f"tax percent {tax_percent!r} is not a number") from None
        if not tax.is_finite() or tax != tax.to_integral_value():
            raise TariffError("the tax rate has at most two decimal places of a percent")
        if not 0 <= tax <= 10_000:
            raise TariffError("the tax rate is 0 to 100 percent")
        try:
            fixed = Money.parse(fixed_charge, currency).minor
        except MoneyError as exc:
            raise TariffError(f"fixed charge: {exc.message}") from None
        return cls(
            name=name,
            currency=currency,
            blocks=tuple(Block(up, UnitPrice.parse(price, currency)) for up, price in blocks),
            tax_bp=int(tax),
            fixed_charge=fixed,
            free_units=free_units,
            resource=resource,
        )

    @property
    def is_flat(self) -> bool:
        return len(self.blocks) == 1

    def block_ranges(self) -> tuple[tuple[int, int | None, UnitPrice], ...]:
        """Each block as ``(from_tenths, up_to_tenths | None, price)``."""
        out = []
        start = 0
        for block in self.blocks:
            out.append((start, block.up_to, block.price))
            start = block.up_to if block.up_to is not None else start
        return tuple(out)
