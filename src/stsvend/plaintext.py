"""Numbers as people type them, read strictly: plain ASCII digits and nothing else.

Python's ``int()`` and ``Decimal()`` are generous: they take ``"+1"``, ``" 1"``, ``"1_000"``,
``"1e3"``, full-width ``"１"`` and Arabic-Indic ``"١"`` digits, ``"inf"`` and ``"NaN"``.  At a
counter each of those is a slip (``1e4`` would sell 10,000.00), so every value a user types goes
through these two readers, which accept exactly ``[0-9]+`` and ``[0-9]+(\\.[0-9]{1,d})?``.

>>> parse_whole("42", "krn", 1, 99)
42
>>> parse_fixed("12.5", 2, "amount"), parse_fixed("7", 1, "units")
(1250, 70)
>>> parse_whole("1e3", "count", 0, 10**6)
Traceback (most recent call last):
...
stsvend.errors.InputError: count must be a whole number in plain digits 0-9, got '1e3'
"""

from __future__ import annotations

import re
from typing import Any

from stsvend.errors import InputError, StsError

__all__ = ["MAX_WHOLE_DIGITS", "is_plain_digits", "parse_fixed", "parse_whole"]

#: Longest integer part accepted (a bound that keeps every scaled value inside 64 bits).
MAX_WHOLE_DIGITS = 12

# [0-9] is ASCII only (unlike \d), and fullmatch never lets a trailing newline through.
_DIGITS = re.compile(r"[0-9]+")
_FIXED = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def is_plain_digits(text: Any) -> bool:
    """True for a non-empty string of ASCII digits only.

    >>> is_plain_digits("0123"), is_plain_digits("+1"), is_plain_digits("１"), is_plain_digits(1)
    (True, False, False, False)
    """
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def _show(text: Any) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def parse_whole(
    text: Any, what: str, low: int, high: int, error: type[StsError] = InputError
) -> int:
    """A whole number written as plain digits, inside ``low..high``."""
    if not is_plain_digits(text) or len(text) > 18:
        raise error(f"{what} must be a whole number in plain digits 0-9, got {_show(text)}")
    number = int(text)
    if not low <= number <= high:
        raise error(f"{what} must be {low} to {high}, got {number}")
    return number


def parse_fixed(
    text: Any,
    places: int,
    what: str,
    error: type[StsError] = InputError,
    *,
    max_whole_digits: int = MAX_WHOLE_DIGITS,
) -> int:
    """A non-negative decimal with at most ``places`` decimals, as an integer of those units.

    ``"12.5"`` with 2 places is 1250.  No sign, exponent, separator, space or other script's
    digits; at most ``max_whole_digits`` digits before the point.
    """
    match = _FIXED.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        example = "12" if places == 0 else "12." + "5" * places
        raise error(f"{what} must be plain digits like {example}, got {_show(text)}")
    whole: str = match.group(1)
    fraction: str = match.group(2) or ""
    if len(fraction) > places:
        raise error(f"{what} has at most {places} decimal places, got {_show(text)}")
    if len(whole.lstrip("0")) > max_whole_digits:
        raise error(f"{what} is too large ({max_whole_digits} digits at most before the point)")
    scale: int = 10**places
    return int(whole) * scale + int(fraction.ljust(places, "0") or "0")
