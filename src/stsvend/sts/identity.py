"""Meter identity: IIN, DRN (IAIN), meter PAN and their Luhn check digits.

IEC 62055-41 clause 6.1.2 (``docs/sts.md`` §8).  The meter PAN is 18 digits:
IIN || DRN || PAN check digit.  A DRN is 11 digits (2-digit manufacturer code, 8-digit serial,
check digit) with IIN 600727, or 13 digits (4-digit manufacturer code) with IIN "0000".

>>> meter = MeterIdentity.parse("600727", "01234567897")
>>> meter.pan
'600727012345678977'
>>> MeterIdentity.parse("600727", "01234567890")
Traceback (most recent call last):
...
stsvend.errors.CheckDigitError: drn check digit is wrong: 01234567890 should end in 7
"""

from __future__ import annotations

from attrs import frozen

from stsvend.errors import CheckDigitError, IdentityError

__all__ = ["IIN_FOUR_DIGIT_MFR", "IIN_STS", "MeterIdentity", "luhn_check_digit", "luhn_valid"]

#: The issuer identification number of STS electricity meters (clause 6.1.2.2).
IIN_STS = "600727"
#: The IIN written when the DRN has a 4-digit manufacturer code (13 digits).
IIN_FOUR_DIGIT_MFR = "0000"


def luhn_check_digit(digits: str) -> int:
    """Luhn mod-10 check digit of ``digits`` (the payload without its check digit).

    >>> luhn_check_digit("60072700000000000")
    9
    """
    if not digits.isascii() or not digits.isdigit():
        raise IdentityError(f"expected decimal digits, got {digits!r}")
    total = 0
    # Double every second digit from the right, starting with the rightmost payload digit.
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """True if the last digit of ``number`` is its Luhn check digit."""
    return len(number) >= 2 and luhn_check_digit(number[:-1]) == ord(number[-1]) - 48


@frozen
class MeterIdentity:
    """An STS meter's number: IIN and DRN (with its check digit); the PAN is derived.

    Build it with :meth:`parse`, which checks every digit.
    """

    iin: str
    drn: str

    @classmethod
    def parse(cls, iin: str | None, drn: str) -> MeterIdentity:
        """Validate and build.  ``iin`` None picks 600727 for 11 digits, 0000 for 13."""
        # Strings of ASCII digits only: an int would lose leading zeros, and padding, signs
        # or other scripts' digits are typing slips, not meter numbers.
        if not isinstance(drn, str) or not drn.isascii() or not drn.isdigit():
            raise IdentityError(f"drn must be decimal digits, got {drn!r}")
        if len(drn) not in (11, 13):
            raise IdentityError(f"drn must be 11 or 13 digits, got {len(drn)}")
        if iin is None:
            iin = IIN_STS if len(drn) == 11 else IIN_FOUR_DIGIT_MFR
        if not isinstance(iin, str):
            raise IdentityError(f"iin must be decimal digits, got {iin!r}")
        if len(drn) == 13 and iin != IIN_FOUR_DIGIT_MFR:
            raise IdentityError(f"a 13-digit drn needs iin 0000, got iin {iin!r}")
        if not iin.isascii() or not iin.isdigit() or len(iin) + len(drn) != 17:
            raise IdentityError(
                f"iin {iin!r} with a {len(drn)}-digit drn does not make an 18-digit PAN"
            )
        expected = luhn_check_digit(drn[:-1])
        if ord(drn[-1]) - 48 != expected:
            raise CheckDigitError(
                f"drn check digit is wrong: {drn} should end in {expected}"
            )
        return cls(iin, drn)

    @property
    def manufacturer_code(self) -> int:
        """The 2- or 4-digit manufacturer code at the start of the DRN."""
        return int(self.drn[: len(self.drn) - 9])

    @property
    def pan(self) -> str:
        """The 18-digit meter PAN: IIN || DRN || PAN check digit."""
        body = self.iin + self.drn
        return body + str(luhn_check_digit(body))

    def __str__(self) -> str:
        return self.drn
