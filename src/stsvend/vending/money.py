"""Money: an integer count of minor units and an ISO 4217 currency code.

Money is never a float.  ``Decimal`` appears only at the edges: :meth:`Money.parse` reads
"12.50" as typed by a clerk, and :meth:`Money.to_decimal` / :meth:`Money.format` show it.

>>> price = Money.parse("12.50", "ZAR")
>>> price, price.minor
(Money(minor=1250, currency='ZAR'), 1250)
>>> str(price + Money.parse("0.75", "ZAR"))
'ZAR 13.25'
>>> Money.parse("1.005", "ZAR")
Traceback (most recent call last):
...
stsvend.vending.errors.MoneyError: an amount has at most 2 decimal places, got '1.005'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import field, frozen

from stsvend.plaintext import parse_fixed
from stsvend.vending.errors import MoneyError

__all__ = ["CURRENCY_DIGITS", "Money", "currency_digits", "round_half_up_div"]

#: ISO 4217 minor-unit digits of the currencies stsvend knows (add one here to support it).
CURRENCY_DIGITS: dict[str, int] = {
    "BWP": 2, "CDF": 2, "ETB": 2, "EUR": 2, "GBP": 2, "GHS": 2, "INR": 2, "KES": 2, "LSL": 2,
    "MWK": 2, "MZN": 2, "NAD": 2, "NGN": 2, "PKR": 2, "RWF": 0, "SZL": 2, "TZS": 2, "UGX": 0,
    "USD": 2, "XAF": 0, "XOF": 0, "ZAR": 2, "ZMW": 2, "ZWG": 2, "JOD": 3, "KWD": 3, "BHD": 3,
}  # fmt: skip


def currency_digits(currency: str) -> int:
    """Decimal places of a currency's minor unit.

    >>> currency_digits("KES"), currency_digits("UGX")
    (2, 0)
    """
    try:
        return CURRENCY_DIGITS[currency]
    except (KeyError, TypeError):
        raise MoneyError(
            f"unknown currency {currency!r} (known: ISO 4217 codes such as ZAR, KES)"
        ) from None


def round_half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for non-negative integers, exactly.

    >>> round_half_up_div(5, 2), round_half_up_div(7, 3), round_half_up_div(0, 9)
    (3, 2, 0)
    """
    if numerator < 0 or denominator <= 0:
        raise ValueError(
            "round_half_up_div takes a non-negative numerator and positive denominator"
        )
    return (2 * numerator + denominator) // (2 * denominator)


def _minor(value: Any) -> int:
    if type(value) is not int:
        raise MoneyError(f"money is an integer count of minor units, got {value!r}")
    return value


def _currency(value: Any) -> str:
    currency_digits(value)
    return str(value)


@frozen(order=False)
class Money:
    """An exact amount of one currency, in minor units (cents)."""

    minor: int = field(converter=_minor)
    currency: str = field(converter=_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str | Decimal | int, currency: str) -> Money:
        """Read an amount in major units ("12.50", Decimal, or an int of whole units).

        Text is read strictly (:func:`stsvend.plaintext.parse_fixed`): plain ASCII digits with
        at most the currency's decimal places; no sign, exponent, separator or space.

        >>> Money.parse("100", "KES").minor, Money.parse("3.5", "ZAR").minor
        (10000, 350)
        >>> Money.parse("1e4", "ZAR")
        Traceback (most recent call last):
        ...
        stsvend.vending.errors.MoneyError: an amount must be plain digits like 12.55, got '1e4'
        """
        digits = currency_digits(currency)
        if isinstance(text, str):
            return cls(parse_fixed(text, digits, "an amount", MoneyError), currency)
        if isinstance(text, bool) or not isinstance(text, Decimal | int):
            raise MoneyError(f"an amount is text like '12.50', got {text!r}")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"{text!r} is not an amount of money") from None
        if not value.is_finite():
            raise MoneyError(f"{text!r} is not an amount of money")
        scaled = value.scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{currency} has {digits} decimal places: {text!r} has more")
        return cls(int(scaled), currency)

    @property
    def digits(self) -> int:
        return CURRENCY_DIGITS[self.currency]

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly.

        >>> Money(1250, "ZAR").to_decimal()
        Decimal('12.50')
        """
        return Decimal(self.minor).scaleb(-self.digits)

    def format(self) -> str:
        """The amount without the currency code, e.g. "12.50"."""
        return f"{self.to_decimal():.{self.digits}f}"

    def __str__(self) -> str:
        return f"{self.currency} {self.format()}"

    def _same(self, other: Any) -> int:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")
        return other.minor

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other), self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other)

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other)

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other)

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other)

    def __bool__(self) -> bool:
        return self.minor != 0
