"""Typed constructors for every token type: the small public API over :mod:`stsvend.sts.codec`.

Each function takes the decoder key, the token's meaning in the standard's terms, and the TID and
RND as explicit parameters (no clock, no randomness here: the vending services supply both).

>>> from stsvend.sts.codec import decode_token
>>> from stsvend.sts.keys import DecoderKey
>>> key = DecoderKey.from_hex("0abc12def3456789")
>>> token = credit_token(key, Resource.ELECTRICITY, 256, tid=100, rnd=5)
>>> decode_token(token, key).fields["amount_field"]
256
>>> len(key_change_tokens(key, DecoderKey.from_hex("1122334455667788"),
...                       KeyData(sgc=123456, ti=2, krn=1, key_type=2)))
2
"""

from __future__ import annotations

import enum

from stsvend.errors import FieldRangeError, KeyMaterialError
from stsvend.sts.amount import encode_amount, encode_currency_amount
from stsvend.sts.codec import encode_token
from stsvend.sts.keys import DecoderKey, KeyData
from stsvend.sts.layouts import (
    CreditSubclass,
    KeySource,
    ManagementSubclass,
    TestSubclass,
    TokenClass,
    key_sections,
)

__all__ = [
    "ClearRegister",
    "Resource",
    "clear_credit_token",
    "clear_tamper_token",
    "credit_token",
    "currency_credit_token",
    "key_change_tokens",
    "max_power_limit_token",
    "phase_unbalance_limit_token",
    "tariff_rate_token",
    "test_token",
    "water_meter_factor_token",
]


class Resource(enum.IntEnum):
    """The resource of a credit token: its class 0 subclass (the currency form adds 4)."""

    ELECTRICITY = CreditSubclass.ELECTRICITY  #: 0.1 kWh
    WATER = CreditSubclass.WATER  #: 0.1 m³
    GAS = CreditSubclass.GAS  #: 0.1 m³
    TIME = CreditSubclass.TIME  #: 0.1 min

    @property
    def currency_subclass(self) -> int:
        return CreditSubclass[f"{self.name}_CURRENCY"]


class ClearRegister(enum.IntEnum):
    """Register selectors of the clear credit token (class 2 subclass 1)."""

    ELECTRICITY = 0x0000
    WATER = 0x0001
    GAS = 0x0002
    TIME = 0x0003
    ELECTRICITY_CURRENCY = 0x0004
    WATER_CURRENCY = 0x0005
    GAS_CURRENCY = 0x0006
    TIME_CURRENCY = 0x0007
    ALL = 0xFFFF


def credit_token(key: DecoderKey, resource: Resource, amount: int, *, tid: int, rnd: int) -> str:
    """Class 0 credit in tenths of the resource's unit; the amount is rounded up to encodable."""
    return encode_token(
        TokenClass.TRANSFER_CREDIT,
        CreditSubclass(resource),
        {"rnd": rnd, "tid": tid, "amount_field": encode_amount(amount)},
        key,
    )


def currency_credit_token(key: DecoderKey, resource: Resource, amount: int, *, tid: int) -> str:
    """Class 0 currency credit (subclasses 4–7) in 0.00001 of the currency unit, signed."""
    field, se = encode_currency_amount(amount)
    return encode_token(
        TokenClass.TRANSFER_CREDIT,
        CreditSubclass(Resource(resource).currency_subclass),
        {"se": se, "tid": tid, "amount_field": field},
        key,
    )


def _management(
    key: DecoderKey, subclass: ManagementSubclass, value: int, tid: int, rnd: int
) -> str:
    return encode_token(
        TokenClass.METER_MANAGEMENT, subclass, {"rnd": rnd, "tid": tid, "amount_field": value}, key
    )


def max_power_limit_token(key: DecoderKey, watts: int, *, tid: int, rnd: int) -> str:
    """Class 2/0: set the maximum power limit (watts, coded like an amount, rounded up)."""
    return _management(key, ManagementSubclass.MAX_POWER_LIMIT, encode_amount(watts), tid, rnd)


