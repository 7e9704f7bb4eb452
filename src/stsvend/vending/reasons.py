"""Free-text reasons that rules demand (reversals, free issues): normalised and checked.

>>> normalise_reason("  customer   paid twice ", what="a reversal")
'customer paid twice'
"""

from __future__ import annotations

from stsvend.vending.errors import VendingError

__all__ = ["MAX_REASON", "MIN_REASON", "normalise_reason"]

MIN_REASON = 5
MAX_REASON = 500


def normalise_reason(
    text: object,
    *,
    what: str,
    error: type[VendingError] = VendingError,
    minimum: int = MIN_REASON,
) -> str:
    """Collapse white space; refuse a reason shorter than ``minimum`` or longer than 500."""
    value = " ".join(text.split()) if isinstance(text, str) else ""
    if len(value) < minimum:
        raise error(f"{what} needs a reason of at least {minimum} characters")
    if len(value) > MAX_REASON:
        raise error(f"the reason for {what} is longer than {MAX_REASON} characters")
    return value
