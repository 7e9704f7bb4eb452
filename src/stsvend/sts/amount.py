"""Amount fields: the unit-based transfer amount and the signed currency amount.

IEC 62055-41 clause 6.3.6 (see ``docs/sts.md`` §4).  A 16-bit field holds a 2-bit
exponent ``e`` and a 14-bit mantissa ``m``; the value is ``m·10^e + 16384·(10^e − 1)/9``.
Encoding always rounds **up** (in the customer's favour).  The same coding serves the
maximum power limit and the phase unbalance limit, in watts.

Currency amounts (clause 6.3.6.3, class 0 subclasses 4–7) have a sign, a 5-bit exponent and
the same 14-bit mantissa; the three top exponent bits and the sign travel in the RND nibble
("S&E").  The signed value rounds toward +∞: up for credit, down in magnitude for a debit.

>>> encode_amount(20000)
16746
>>> decode_amount(0x416A)
20004
>>> encode_currency_amount(100000)
(24746, 0)
>>> decode_currency_amount(0x60A9, 0b1000)
-99994

Values are integers: tenths of the unit (0.1 kWh, 0.1 m³, 0.1 min), watts, or 0.00001 of
the currency unit.  Never floats.
"""

from __future__ import annotations

from stsvend.errors import AmountError

__all__ = [
    "AMOUNT_MAX",
    "CURRENCY_AMOUNT_MAX",
    "amount_step",
    "decode_amount",
    "decode_currency_amount",
    "encodable_at_most",
    "encode_amount",
    "encode_currency_amount",
]

_MANTISSA = 1 << 14  # 16384

# Offset of band e: 16384·(10^e − 1)/9, i.e. the first value the band represents.
_OFFSETS: tuple[int, ...] = tuple(_MANTISSA * (10**e - 1) // 9 for e in range(32))
_POW10: tuple[int, ...] = tuple(10**e for e in range(32))

#: Largest value a unit amount field represents (0xFFFF → 18 201 624).
AMOUNT_MAX = 16383 * 1000 + _OFFSETS[3]
#: Largest magnitude a currency amount represents (exponent 31, mantissa 16383).
CURRENCY_AMOUNT_MAX = 16383 * _POW10[31] + _OFFSETS[31]


def _band_ceil(value: int, max_exponent: int) -> tuple[int, int]:
    """Return (e, m) of the smallest representable value >= ``value`` (value >= 0)."""
    for e in range(max_exponent + 1):
        step = _POW10[e]
        # ceil((value - offset) / step), exact integer arithmetic
        m = -((_OFFSETS[e] - value) // step)
        if m < _MANTISSA:
            return e, max(m, 0)
    raise AmountError(f"amount {value} is above the largest encodable value")


def _band_floor(value: int, max_exponent: int) -> tuple[int, int]:
    """Return (e, m) of the largest representable value <= ``value`` (value >= 0)."""
    for e in range(max_exponent, -1, -1):
        if value >= _OFFSETS[e]:
            m = (value - _OFFSETS[e]) // _POW10[e]
            return e, min(m, _MANTISSA - 1)
    raise AssertionError("unreachable: band 0 starts at 0")  # pragma: no cover


def encode_amount(value: int) -> int:
    """Encode a unit amount (tenths of the unit, or watts) into its 16-bit field, rounding up.

    >>> hex(encode_amount(16384)), hex(encode_amount(180223)), hex(encode_amount(AMOUNT_MAX))
    ('0x4000', '0x8000', '0xffff')
    """
    if type(value) is not int:  # bool and float are refused: amounts are exact integers
        raise AmountError(f"transfer amount must be an integer, got {value!r}")
    if value < 0:
        raise AmountError(f"transfer amount is negative ({value})")
    if value > AMOUNT_MAX:
        raise AmountError(
            f"transfer amount cannot be encoded: {value} is above the maximum {AMOUNT_MAX}"
        )
    if value < _MANTISSA:  # fast path: band 0 is exact
        return value
    e, m = _band_ceil(value, 3)
    return (e << 14) | m


def decode_amount(field: int) -> int:
    """Value represented by a 16-bit amount field.

    >>> decode_amount(0xC000)
    1818624
    """
    if not 0 <= field <= 0xFFFF:
        raise AmountError(f"amount field {field} is outside 16 bits")
    e = field >> 14
    return (field & 0x3FFF) * _POW10[e] + _OFFSETS[e]


def encodable_at_most(value: int) -> int:
    """The largest encodable unit amount <= ``value`` (so that a ledger equals its token).

    >>> encodable_at_most(20009)
    20004
    >>> encodable_at_most(10**9) == AMOUNT_MAX
    True
    """
    if value < 0:
        raise AmountError(f"transfer amount is negative ({value})")
    e, m = _band_floor(min(value, AMOUNT_MAX), 3)
    return m * _POW10[e] + _OFFSETS[e]


def amount_step(value: int) -> int:
    """The step (resolution) of the band that holds ``value``: 1, 10, 100 or 1000."""
    e, _ = _band_floor(min(max(value, 0), AMOUNT_MAX), 3)
    return _POW10[e]


def encode_currency_amount(value: int) -> tuple[int, int]:
    """Encode a signed currency amount (0.00001 units) into (16-bit field, S&E nibble).

    Positive values round up, negative values round toward zero in magnitude (the signed
    value always rounds toward +∞).

    >>> encode_currency_amount(-100000)
    (24745, 8)
    """
    if type(value) is not int:
        raise AmountError(f"currency amount must be an integer, got {value!r}")
    negative = value < 0
    magnitude = -value if negative else value
    if magnitude > CURRENCY_AMOUNT_MAX:
        raise AmountError(f"currency amount cannot be encoded: |{value}| is too large")
    e, m = _band_floor(magnitude, 31) if negative else _band_ceil(magnitude, 31)
    se = (int(negative) << 3) | (e >> 2)
    return ((e & 0b11) << 14) | m, se


def decode_currency_amount(field: int, se: int) -> int:
    """Signed value of a currency amount field and its S&E nibble."""
    if not 0 <= field <= 0xFFFF:
        raise AmountError(f"amount field {field} is outside 16 bits")
    if not 0 <= se <= 0xF:
        raise AmountError(f"sign-and-exponent nibble {se} is outside 4 bits")
    e = ((se & 0b111) << 2) | (field >> 14)
    magnitude = (field & 0x3FFF) * _POW10[e] + _OFFSETS[e]
    return -magnitude if se & 0b1000 else magnitude
