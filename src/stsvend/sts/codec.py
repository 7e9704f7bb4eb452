"""Token codec: fields ⇄ 64-bit block ⇄ encrypted block ⇄ 20 digits.

One path serves every token type (IEC 62055-41 clause 6.2 / 6.3; ``docs/sts.md`` §1):

1. pack the layout's fields into the 48 bits above the CRC (subclass in bits 63..60);
2. CRC over class || payload (CRC_C for currency tokens) into bits 15..0;
3. encrypt with the decoder key (class 1 is sent in clear);
4. class-bit transposition: the class goes into bits 28/27, the bits it displaces into 65/64;
5. the 66-bit number as 20 decimal digits.

Decoding runs the same steps backwards and refuses a token whose CRC does not match.

>>> from stsvend.sts.keys import DecoderKey
>>> key = DecoderKey.from_hex("0abc12def3456789")
>>> token = encode_token(0, 0, {"rnd": 5, "tid": 100, "amount_field": 256}, key)
>>> decode_token(token, key).fields
{'rnd': 5, 'tid': 100, 'amount_field': 256}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from stsvend.errors import (
    CrcError,
    FieldRangeError,
    TidError,
    TokenFormatError,
    UnsupportedTokenError,
)
from stsvend.sts.crc import token_crc, token_crc_c
from stsvend.sts.keys import DecoderKey
from stsvend.sts.layouts import CRC_C_TYPES, Layout, TokenClass, layout_for

__all__ = [
    "TOKEN_MAX",
    "DecodedToken",
    "block_to_digits",
    "decode_token",
    "digits_to_block",
    "encode_token",
    "pack_fields",
    "unpack_fields",
]

#: Every token is below 2**66.
TOKEN_MAX = (1 << 66) - 1
_BIT27_28 = (1 << 27) | (1 << 28)
_TEST = int(TokenClass.INITIATE_METER_TEST)
_MANAGEMENT = int(TokenClass.METER_MANAGEMENT)
_RESERVED = int(TokenClass.RESERVED)


def block_to_digits(token_class: int, block: int) -> str:
    """Class-bit transposition (clause 6.2.1): the 20-digit token of a class and (encrypted) block.

    >>> block_to_digits(1, 1 << 27)  # block bit 27 moves to bit 64, class 1 takes its place
    '18446744073843769344'
    """
    displaced = (block >> 27) & 0b11
    value = (block & ~_BIT27_28) | ((token_class & 0b11) << 27) | (displaced << 64)
    return f"{value:020d}"


def digits_to_block(token: str) -> tuple[int, int]:
    """The (class, encrypted block) of a 20-digit token; refuses anything else."""
    text = token.replace(" ", "").replace("-", "") if isinstance(token, str) else token
    if not isinstance(text, str) or len(text) != 20 or not text.isascii() or not text.isdigit():
        raise TokenFormatError(f"a token is 20 decimal digits, got {token!r}")
    value = int(text)
    if value > TOKEN_MAX:
        raise TokenFormatError(f"{text} is not a token: it is not below 2**66")
    token_class = (value >> 27) & 0b11
    block = (value & ((1 << 64) - 1) & ~_BIT27_28) | (((value >> 64) & 0b11) << 27)
    return token_class, block


def pack_fields(layout: Layout, fields: Mapping[str, int]) -> int:
    """The 48-bit payload (block bits 63..16) of a layout's fields, range-checked."""
    payload = layout.subclass << 44
    for f in layout.fields:
        if f.fixed is not None:
            value = f.fixed
        else:
            try:
                value = fields[f.name]
            except KeyError:
                raise FieldRangeError(f"field {f.name} is missing for {layout.name}") from None
            if type(value) is not int:
                raise FieldRangeError(f"{f.name} must be an integer, got {value!r}")
            if not 0 <= value <= f.max:
                error = TidError if f.name == "tid" else FieldRangeError
                raise error(f"{f.name} is outside {f.width} bits ({value})")
        payload |= value << (f.lsb - 16)
    return payload


def unpack_fields(layout: Layout, block: int) -> dict[str, int]:
    """The fields of a plain 64-bit block; fixed padding must hold its value."""
    out: dict[str, int] = {}
    for f in layout.fields:
        value = (block >> f.lsb) & f.max
        if f.fixed is not None:
            if value != f.fixed:
                raise TokenFormatError(f"{layout.name}: reserved bits are not {f.fixed}")
            continue
        out[f.name] = value
    return out


def _ea_code(key: DecoderKey | None) -> str | None:
    return None if key is None else key.ea.value


def encode_token(
    token_class: int, subclass: int, fields: Mapping[str, int], key: DecoderKey | None
) -> str:
    """Encode a token from its raw fields.  ``key`` is None only for class 1 (not encrypted)."""
    layout = layout_for(token_class, subclass, _ea_code(key))
    payload = pack_fields(layout, fields)
    crc = (token_crc_c if layout.crc_c else token_crc)(token_class, payload)
    block = (payload << 16) | crc
    if layout.encrypted:
        if key is None:
            raise UnsupportedTokenError(f"{layout.name} tokens are encrypted: a key is needed")
        block = key.encrypt_block(block)
    return block_to_digits(token_class, block)


@frozen
class DecodedToken:
    """What a token carries, after decryption and CRC check."""

    token_class: int
    subclass: int
    fields: dict[str, int]
    layout: Layout
    #: The plain 64-bit block (CRC included).
    block: int

    @property
    def name(self) -> str:
        return self.layout.name

    def as_dict(self) -> dict[str, Any]:
        return {"token_class": self.token_class, "subclass": self.subclass, "fields": self.fields}


def decode_token(token: str, key: DecoderKey | None) -> DecodedToken:
    """Decode a 20-digit token with a decoder key (None is fine for class 1 tokens)."""
    token_class, block = digits_to_block(token)
    if token_class == _RESERVED:
        raise UnsupportedTokenError("class 3 is reserved")
    if token_class != _TEST:
        if key is None:
            raise UnsupportedTokenError(f"class {token_class} tokens are encrypted; give a key")
        block = key.decrypt_block(block)
    subclass = block >> 60
    payload = block >> 16
    crc_fn = token_crc_c if (token_class, subclass) in CRC_C_TYPES else token_crc
    if crc_fn(token_class, payload) != block & 0xFFFF:
        raise CrcError()
    layout = layout_for(
        token_class, subclass, _ea_code(key) if token_class == _MANAGEMENT else None
    )
    return DecodedToken(token_class, subclass, unpack_fields(layout, block), layout, block)
