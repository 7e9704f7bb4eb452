"""Vend limits per meter: a minimum, a maximum and a daily maximum.

The day is the utility's local day (:meth:`LocalCalendar.day_bounds` gives its UTC window from an
injected instant); the store sums the meter's sales in that window, reversed sales excluded, and
passes the sum in as ``vended_today``.

>>> from stsvend.vending.money import Money
>>> limits = VendLimits.parse("ZAR", minimum="10", maximum="2000", daily_maximum="3000")
>>> check_vend_amount(Money.parse("50", "ZAR"), limits, vended_today=Money.parse("0", "ZAR"))
Money(minor=295000, currency='ZAR')
>>> check_vend_amount(Money.parse("5", "ZAR"), limits, vended_today=Money.parse("0", "ZAR"))
Traceback (most recent call last):
...
stsvend.vending.errors.AmountTooSmall: ZAR 5.00 is below this meter's minimum vend of ZAR 10.00
"""

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from stsvend.vending.errors import AmountTooLarge, AmountTooSmall, DailyLimitExceeded, MoneyError
from stsvend.vending.money import Money

__all__ = ["VendLimits", "check_vend_amount"]


@frozen
class VendLimits:
    """A meter's vend limits (``daily_maximum`` None: no daily limit)."""

    minimum: Money
    maximum: Money
    daily_maximum: Money | None = None

    def __attrs_post_init__(self) -> None:
        currencies = {self.minimum.currency, self.maximum.currency}
        if self.daily_maximum is not None:
            currencies.add(self.daily_maximum.currency)
        if len(currencies) != 1:
            raise MoneyError("vend limits are all in one currency")
        if self.minimum.minor <= 0 or self.maximum < self.minimum:
            raise MoneyError("vend limits need 0 < minimum <= maximum")
        if self.daily_maximum is not None and self.daily_maximum < self.maximum:
            raise MoneyError("the daily maximum is at least the single-vend maximum")

    @classmethod
    def parse(
        cls,
        currency: str,
        *,
        minimum: str | Decimal,
        maximum: str | Decimal,
        daily_maximum: str | Decimal | None = None,
    ) -> VendLimits:
        daily = None if daily_maximum is None else Money.parse(daily_maximum, currency)
        return cls(Money.parse(minimum, currency), Money.parse(maximum, currency), daily)


def check_vend_amount(amount: Money, limits: VendLimits, *, vended_today: Money) -> Money | None:
    """Refuse an amount outside the limits (AmountTooSmall, AmountTooLarge, DailyLimitExceeded).

    Returns what the meter may still be sold today after this vend (None: no daily limit).
    """
    if amount < limits.minimum:
        raise AmountTooSmall(f"{amount} is below this meter's minimum vend of {limits.minimum}")
    if amount > limits.maximum:
        raise AmountTooLarge(f"{amount} is above this meter's maximum vend of {limits.maximum}")
    if limits.daily_maximum is not None and vended_today + amount > limits.daily_maximum:
        room = limits.daily_maximum - vended_today
        raise DailyLimitExceeded(
            f"{amount} would take today's sales for this meter past its daily maximum of "
            f"{limits.daily_maximum} ({max(room, Money.zero(room.currency))} left today)"
        )
    if limits.daily_maximum is None:
        return None
    return limits.daily_maximum - vended_today - amount