def clear_credit_token(
    key: DecoderKey, register: ClearRegister | int, *, tid: int, rnd: int
) -> str:
    """Class 2/1: clear one credit register, or all of them (0xFFFF)."""
    return _management(key, ManagementSubclass.CLEAR_CREDIT, int(register), tid, rnd)


def tariff_rate_token(key: DecoderKey, rate: int, *, tid: int, rnd: int) -> str:
    """Class 2/2: set tariff rate (a raw 16-bit field; its meaning is not public)."""
    return _management(key, ManagementSubclass.TARIFF_RATE, rate, tid, rnd)


def clear_tamper_token(key: DecoderKey, *, tid: int, rnd: int) -> str:
    """Class 2/5: clear the tamper condition."""
    return _management(key, ManagementSubclass.CLEAR_TAMPER, 0, tid, rnd)


def phase_unbalance_limit_token(key: DecoderKey, watts: int, *, tid: int, rnd: int) -> str:
    """Class 2/6: set the maximum phase power unbalance limit (watts)."""
    return _management(
        key, ManagementSubclass.PHASE_UNBALANCE_LIMIT, encode_amount(watts), tid, rnd
    )


def water_meter_factor_token(key: DecoderKey, factor: int, *, tid: int, rnd: int) -> str:
    """Class 2/7: set the water meter factor (a raw 16-bit field)."""
    return _management(key, ManagementSubclass.WATER_METER_FACTOR, factor, tid, rnd)


def test_token(
    control: int, manufacturer_code: int = 0, *, four_digit: bool = False, extended: bool = False
) -> str:
    """Class 1 test/display token (not encrypted).  Manufacturer code 0 reaches every meter."""
    subclass = (
        TestSubclass.EXTENDED_READ
        if extended
        else (TestSubclass.TEST_4_DIGIT if four_digit else TestSubclass.TEST_2_DIGIT)
    )
    if extended and four_digit:
        raise FieldRangeError("the extended read token has a 2-digit manufacturer code")
    return encode_token(
        TokenClass.INITIATE_METER_TEST,
        subclass,
        {"control": control, "manufacturer_code": manufacturer_code},
        None,
    )


test_token.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def key_change_tokens(
    current: DecoderKey,
    new: DecoderKey,
    new_data: KeyData,
    *,
    rollover: bool = False,
    with_sgc: bool = False,
) -> tuple[str, ...]:
    """The key change set that moves a meter from ``current`` to ``new`` (clause 6.2.7–6.2.13).

    Every token is encrypted under the meter's current key.  EA07 gives two tokens, or three
    when ``with_sgc`` asks for the optional token carrying the new SGC; EA11 always gives four.
    ``rollover`` sets the RO bit (the new key belongs to the next base date).  The tokens come
    in the order a clerk should enter them.
    """
    if new.ea is not new_data.ea:
        raise KeyMaterialError("the new decoder key's EA differs from the new key data's EA")
    if current.ea is not new.ea:
        raise KeyMaterialError("a key change set cannot change the encryption algorithm")
    sections = key_sections(new.ea.value, with_optional=with_sgc)
    sources = {
        KeySource.KEY: int.from_bytes(new.value, "big"),
        KeySource.KEN: new_data.ken,
        KeySource.SGC: new_data.sgc,
    }
    tokens = []
    for section in sections:
        fields = {p.field: p.take(sources[p.source]) for p in section.parts}
        if section.number == 1:
            fields.update(new_krn=new_data.krn, ro=int(rollover), new_kt=int(new_data.key_type),
                          res=int(any(s.optional for s in sections)))  # fmt: skip
        elif section.number == 2:
            fields["new_ti"] = new_data.ti
        tokens.append(encode_token(TokenClass.METER_MANAGEMENT, section.subclass, fields, current))
    return tuple(tokens)
